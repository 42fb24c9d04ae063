/**
 * Metrics of runs side by side, as the session panel shows them: one column per picked run (in the order of the
 * history, newest first), one row per metric any of them logged, a blank where a run did not log it. Pure and free
 * of Node modules: the webview bundles it.
 */
import type { RunSummary } from './protocol';

export interface MetricsTable {
  runs: { runId: string; variants?: Record<string, string> }[];
  rows: { metric: string; values: (number | undefined)[] }[];
}

/** at most this many runs side by side: beyond it a table is no longer read */
export const MAX_COMPARED_RUNS = 8;

/** The runs of the history that have metrics. */
export function runsWithMetrics(history: RunSummary[]): RunSummary[] {
  return history.filter((r) => r.metrics && Object.keys(r.metrics).length > 0);
}

export function metricsTable(history: RunSummary[], picked: string[]): MetricsTable {
  const runs = runsWithMetrics(history)
    .filter((r) => picked.includes(r.runId))
    .slice(0, MAX_COMPARED_RUNS);
  const names = [...new Set(runs.flatMap((r) => Object.keys(r.metrics ?? {})))].sort();
  return {
    runs: runs.map((r) => ({ runId: r.runId, ...(r.variants ? { variants: r.variants } : {}) })),
    rows: names.map((metric) => ({ metric, values: runs.map((r) => r.metrics?.[metric]) })),
  };
}

/** A metric's value as the panel prints it: up to 4 decimals, no trailing zeros. */
export function formatMetric(v: number | undefined): string {
  if (v === undefined) return '';
  return Number.isInteger(v) ? String(v) : String(Number(v.toFixed(4)));
}

/** `node=variant` pairs, for a run's variants in one line. */
export function formatVariants(variants: Record<string, string> | undefined): string {
  return Object.entries(variants ?? {})
    .map(([node, id]) => `${node}=${id}`)
    .join(', ');
}
