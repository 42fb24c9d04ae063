import { findRunFolder } from '../core/runs/baseRun';
import { readMetrics } from '../core/runs/runStore';
import type { RunMetrics } from '../core/runtime/protocol';
import { CliOutput, EXIT, UsageError } from './output';

/** Metrics as lines `name: value`, or a note that there are none. */
export function metricsText(metrics: RunMetrics | undefined): string {
  const entries = Object.entries(metrics ?? {});
  return entries.length ? entries.map(([k, v]) => `${k}: ${v}`).join('\n') : 'no metrics logged';
}

/** `flowsession run show-metrics <run id or run folder>`: the run's metrics.json, as `pf run show-metrics` prints it. */
export async function runShowMetrics(out: CliOutput, ref: string | undefined): Promise<number> {
  if (!ref) throw new UsageError('run show-metrics needs a run id or a run folder');
  const dir = findRunFolder(ref);
  const metrics = await readMetrics(dir);
  out.result(metrics, JSON.stringify(metrics, null, 2));
  return EXIT.ok;
}
