import { ORCHESTRATORS, runOrchestratedBatch, type Orchestrator } from '../core/runs/workers/orchestratedBatch';
import type { CoreServices } from '../core/services';
import { SessionManager } from '../core/session/sessionManager';
import type { SessionSettings } from '../core/settings';
import type { WorkerBatchRecord } from '../core/runs/workers/workerBatch';
import { batchFlags, batchResultJson, interruptible, lineProgressTo, metricsSection, type FlowFlags } from './flowCommands';
import { CliOutput, EXIT, UsageError } from './output';

export interface WorkerBatchFlags extends FlowFlags {
  on?: string;
  replicas?: string;
  registry?: string;
  'coordinator-host'?: string;
  listen?: string;
  port?: string;
  manifests?: string;
  namespace?: string;
  apply?: boolean;
}

export function parseOrchestrator(value: string): Orchestrator {
  if (!(ORCHESTRATORS as readonly string[]).includes(value)) throw new UsageError(`--on takes ${ORCHESTRATORS.join(', ')}; not '${value}'`);
  return value as Orchestrator;
}

function parseReplicas(value: string | undefined): number {
  const n = Number(value ?? '2');
  if (!Number.isInteger(n) || n < 1 || n > 1000) throw new UsageError('--replicas takes a whole number from 1 to 1000');
  return n;
}

function parsePort(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 65535) throw new UsageError('--port takes a TCP port (1-65535)');
  return n;
}

/** What a batch on workers prints: as a local batch (summary, metrics, output), with what ended it and each worker's share. */
export function workerBatchText(record: WorkerBatchRecord): string {
  const error = record.error ? `\n${record.error.code}: ${record.error.message}` : '';
  const perWorker = record.workers.map((w) => `${w.name}: ${w.lines} lines${w.left ? ` (left: ${w.left})` : ''}`).join('\n');
  return `${record.summary}${error}${metricsSection(record)}\n${perWorker}\noutput: ${record.outputFile}`;
}

/**
 * `flowsession batch <flow> --data f.jsonl --on swarm|kubernetes|containers --replicas N`: the lines run on
 * workers an orchestrator starts; this process is their coordinator, and its own session (on the engine of
 * --docker-host) builds the environment image and runs the aggregation nodes.
 */
export async function runWorkerBatchCommand(
  services: CoreServices,
  settings: SessionSettings,
  env: NodeJS.ProcessEnv,
  out: CliOutput,
  flowDir: string | undefined,
  flags: WorkerBatchFlags,
): Promise<number> {
  const on = parseOrchestrator(flags.on ?? '');
  const { flowDir: dir, ...batch } = batchFlags(flowDir, flags);
  if (batch.baseRun) throw new UsageError('--run (an evaluation batch) does not combine with --on yet; run it in one session');
  const replicas = parseReplicas(flags.replicas);
  const port = parsePort(flags.port);
  await services.engine.ping(5000);
  return interruptible(async (signal) => {
    const record = await runOrchestratedBatch(services.engine, services.manager, dir, {
      ...batch,
      on,
      signal,
      replicas,
      port,
      registry: flags.registry ?? env.FLOWSESSION_REGISTRY ?? '',
      coordinatorHost: flags['coordinator-host'],
      listenHost: flags.listen,
      kubernetes: { file: flags.manifests, namespace: flags.namespace, apply: !!flags.apply },
      labels: settings.extraLabels,
      cpus: settings.cpus,
      memoryMb: settings.memoryMb,
      log: (l) => out.progress(l),
      onProgress: (r) => {
        const line = SessionManager.describeProgress(r);
        if (line) out.progress(line);
      },
      onLaunched: (spec) => out.progress(`${replicas} workers asked of ${on} (image ${spec.image}); coordinator at ${spec.coordinator}`),
      onWorker: (e) => {
        if (e.kind === 'joined') out.progress(`[${e.worker}] joined`);
        else if (e.kind === 'refused') out.progress(`a connection from ${e.worker} was refused: ${e.message}`);
        else if (e.kind === 'left') out.progress(`[${e.worker}] left: ${e.message}`);
        else if (e.kind === 'expired') out.progress(`[${e.worker}] went silent: ${e.lines} lines go to the other workers`);
        else if (e.kind === 'requeued') out.progress(`[${e.worker}] ${e.lines} unfinished lines go to the other workers`);
      },
      onLine: lineProgressTo(out),
    });
    out.result(
      { ...batchResultJson(record), on, replicas, workers: record.workers, requeued: record.requeued, durationMs: record.durationMs },
      workerBatchText(record),
    );
    return record.status === 'Completed' ? EXIT.ok : EXIT.failed;
  });
}
