import * as crypto from 'crypto';
import { FlowSessionError, errorMessage } from '../../errors';
import { resolveFlowDir } from '../../flow/environment';
import { Methods, type BatchResult, type FlowKindFields, type LineEndEvent } from '../../runtime/protocol';
import type { SessionManager } from '../../session/sessionManager';
import { aggregationLists } from '../aggregationLists';
import type { EngineBatchOptions } from '../engineBatchScheduler';
import { dataLines, flowForBatch, keepBatchRecord, notStarted, ranFields, requireDataFile } from '../multiEngineBatch';
import type { BatchRecord } from '../runService';
import { BatchOutput, batchOutputFile, newRunId } from '../runStore';
import { makeBatchCertificate } from './batchCertificate';
import { welcomeFiles } from './welcomeFiles';
import { WorkerCoordinator, type WorkerEvent, type WorkerShare } from './workerCoordinator';
import type { LeaseParams } from './workerProtocol';

/** What a launcher needs to start the workers of one batch. Nothing in it is a connection secret. */
export interface WorkerSpec {
  runId: string;
  image: string;
  /** host:port the workers dial */
  coordinator: string;
  fingerprint: string;
  /** the per-batch token: lets a worker in, unlocks no connection */
  token: string;
  replicas: number;
  cpus?: number;
  memoryMb?: number;
}

/** Starts workers on an orchestrator and removes them again. */
export interface WorkerLauncher {
  /** where the workers run, for progress and the record (`swarm`, `kubernetes`, `containers`) */
  readonly kind: string;
  start(spec: WorkerSpec): Promise<void>;
  /** removes what start() made; called once at the end, on failure and on cancel */
  stop(): Promise<void>;
  /** a problem that ends the batch (every worker task failed), checked every few seconds; undefined while fine */
  check?(): Promise<string | undefined>;
}

export interface WorkerBatchOptions extends Pick<
  EngineBatchOptions,
  'columnMapping' | 'workers' | 'connections' | 'timeoutSeconds' | 'variant' | 'llmTimeoutSeconds' | 'signal'
> {
  dataFile: string;
  runId?: string;
  /** the environment image the workers run (pullable where they run) */
  image: string;
  replicas: number;
  launcher: WorkerLauncher;
  /** the address the coordinator listens on (default 127.0.0.1) and the host the workers dial (default: the same) */
  listenHost?: string;
  advertiseHost?: string;
  port?: number;
  leaseMs?: number;
  maxChunk?: number;
  /** the coordinator's own session, where the aggregation nodes run once at the end */
  aggregationSession?: SessionManager;
  cpus?: number;
  memoryMb?: number;
  onLine?: (e: LineEndEvent, worker: string) => void;
  onWorker?: (e: WorkerEvent) => void;
  /** once the workers are asked for: what was started, where */
  onLaunched?: (spec: Omit<WorkerSpec, 'token'>) => void;
  /** a flex class entry's `__init__` arguments (`--init`) */
  init?: Record<string, unknown>;
  /** where the `${env:NAME}` values of .prompty files are read (they travel with each lease); default process.env */
  env?: NodeJS.ProcessEnv;
}

export interface WorkerBatchRecord extends BatchRecord {
  on: string;
  replicas: number;
  workers: WorkerShare[];
  /** lines run again after their worker left or went silent */
  requeued: number;
  /** connections refused for want of the token */
  refusedConnections: number;
}

const LAUNCHER_CHECK_MS = 3000;

async function aggregateInSession(
  manager: SessionManager,
  dir: string,
  runId: string,
  flow: Record<string, unknown>,
  kindFields: FlowKindFields,
  lists: Record<string, Record<string, unknown[]>>,
  options: WorkerBatchOptions,
): Promise<BatchResult> {
  await manager.syncFlow(dir);
  const client = await manager.runtime(dir);
  return client.request(Methods.batch, {
    runId: `${runId}_agg`,
    flow,
    ...kindFields,
    dataPath: '',
    aggregationLists: lists,
    connections: options.connections ?? {},
    ...(options.variant ? { variant: options.variant } : {}),
  });
}

/**
 * A batch run by workers on an orchestrator: a coordinator with a certificate and token of this batch listens,
 * the launcher starts the workers (which dial it), the lines go out in leases and come back in input order, and
 * the aggregation nodes run once at the end in the coordinator's own session. The launcher's workers are removed
 * however the batch ends.
 */
export async function runWorkerBatch(flowDir: string, options: WorkerBatchOptions): Promise<WorkerBatchRecord> {
  const started = Date.now();
  const dataFile = requireDataFile(options.dataFile);
  if (!Number.isInteger(options.replicas) || options.replicas < 1)
    throw new FlowSessionError('bad-input', 'A batch on workers needs at least one replica.', 'Give --replicas N (N ≥ 1).');
  const dir = resolveFlowDir(flowDir);
  const runId = options.runId ?? newRunId(dir, 'batch');
  const outputFile = batchOutputFile(dir, runId);
  const base = { runId, flowDir: dir, outputFile, on: options.launcher.kind, replicas: options.replicas, refusedConnections: 0 };

  const analyzed = await flowForBatch(flowDir, options.env ?? process.env, options.init);
  if ('error' in analyzed) return { ...base, workers: [], requeued: 0, ...notStarted(analyzed.error, started) };
  const { flow, kindFields, afterLines } = analyzed;
  if (afterLines === 'nodes' && !options.aggregationSession)
    throw new FlowSessionError(
      'bad-input',
      'This flow has aggregation nodes and no session to run them in was given.',
      'Run the batch from the CLI or the editor.',
    );

  // a folder too large for the workers is refused here (runOrchestratedBatch asked already, before any image work)
  const files = welcomeFiles(dir, dataFile);
  const certificate = makeBatchCertificate();
  const token = crypto.randomBytes(32).toString('base64url');
  const params: LeaseParams = {
    // a flex flow's or a prompty's request fields (its `${env:…}` values among them) travel as the connections do
    ...kindFields,
    connections: options.connections ?? {},
    ...(options.columnMapping ? { columnMapping: options.columnMapping } : {}),
    ...(options.workers ? { workers: options.workers } : {}),
    ...(options.timeoutSeconds ? { timeoutSeconds: options.timeoutSeconds } : {}),
    ...(options.variant ? { variant: options.variant } : {}),
    ...(options.llmTimeoutSeconds ? { llmTimeoutSeconds: options.llmTimeoutSeconds } : {}),
  };
  const output = new BatchOutput(dir, runId);
  const lines = dataLines(dataFile);
  const lineCount = lines.length;
  const coordinator = new WorkerCoordinator(
    { runId, flow, files, lines, output, certificate, token, params, expectedWorkers: options.replicas },
    {
      host: options.listenHost,
      port: options.port,
      leaseMs: options.leaseMs,
      maxChunk: options.maxChunk,
      onLine: options.onLine,
      onWorker: options.onWorker,
    },
  );
  let outcome;
  let watch: NodeJS.Timeout | undefined;
  try {
    const port = await coordinator.listen();
    const host = options.advertiseHost ?? options.listenHost ?? '127.0.0.1';
    const spec: WorkerSpec = {
      runId,
      image: options.image,
      coordinator: `${host.includes(':') ? `[${host}]` : host}:${port}`,
      fingerprint: certificate.fingerprint,
      token,
      replicas: options.replicas,
      cpus: options.cpus,
      memoryMb: options.memoryMb,
    };
    const running = coordinator.run(options.signal);
    try {
      await options.launcher.start(spec);
    } catch (e) {
      coordinator.abandon('LaunchFailed', `The workers could not be started on ${options.launcher.kind}: ${errorMessage(e)}`);
    }
    const { token: _token, ...shown } = spec;
    options.onLaunched?.(shown);
    const check = options.launcher.check?.bind(options.launcher);
    if (check) {
      let checking = false;
      watch = setInterval(() => {
        if (checking) return;
        checking = true;
        check()
          .then((problem) => problem && coordinator.abandon('WorkersFailed', problem))
          .catch(() => undefined)
          .finally(() => (checking = false));
      }, LAUNCHER_CHECK_MS);
    }
    outcome = await running;
  } catch (e) {
    await output.abort();
    throw e;
  } finally {
    clearInterval(watch);
    await options.launcher.stop();
  }
  await output.finish();
  let aggregation: BatchResult['aggregation'] = null;
  let metrics: BatchResult['metrics'] = {};
  let error = outcome.error;
  if (!error && outcome.total < lineCount) error = { code: 'WorkersLost', message: 'Some lines have no result.' };
  // a flex class without __aggregate__ gives its completed lines no aggregation values
  const entryAggregates = afterLines === 'entry' && (outcome.aggValues.size > 0 || outcome.total === outcome.failed);
  if (!error && (afterLines === 'nodes' || entryAggregates) && options.aggregationSession) {
    const lists = aggregationLists(outcome.aggValues);
    const r = await aggregateInSession(options.aggregationSession, dir, runId, flow, kindFields, lists, options);
    aggregation = r.aggregation;
    if (r.metrics) metrics = r.metrics;
    if (r.status === 'Failed') error = r.error as typeof error;
  }
  const { total, failed } = outcome;
  const record: WorkerBatchRecord = {
    ...base,
    refusedConnections: coordinator.refusedConnections,
    workers: [...coordinator.shares.values()],
    requeued: coordinator.requeued,
    ...ranFields(total, failed, error, started),
    aggregation,
    metrics,
    files: [],
  };
  return keepBatchRecord(record);
}
