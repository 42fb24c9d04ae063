/**
 * Runs side by side, as the panel's history compares them: per run its status, time, duration, tokens, metrics
 * and variants, and its lines (a single run has one) with inputs and outputs. The host reads the run folders
 * (src/core/runs/runComparison.ts); values are already cut to a size the webview can show.
 */
import type { TokenUsage } from './trace';

export interface ComparedLine {
  /** the line number (0 for a single run) */
  index: number;
  status?: string;
  inputs?: Record<string, unknown>;
  outputs?: Record<string, unknown>;
  error?: string;
}

export interface ComparedRun {
  runId: string;
  kind: 'run' | 'batch';
  status: string;
  /** ISO time */
  time?: string;
  durationMs?: number;
  tokens?: TokenUsage;
  metrics: Record<string, number>;
  variants: Record<string, string>;
  lines: ComparedLine[];
  /** lines of a long batch left out */
  linesOmitted: number;
  /** why the run could not be read */
  problem?: string;
}

export interface ComparisonView {
  runs: ComparedRun[];
}

export const COMPARE_LIMITS = {
  minRuns: 2,
  maxRuns: 6,
  /** lines shown per batch */
  lines: 200,
  /** characters of one input or output value */
  valueChars: 4000,
} as const;

/** Every line number any of the runs has, in order: the rows of the side-by-side table. */
export function lineNumbers(view: ComparisonView): number[] {
  return [...new Set(view.runs.flatMap((r) => r.lines.map((l) => l.index)))].sort((a, b) => a - b);
}

/** Every metric name any of the runs logged, sorted. */
export function metricNames(view: ComparisonView): string[] {
  return [...new Set(view.runs.flatMap((r) => Object.keys(r.metrics)))].sort();
}
