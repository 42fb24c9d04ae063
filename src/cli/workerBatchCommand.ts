import * as path from 'path';
import { SwarmServices } from '../core/docker/swarmServices';
import { publishCustomImage, publishTarget } from '../core/image/customImage';
import { splitImageRef } from '../core/imageRef';
import { runFolder } from '../core/runs/runStore';
import { newRunId } from '../core/runs/runId';
import { ContainerWorkers } from '../core/runs/workers/containerWorkers';
import { KubernetesWorkers } from '../core/runs/workers/kubernetesWorkers';
import { SwarmWorkers } from '../core/runs/workers/swarmWorkers';
import { runWorkerBatch, type WorkerLauncher } from '../core/runs/workers/workerBatch';
import { resolveFlowDir } from '../core/flow/environment';
import type { CoreServices } from '../core/services';
import { SessionManager } from '../core/session/sessionManager';
import type { SessionSettings } from '../core/settings';
import { batchFlags, batchResultJson, interruptible, lineProgressTo, type FlowFlags } from './flowCommands';
import { CliOutput, EXIT, UsageError } from './output';

export const ORCHESTRATORS = ['swarm', 'kubernetes', 'containers'] as const;
export type Orchestrator = (typeof ORCHESTRATORS)[number];

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

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\./.test(host);
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
  const { flowDir: given, ...batch } = batchFlags(flowDir, flags);
  if (batch.baseRun) throw new UsageError('--run (an evaluation batch) does not combine with --on yet; run it in one session');
  const replicas = parseReplicas(flags.replicas);
  const port = parsePort(flags.port);
  const registry = (flags.registry ?? env.FLOWSESSION_REGISTRY ?? '').replace(/\/+$/, '');
  const advertiseHost = flags['coordinator-host'] ?? '127.0.0.1';
  const listenHost = flags.listen ?? (isLoopback(advertiseHost) ? advertiseHost : '0.0.0.0');
  if (on === 'kubernetes' && !registry)
    throw new UsageError('--on kubernetes needs --registry <host[/path]> the cluster pulls the environment image from');
  if (on === 'kubernetes' && isLoopback(advertiseHost))
    throw new UsageError('--on kubernetes needs --coordinator-host <address the pods reach this machine at>');
  const { engine, manager } = services;
  await engine.ping(5000);
  const dir = resolveFlowDir(given);
  const runId = newRunId(dir, 'batch');

  let swarm: SwarmServices | undefined;
  if (on === 'swarm') {
    swarm = new SwarmServices(engine.endpoint);
    const { nodes } = await swarm.requireManager();
    if (nodes > 1 && !registry)
      throw new UsageError(`the swarm has ${nodes} nodes: give --registry <host[/path]> they all pull the environment image from`);
  }
  // the coordinator's own session: builds (or finds) the environment image, and runs the aggregation nodes
  const status = await manager.up(dir, (r) => {
    const line = SessionManager.describeProgress(r);
    if (line) out.progress(line);
  });
  let image = status.image!;
  if (registry) {
    const target = publishTarget(image, registry, splitImageRef(image).tag || 'latest');
    out.progress(`pushing ${target}`);
    image = (await publishCustomImage(engine, image, target, true)).ref;
  }
  const labels = settings.extraLabels;
  let launcher: WorkerLauncher;
  if (on === 'swarm') launcher = new SwarmWorkers(swarm!, { labels });
  else if (on === 'containers') launcher = new ContainerWorkers(engine, { networkMode: 'host', labels });
  else
    launcher = new KubernetesWorkers({
      apply: !!flags.apply,
      file: path.resolve(flags.manifests ?? path.join(runFolder(dir, runId), 'kubernetes.yaml')),
      namespace: flags.namespace,
      log: (l) => out.progress(l),
    });

  return interruptible(async (signal) => {
    const record = await runWorkerBatch(dir, {
      ...batch,
      runId,
      signal,
      image,
      replicas,
      launcher,
      listenHost,
      advertiseHost,
      port,
      aggregationSession: manager,
      cpus: settings.cpus,
      memoryMb: settings.memoryMb,
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
    const perWorker = record.workers.map((w) => `${w.name}: ${w.lines} lines${w.left ? ` (left: ${w.left})` : ''}`).join('\n');
    out.result(
      { ...batchResultJson(record), on, replicas, workers: record.workers, requeued: record.requeued },
      `${record.summary}${record.error ? `\n${record.error.code}: ${record.error.message}` : ''}\n${perWorker}\noutput: ${record.outputFile}`,
    );
    return record.status === 'Completed' ? EXIT.ok : EXIT.failed;
  });
}
