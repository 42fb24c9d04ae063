/** Mode B's extension: the real .vsix, packaged from the built tree and installed into a fresh extensions dir. */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { hermeticEnv } from './server';
import { REPO_ROOT, requireInstalled } from './paths';

function run(cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; log: string }): void {
  const r = spawnSync(cmd, args, { cwd: opts.cwd, env: opts.env, encoding: 'utf8' });
  fs.appendFileSync(opts.log, `$ ${cmd} ${args.join(' ')}\n${r.stdout ?? ''}${r.stderr ?? ''}\n`);
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`${path.basename(cmd)} ${args.join(' ')} failed (${r.status}):\n${r.stdout}${r.stderr}`);
}

/** vsce package --no-dependencies (the extension must be built: dist/extension.js). Returns the .vsix path. */
export function packageExtension(runDir: string, extensionDir = REPO_ROOT): string {
  const main = path.join(extensionDir, 'dist', 'extension.js');
  if (extensionDir === REPO_ROOT && !fs.existsSync(main)) throw new Error(`${main} is missing: run \`npm run build\` first`);
  const out = path.join(runDir, extensionDir === REPO_ROOT ? 'flowsession.vsix' : `${path.basename(extensionDir)}.vsix`);
  const vsce = path.join(REPO_ROOT, 'node_modules', '.bin', 'vsce');
  run(vsce, ['package', '--no-dependencies', '-o', out], { cwd: extensionDir, log: path.join(runDir, 'package.log') });
  return out;
}

/** code-server --install-extension into extensionsDir (created fresh when missing). */
export function installVsix(vsix: string, extensionsDir: string, runDir: string): void {
  const tools = requireInstalled();
  fs.mkdirSync(extensionsDir, { recursive: true });
  const env = hermeticEnv(runDir, { PATH: `${tools.nodeBin}${path.delimiter}${process.env.PATH ?? ''}`, EXTENSIONS_GALLERY: '{}' });
  run(
    tools.node,
    [
      tools.codeServerEntry,
      '--user-data-dir',
      path.join(runDir, 'server', 'user-data'),
      '--extensions-dir',
      extensionsDir,
      '--install-extension',
      vsix,
      '--force',
    ],
    {
      env,
      log: path.join(runDir, 'package.log'),
    },
  );
}

/** Packages the repo's extension once per process (the build does not change during a test run). */
let packaged: string | undefined;
export function packagedExtension(runDir: string): string {
  if (!packaged || !fs.existsSync(packaged)) packaged = packageExtension(runDir);
  return packaged;
}
