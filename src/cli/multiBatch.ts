import { runMultiEngineBatch, type BatchEngine } from '../core/runs/multiEngineBatch';
import { SessionManager } from '../core/session/sessionManager';
import { batchFlags, batchResultJson, interruptible, lineProgressTo, type FlowFlags } from './flowCommands';
import { CliOutput, EXIT, UsageError } from './output';

export { openEngines } from '../core/runs/batchEngines';

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
): Promise<number> {
  const { flowDir: dir, ...batch } = batchFlags(flowDir, flags);
  if (batch.baseRun) throw new UsageError('--run (an evaluation batch) does not combine with --engines yet; run it on one engine');
  try {
    return await interruptible(async (signal) => {
      const record = await runMultiEngineBatch(dir, engines, {
        ...batch,
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
        onLine: lineProgressTo(out),
      });
      const perEngine = record.engines.map((s) => `${s.name}: ${s.lines} lines${s.error ? ` (left: ${s.error})` : ''}`).join('\n');
      out.result(
        {
          ...batchResultJson(record),
          engines: record.engines,
          requeued: record.requeued,
          aggregationEngine: record.aggregationEngine ?? null,
        },
        `${record.summary}${record.error ? `\n${record.error.code}: ${record.error.message}` : ''}\n${perEngine}\noutput: ${record.outputFile}`,
      );
      return record.status === 'Completed' ? EXIT.ok : EXIT.failed;
    });
  } finally {
    for (const e of engines) e.manager.dispose();
  }
}
