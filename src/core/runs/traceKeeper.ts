/**
 * Where a run's spans go once it ended: trace.json in its folder (through the run store) and, with an endpoint,
 * an OTLP/HTTP collector. Shared by single runs, batches and batches over several engines.
 */
import * as path from 'path';
import type { TraceSpan } from '../runtime/protocol';
import { addTokens, traceTotals, type TokenUsage } from '../../shared/trace';
import { MAX_BATCH_SPANS, type BatchTraceFile } from './batchTraceFile';
import { exportOtlp, traceResource } from './otlp';
import { readTrace, writeTrace } from './runStore';

/** Where a run's spans go besides its folder. */
export interface TracingOptions {
  /** an OTLP/HTTP collector (e.g. http://127.0.0.1:4318); empty: no export */
  otlpEndpoint?: string;
}

/**
 * Whether a run records spans: unless its caller said no, or prompt flow's PF_DISABLE_TRACING=true is set where it
 * was started (the CLI's environment, the editor's). The runtime honours the same variable in the flow's
 * environment_variables and in the session's environment.
 */
export function tracingWanted(asked: boolean | undefined, env: NodeJS.ProcessEnv): boolean {
  return asked !== false && env.PF_DISABLE_TRACING?.trim().toLowerCase() !== 'true';
}

export interface KeptTrace {
  /** trace.json, when there were spans */
  file?: string;
  /** the run's token totals, when there were spans */
  tokens?: TokenUsage;
  /** what to show as warnings (an export that failed never fails the run) */
  warnings: string[];
}

/** A batch's spans as its lines end, up to MAX_BATCH_SPANS. */
export class SpanCollector {
  readonly spans: TraceSpan[] = [];
  dropped = 0;

  add(spans: readonly TraceSpan[] | undefined): void {
    for (const s of spans ?? []) {
      if (this.spans.length < MAX_BATCH_SPANS) this.spans.push(s);
      else this.dropped++;
    }
  }
}

/** Writes the spans to the run's trace.json and exports them when an endpoint is set. */
export async function keepTrace(dir: string, runId: string, spans: TraceSpan[], tracing: TracingOptions, dropped = 0): Promise<KeptTrace> {
  const warnings: string[] = [];
  if (spans.length === 0) return { warnings };
  const resource = traceResource(dir, runId);
  const file = await writeTrace(dir, runId, spans, resource);
  if (dropped > 0) warnings.push(`The trace keeps the first ${spans.length} spans; ${dropped} more were left out.`);
  const endpoint = tracing.otlpEndpoint?.trim();
  if (endpoint) {
    const failed = await exportOtlp(endpoint, spans, resource);
    if (failed) warnings.push(failed);
  }
  return { file, tokens: traceTotals(spans).run, warnings };
}

/**
 * Writes a batch's trace.json from its own spans (root, aggregation) and the lines' spans the file took from their
 * records; exports them when an endpoint is set (read back from the file: the export is the rare case, the file the
 * common).
 */
export async function keepBatchTrace(traceFile: BatchTraceFile, spans: TraceSpan[], tracing: TracingOptions): Promise<KeptTrace> {
  const warnings: string[] = [];
  const file = await traceFile.finish(spans);
  if (!file) return { warnings };
  if (traceFile.leftOut) warnings.push(`The trace keeps the first ${MAX_BATCH_SPANS} spans of the lines; the rest were left out.`);
  if (traceFile.unreadable) warnings.push(`The trace of ${traceFile.unreadable} line(s) could not be read and was left out.`);
  const endpoint = tracing.otlpEndpoint?.trim();
  if (endpoint) {
    const failed = await exportOtlp(endpoint, await readTrace(path.dirname(file), Infinity), traceFile.resource);
    if (failed) warnings.push(failed);
  }
  return { file, tokens: addTokens(traceFile.tokens, traceTotals(spans).run), warnings };
}
