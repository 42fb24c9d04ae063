// Bundles the extension, the CLI and the webview with esbuild.
import * as esbuild from 'esbuild';
import { copyFile, cp, mkdir, rm } from 'node:fs/promises';
import * as path from 'node:path';

const watch = process.argv.includes('--watch');
// docker-modem requires its ssh transport, and with it ssh2, whatever the engine; ssh2 sets up a WebAssembly module
// as it loads (16 MB of memory reserved, 1.5 MB resident and some 30 ms of every CLI call). Only an ssh:// engine
// needs it: the transport is loaded on the first ssh connection.
const lazySsh = {
  name: 'lazy-ssh',
  setup(build) {
    build.onResolve({ filter: /^\.\/ssh$/ }, (args) =>
      /[\\/]docker-modem[\\/]lib$/.test(args.resolveDir)
        ? { path: path.join(args.resolveDir, 'ssh.js'), namespace: 'lazy-ssh' }
        : undefined,
    );
    build.onLoad({ filter: /.*/, namespace: 'lazy-ssh' }, (args) => ({
      contents: `module.exports = (opt) => require(${JSON.stringify(args.path)})(opt);`,
      resolveDir: path.dirname(args.path),
      loader: 'js',
    }));
  },
};
const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: true,
  minify: !watch,
  logLevel: 'warning',
  // ssh2's optional native addon and cpu-features are not needed: the pure-JS paths are used
  external: ['vscode', 'cpu-features', './crypto/build/Release/sshcrypto.node'],
  plugins: [lazySsh],
};
// Libraries the extension loads on first use (src/core/vendor.ts): each is a file of its own next to the bundle, so
// activation reads only what it needs. The CLI keeps them inline.
const LAZY_LIBRARIES = ['yaml', 'dockerode', 'tar-stream'];
const lazyLibraries = {
  name: 'lazy-libraries',
  setup(build) {
    const filter = new RegExp(`^(${LAZY_LIBRARIES.join('|')})$`);
    build.onResolve({ filter }, (args) => ({ path: `./vendor/${args.path}.js`, external: true }));
  },
};
// Parts of the extension itself loaded on first use (src/core/runs/lazyModules.ts), each bundled into dist/lazy.
const LAZY_MODULES = { recordedSpans: 'src/core/runs/recordedSpans.ts' };
const lazyModules = {
  name: 'lazy-modules',
  setup(build) {
    build.onResolve({ filter: /^\.\/\w+$/ }, (args) => {
      const name = path.basename(args.path);
      return /[\\/]lazyModules\.ts$/.test(args.importer) && name in LAZY_MODULES
        ? { path: `./lazy/${name}.js`, external: true }
        : undefined;
    });
  },
};
const builds = [
  { ...common, entryPoints: { extension: 'src/extension.ts' }, outdir: 'dist', plugins: [lazySsh, lazyLibraries, lazyModules] },
  ...Object.entries(LAZY_MODULES).map(([name, entry]) => ({ ...common, entryPoints: [entry], outfile: `dist/lazy/${name}.js` })),
  ...LAZY_LIBRARIES.map((name) => ({
    ...common,
    stdin: { contents: `module.exports = require(${JSON.stringify(name)});`, resolveDir: '.', loader: 'js' },
    outfile: `dist/vendor/${name}.js`,
  })),
  { ...common, entryPoints: { cli: 'src/cli.ts' }, outdir: 'dist', banner: { js: '#!/usr/bin/env node' } },
  // the session panel's script runs in the webview (a browser), not in Node
  {
    bundle: true,
    platform: 'browser',
    target: 'es2022',
    format: 'iife',
    sourcemap: true,
    minify: !watch,
    logLevel: 'warning',
    entryPoints: { panel: 'src/webview/main.ts' },
    outdir: 'dist/webview',
  },
];
// the toolkit is loaded by the webview as is; a copy in dist/webview goes into the .vsix
await mkdir('dist/webview', { recursive: true });
await copyFile('node_modules/@vscode/webview-ui-toolkit/dist/toolkit.min.js', 'dist/webview/toolkit.min.js');
// "Create Sample Flow" copies the shipped sample; only its own files go (no run results or caches of a local try)
await rm('dist/samples', { recursive: true, force: true });
await cp('samples/hello-flow', 'dist/samples/hello-flow', {
  recursive: true,
  filter: (src) => !/^(\.|__pycache__$)/.test(path.basename(src)),
});
if (watch) {
  for (const b of builds) await (await esbuild.context(b)).watch();
} else {
  await Promise.all(builds.map((b) => esbuild.build(b)));
}
