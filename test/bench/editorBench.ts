import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { world } from '../support/world/world';
import type { Metric } from './report';

/**
 * Save-to-diagnostics in a running editor (code-server, the extension-host suite of the e2e tests): from the
 * save to the diagnostics change event, against the editor's own floor (a baseline extension that sets one
 * diagnostic on save and does nothing else, loaded in the same code-server) plus the validation itself, measured
 * in the same extension host.
 */
export function benchSaveToDiagnostics(): Metric {
  const root = path.resolve(__dirname, '..', '..');
  const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'fs-bench-')), 'save.json');
  const r = spawnSync(
    process.execPath,
    [
      '-r',
      'ts-node/register/transpile-only',
      'test/e2e/harness/cli.ts',
      'test/e2e/suite',
      '--label',
      'bench',
      '--also',
      path.join(root, 'test', 'bench', 'floorExtension'),
    ],
    {
      cwd: root,
      env: { ...process.env, ...world().env, FLOWSESSION_BENCH_OUT: out, TS_NODE_PROJECT: path.join(root, 'tsconfig.json') },
      encoding: 'utf8',
      timeout: 10 * 60_000,
    },
  );
  if (!fs.existsSync(out)) throw new Error(`the editor suite gave no figures (exit ${r.status}): ${(r.stderr || r.stdout).slice(-2000)}`);
  const m = JSON.parse(fs.readFileSync(out, 'utf8')) as {
    save_to_diagnostics_ms: number;
    validate_ms: number;
    floor_ms?: number;
    samples: number;
  };
  if (m.floor_ms === undefined) throw new Error('the editor suite did not measure the baseline extension (is it loaded?)');
  const baseline = m.floor_ms + m.validate_ms;
  return {
    name: 'save_to_diagnostics',
    value_ms: m.save_to_diagnostics_ms,
    baseline_ms: baseline,
    ratio: m.save_to_diagnostics_ms / baseline,
    goal: '<= 1.2',
    note: `median of ${m.samples} saves in code-server; baseline: a do-nothing extension's save-to-diagnostics (${m.floor_ms.toFixed(0)} ms) + the validation called directly (${m.validate_ms.toFixed(0)} ms)`,
  };
}
