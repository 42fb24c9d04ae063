/** Where the end-to-end tools live: the cache of scripts/e2e/install.mjs (same rules, one versions.json). */
import * as fs from 'fs';
import * as path from 'path';

export const REPO_ROOT = path.resolve(__dirname, '..', '..', '..');

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
  // the one definition of the cache layout, shared with the installer
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- a CommonJS module of the scripts, loaded at run time
  return (require(path.join(REPO_ROOT, 'scripts', 'e2e', 'layout.cjs')) as { e2ePaths(): E2EPaths }).e2ePaths();
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
