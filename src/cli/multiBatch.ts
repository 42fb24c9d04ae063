import { runMultiEngineBatch, type BatchEngine } from '../core/runs/multiEngineBatch';
import type { TracingOptions } from '../core/runs/traceKeeper';
import { SessionManager } from '../core/session/sessionManager';
import { batchFlags, batchPerVariant, batchResultJson, interruptible, printBatches, traceNotes, type FlowFlags } from './flowCommands';
import type { MultiEngineBatchRecord } from '../core/runs/multiEngineBatch';
import { CliOutput, EXIT, UsageError } from './output';

export { openEngines } from '../core/batchEngines';

/** `--engines a,b`: context names or engine addresses, each once. */
export function parseEngineList(value: string): string[] {
  const items = value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (items.length === 0) throw new UsageError('--engines takes a comma-separated list of Docker contexts or engine addresses');
  return [...new Set(items)];
}

/** `flowsession batch <flow-dir> --data f.jsonl --engines a,b [--workers N]`: one run over sessions on several engines. */
export async function runMultiBatch(
  engines: BatchEngine[],
  out: CliOutput,
  flowDir: string | undefined,
  flags: FlowFlags,
  tracing: TracingOptions = {},
): Promise<number> {
  const { flowDir: dir, ...batch } = batchFlags(flowDir, flags);
  try {
    return await interruptible(async (signal) => {
      // the same engines (and their sessions) run each variant in turn
      const results = await batchPerVariant(flags, out, (variant, onLine) =>
        runMultiEngineBatch(dir, engines, {
          ...batch,
          ...(variant ? { variant } : {}),
          tracing,
          signal,
          onProgress: (engine, r) => {
            const line = SessionManager.describeProgress(r);
            if (line) out.progress(`[${engine}] ${line}`);
          },
          onEngine: (e) => {
            if (e.kind === 'ready') out.progress(`[${e.engine}] session ready`);
            else if (e.kind === 'failed') out.progress(`[${e.engine}] left the batch: ${e.message}`);
            else if (e.kind === 'requeued') out.progress(`[${e.engine}] ${e.lines} unfinished lines go to the other engines`);
            else if (e.kind === 'aggregation') out.progress(`[${e.engine}] ran the aggregation nodes`);
          },
          onLine,
        }),
      );
      for (const r of results) traceNotes(out, r.record);
      printBatches(out, results, multiResultJson, multiResultText);
      return results.every((r) => r.record.status === 'Completed') ? EXIT.ok : EXIT.failed;
    });
  } finally {
    for (const e of engines) e.manager.dispose();
  }
}

function multiResultJson(record: MultiEngineBatchRecord): Record<string, unknown> {
  return {
    ...batchResultJson(record),
    engines: record.engines,
    requeued: record.requeued,
    aggregationEngine: record.aggregationEngine ?? null,
  };
}

function multiResultText(record: MultiEngineBatchRecord, variant?: string): string {
  const perEngine = record.engines.map((s) => `${s.name}: ${s.lines} lines${s.error ? ` (left: ${s.error})` : ''}`).join('\n');
  const error = record.error ? `\n${record.error.code}: ${record.error.message}` : '';
  return `${variant ? `variant ${variant}: ` : ''}${record.summary}${error}\n${perEngine}\noutput: ${record.outputFile}`;
}
