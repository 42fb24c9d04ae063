import { EventEmitter } from 'events';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { packEntries } from '../docker/archive';
import { FlowSessionError } from '../errors';
import { resolveFlowDir } from '../flow/environment';
import { locateFlow } from '../flow/flowKind';
import { readFlowPayload, type FlowPayload } from './flowPayload';
import type { FlowProblem } from '../flow/problem';
import type { RuntimeClient } from '../runtime/client';
import {
  Methods,
  type BatchResult,
  type FlowKindFields,
  type FlowRunError,
  type LineEndEvent,
  type RunMetrics,
  type RunParams,
  type RunResult,
  type RuntimeEvent,
  type TraceSpan,
} from '../runtime/protocol';
import type { TokenUsage } from '../../shared/trace';
import { connectionSecrets, redactSpans } from './otlp';
import { keepBatchTrace, keepTrace, tracingWanted, type TracingOptions } from './traceKeeper';
import type { SessionManager } from '../session/sessionManager';
import type { SessionProgress } from '../session/state';
import { baseRunLines } from './baseRun';
import {
  BatchOutput,
  batchTraceFile,
  batchOutputFile,
  latestNodeOutputs,
  newRunId,
  runFolder,
  writeBatchSummary,
  writeMetrics,
  writeNodeRunResult,
  writeRunResult,
} from './runStore';
import { IMAGE_PATHS } from '../image/runtimeFiles';
import { listFlowFiles, streamFlowFiles } from '../fs/flowArchive';
import { dataFileForSession } from './dataImages';
import { storeImages } from './imageFiles';

/** What a run asks of the runtime (see RunParams); with `node`, upstream outputs not in `inputs` come from the latest run. */
export interface RunOptions extends Pick<
  RunParams,
  'inputs' | 'connections' | 'timeoutSeconds' | 'llmTimeoutSeconds' | 'variant' | 'node' | 'debug' | 'init'
> {
  onEvent?: (e: RuntimeEvent) => void;
  onProgress?: SessionProgress;
  signal?: AbortSignal;
  /** known before the run starts, so a caller can cancel it */
  runId?: string;
  /** record the run's spans (trace.json, the OTLP export, token totals); default true */
  trace?: boolean;
}

export interface RunRecord {
  runId: string;
  flowDir: string;
  status: 'Completed' | 'Failed' | 'Canceled';
  outputs: Record<string, unknown> | null;
  error?: FlowRunError;
  /** what the aggregation nodes logged with log_metric, when they did */
  metrics?: RunMetrics;
  /** node -> the variant that ran, for every node with variants */
  variants?: Record<string, string>;
  startedAt: string;
  durationMs: number;
  /** files written to the flow's results folder */
  files: string[];
  /** the run's spans (secrets redacted), when it was traced */
  trace?: TraceSpan[];
  /** tokens of the run's LLM calls, from the API's usage, when it was traced */
  tokens?: TokenUsage;
  /** what went wrong besides the run itself (the trace export), to show as warnings */
  warnings?: string[];
}

export interface BatchOptions extends Omit<RunOptions, 'inputs' | 'onEvent'> {
  dataFile: string;
  columnMapping?: Record<string, unknown>;
  workers?: number;
  /** an evaluation batch: the folder of the base run whose lines `${run.outputs.x}` and `${run.inputs.x}` read */
  baseRun?: string;
  onLine?: (e: LineEndEvent) => void;
}

export interface BatchRecord extends Omit<BatchResult, 'error' | 'trace'> {
  runId: string;
  flowDir: string;
  error?: { code: string; message: string };
  outputFile: string;
  files: string[];
  /** tokens of every line's and the aggregation's LLM calls, when the batch was traced */
  tokens?: TokenUsage;
  /** what went wrong besides the batch itself (the trace export), to show as warnings */
  warnings?: string[];
}

export type { TracingOptions } from './traceKeeper';

/** the runtime's own limit when a request names none (runtime/flowsession_runtime/server.py DEFAULT_TIMEOUTS) */
const RUNTIME_DEFAULT_TIMEOUT_S = 600;
/** how long past the runtime's own timeout the client waits for its answer before giving up (a frozen runtime) */
const ANSWER_GRACE_MS = 10_000;
const answerTimeoutMs = (timeoutSeconds?: number) => (timeoutSeconds || RUNTIME_DEFAULT_TIMEOUT_S) * 1000 + ANSWER_GRACE_MS;

/**
 * Static errors stop a run before it reaches the session, as prompt flow refuses to run such a flow. The run's error
 * is the first; the others follow in its message, one a line, since the first is often the consequence of another
 * (a node source missing because its additional include was not copied).
 */
export function firstError(problems: FlowProblem[]): FlowRunError | undefined {
  const errors = problems.filter((x) => x.severity === 'error');
  if (errors.length === 0) return undefined;
  const where = (p: FlowProblem) => `(${p.file}:${p.line}:${p.column})`;
  const [first, ...more] = errors;
  const also = more.map((p) => `\n${p.code}: ${p.message} ${where(p)}`).join('');
  return { code: first.code, message: `${first.message} ${where(first)}${also}` };
}

/** The request fields that say what kind of flow runs, with its .prompty files and the environment values they name. */
export function kindFields(payload: FlowPayload, init?: Record<string, unknown>): FlowKindFields {
  const { target, prompty, envValues } = payload;
  return {
    ...(target.kind !== 'dag' ? { kind: target.kind, flowFile: target.file } : {}),
    ...(Object.keys(prompty).length ? { prompty } : {}),
    ...(Object.keys(envValues).length ? { envValues } : {}),
    ...(init && Object.keys(init).length ? { init } : {}),
  };
}

/** A run or batch run of this process, from the moment it is asked for (its session may still be starting) until it ends. */
export interface ActiveRun {
  runId: string;
  flowDir: string;
  kind: 'run' | 'batch';
}

/** Runs and batch runs of a flow in its session, with the results kept by the run store. */
export class RunService {
  private readonly active = new Map<string, RuntimeClient>();
  /** every run under way, whoever started it (a command, the session panel, the CLI), with what cancels it before it reaches the runtime */
  private readonly running = new Map<string, { run: ActiveRun; abort: AbortController }>();
  private readonly runningChanged = new EventEmitter();

  constructor(
    private readonly manager: SessionManager,
    private readonly tracing: TracingOptions = {},
    /** where `${env:NAME}` values of .prompty files are read: the extension's or the CLI's environment */
    private readonly env: NodeJS.ProcessEnv = process.env,
  ) {
    this.runningChanged.setMaxListeners(0);
  }

  /** The runs and batch runs under way. */
  activeRuns(): ActiveRun[] {
    return [...this.running.values()].map((r) => r.run);
  }

  /** A run or batch run started or ended. */
  onDidChangeActiveRuns(listener: () => void): { dispose(): void } {
    this.runningChanged.on('change', listener);
    return { dispose: () => this.runningChanged.off('change', listener) };
  }

  /** Tracks a run until `end` is called; its signal follows the caller's and `cancel` before the run reaches the runtime. */
  private begin(run: ActiveRun, callerSignal?: AbortSignal): { signal: AbortSignal; end(): void } {
    const abort = new AbortController();
    const follow = () => abort.abort();
    if (callerSignal?.aborted) abort.abort();
    callerSignal?.addEventListener('abort', follow);
    this.running.set(run.runId, { run, abort });
    this.runningChanged.emit('change');
    return {
      signal: abort.signal,
      end: () => {
        callerSignal?.removeEventListener('abort', follow);
        this.running.delete(run.runId);
        this.runningChanged.emit('change');
      },
    };
  }

  private async prepare(
    flowPath: string,
    onProgress?: SessionProgress,
    init?: Record<string, unknown>,
  ): Promise<
    { dir: string; flow: Record<string, unknown>; payload: FlowPayload; client: RuntimeClient } | { dir: string; error: FlowRunError }
  > {
    const target = locateFlow(flowPath);
    const dir = target.dir;
    const payload = await readFlowPayload(target, this.env, init);
    const flow = payload.flow;
    const error = firstError(payload.problems);
    if (error || flow === undefined)
      return { dir, error: error ?? { code: 'FlowDefinitionError', message: `${target.file} could not be read.` } };
    const live = this.manager.liveRuntime(dir);
    if (live) {
      await this.manager.syncFlow(dir); // only what changed since the session last saw it
      return { dir, flow, payload, client: live };
    }
    await this.manager.up(dir, onProgress);
    await this.manager.syncFlow(dir);
    return { dir, flow, payload, client: await this.manager.runtime(dir) };
  }

  /** Runs the flow a path names: a flow folder, a flow file or a .prompty (see flowKind.locateFlow). */
  async run(flowPath: string, options: RunOptions = {}): Promise<RunRecord> {
    const dir = resolveFlowDir(flowPath);
    const runId = options.runId ?? newRunId(dir);
    const tracked = this.begin({ runId, flowDir: dir, kind: 'run' }, options.signal);
    try {
      return await this.runTracked(flowPath, runId, { ...options, signal: tracked.signal });
    } finally {
      tracked.end();
    }
  }

  private async runTracked(flowDir: string, runId: string, options: RunOptions): Promise<RunRecord> {
    const started = Date.now();
    const startedAt = new Date(started).toISOString();
    const prepared = await this.prepare(flowDir, options.onProgress, options.init);
    if ('error' in prepared)
      return {
        runId,
        flowDir: prepared.dir,
        status: 'Failed',
        outputs: null,
        error: prepared.error,
        startedAt,
        durationMs: Date.now() - started,
        files: [],
      };
    const { dir, flow, payload, client } = prepared;
    if (options.signal?.aborted)
      return {
        runId,
        flowDir: dir,
        status: 'Canceled',
        outputs: null,
        error: { code: 'Cancelled', message: 'The run was canceled before it started.' },
        startedAt,
        durationMs: Date.now() - started,
        files: [],
      };
    const nodeOutputs = options.node ? await latestNodeOutputs(dir) : undefined;
    let result: RunResult;
    try {
      result = await this.requestRun(
        client,
        runId,
        options.signal,
        (e) => options.onEvent?.(e),
        () =>
          client.request(
            Methods.run,
            {
              runId,
              flow,
              ...kindFields(payload, options.init),
              inputs: options.inputs ?? {},
              connections: options.connections ?? {},
              ...(options.timeoutSeconds ? { timeoutSeconds: options.timeoutSeconds } : {}),
              ...(options.variant ? { variant: options.variant } : {}),
              ...(options.llmTimeoutSeconds ? { llmTimeoutSeconds: options.llmTimeoutSeconds } : {}),
              ...(options.node ? { node: options.node, nodeOutputs } : {}),
              ...(options.debug ? { debug: true } : {}),
              trace: tracingWanted(options.trace, this.env),
            },
            { timeoutMs: answerTimeoutMs(options.timeoutSeconds) },
          ),
      );
    } catch (e) {
      if (e instanceof FlowSessionError && (e.kind === 'cancelled' || e.kind === 'run-timeout')) {
        const status = e.kind === 'cancelled' ? 'Canceled' : 'Failed';
        return {
          runId,
          flowDir: dir,
          status,
          outputs: null,
          error: { code: e.kind === 'cancelled' ? 'Cancelled' : 'RunTimeout', message: e.message },
          startedAt,
          durationMs: Date.now() - started,
          files: [],
        };
      }
      throw e;
    }
    const spans = redactSpans(result.trace ?? [], connectionSecrets(options.connections));
    // the trace is written beside the results, not after them: a traced run costs no extra round of file writes
    const [files, traced] = await Promise.all([
      options.node ? writeNodeRunResult(dir, runId, options.node, result) : writeRunResult(dir, runId, result),
      keepTrace(dir, runId, spans, this.tracing),
    ]);
    return {
      runId,
      flowDir: dir,
      status: result.status,
      // images as files of the run, referred to from the flow folder
      outputs: storeImages(result.outputs, runFolder(dir, runId), dir) as RunResult['outputs'],
      error: result.error,
      ...(result.metrics ? { metrics: result.metrics } : {}),
      ...(result.variants ? { variants: result.variants } : {}),
      startedAt,
      durationMs: Date.now() - started,
      files,
      ...(spans.length ? { trace: spans, tokens: traced.tokens } : {}),
      ...(traced.warnings.length ? { warnings: traced.warnings } : {}),
    };
  }

  async cancel(runId: string): Promise<boolean> {
    const client = this.active.get(runId);
    if (!client) {
      // not at the runtime yet (its session is starting): the run ends as Canceled once it is ready
      const pending = this.running.get(runId);
      pending?.abort.abort();
      return !!pending;
    }
    const r = await client.request(Methods.cancel, { runId });
    return r.cancelled;
  }

  async batch(flowPath: string, options: BatchOptions): Promise<BatchRecord> {
    const dataFile = path.resolve(options.dataFile);
    if (!fs.existsSync(dataFile) || !fs.statSync(dataFile).isFile()) {
      throw new FlowSessionError('bad-input', `Data file not found: ${dataFile}`, 'Give a .jsonl file with one JSON object per line.');
    }
    const dir = resolveFlowDir(flowPath);
    const runId = options.runId ?? newRunId(dir, 'batch');
    const tracked = this.begin({ runId, flowDir: dir, kind: 'batch' }, options.signal);
    try {
      return await this.batchTracked(flowPath, runId, dataFile, { ...options, signal: tracked.signal });
    } finally {
      tracked.end();
    }
  }

  private async batchTracked(flowDir: string, runId: string, dataFile: string, options: BatchOptions): Promise<BatchRecord> {
    const prepared = await this.prepare(flowDir, options.onProgress, options.init);
    const outputFile = batchOutputFile(prepared.dir, runId);
    if ('error' in prepared) {
      return {
        runId,
        flowDir: prepared.dir,
        status: 'Failed',
        total: 0,
        completed: 0,
        failed: 0,
        summary: prepared.error.message,
        aggregation: null,
        error: prepared.error,
        durationMs: 0,
        outputFile,
        files: [],
      };
    }
    const { dir, flow, payload, client } = prepared;
    // a data file inside the flow folder is already in the session; another one is copied in for the run
    const rel = path.relative(dir, dataFile).split(path.sep).join('/');
    const inFlow = !rel.startsWith('..') && !path.isAbsolute(rel) && listFlowFiles(dir).some((f) => f.name === rel);
    const copied: string[] = [];
    const container = options.baseRun || !inFlow ? (await this.manager.status(dir)).container! : '';
    const copyIn = async (name: string, content: Buffer | string) => {
      await this.manager.engine.putArchive(container, '/tmp', await packEntries([{ name, content: Buffer.from(content) }], 10001, 10001));
      copied.push(`/tmp/${name}`);
      return `/tmp/${name}`;
    };
    const copyFileIn = async (name: string, abs: string) => {
      // streamed from disk: a data file of any size costs the extension or CLI no more memory than a small one
      const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'flowsession-data-'));
      try {
        const source = await dataFileForSession(abs, scratch);
        const size = fs.statSync(source).size;
        const { tar, hashes } = streamFlowFiles([{ name, abs: source, size, dir: false, mtimeMs: 0, executable: false }]);
        await Promise.all([this.manager.engine.putArchive(container, '/tmp', tar), hashes]);
      } finally {
        fs.rmSync(scratch, { recursive: true, force: true });
      }
      copied.push(`/tmp/${name}`);
      return `/tmp/${name}`;
    };
    const containerData = inFlow ? `${IMAGE_PATHS.flow}/${rel}` : await copyFileIn(`flowsession-data-${runId}.jsonl`, dataFile);
    const baseRunPath = options.baseRun ? await copyIn(`flowsession-base-${runId}.jsonl`, await baseRunLines(options.baseRun)) : undefined;
    const output = new BatchOutput(dir, runId);
    const secrets = connectionSecrets(options.connections);
    const traceFile = batchTraceFile(dir, runId, secrets);
    const onLine = (e: RuntimeEvent) => {
      if (e.event === 'traceSteps') {
        traceFile.steps(e);
        return;
      }
      if (e.event !== 'lineEnd') return;
      traceFile.addLine(e);
      // the line's spans are in the trace file; spans a line carried anyway are not kept
      const { trace: _spans, traceRecord: _record, ...line } = e;
      output.add(line);
      options.onLine?.(line);
    };
    let result: BatchResult;
    try {
      result = await this.requestRun(client, runId, options.signal, onLine, () =>
        client.request(
          Methods.batch,
          {
            runId,
            flow,
            ...kindFields(payload, options.init),
            dataPath: containerData,
            columnMapping: options.columnMapping,
            ...(baseRunPath ? { baseRunPath } : {}),
            workers: options.workers,
            connections: options.connections ?? {},
            ...(options.timeoutSeconds ? { timeoutSeconds: options.timeoutSeconds } : {}),
            ...(options.variant ? { variant: options.variant } : {}),
            trace: tracingWanted(options.trace, this.env),
            traceRecords: true,
          },
          { timeoutMs: answerTimeoutMs(options.timeoutSeconds) },
        ),
      );
    } catch (e) {
      await Promise.all([output.abort(), traceFile.abort()]);
      throw e;
    } finally {
      if (copied.length)
        void this.manager.engine
          .exec(container, ['python3', '-c', 'import os, sys; [os.remove(f) for f in sys.argv[1:]]', ...copied])
          .catch(() => undefined);
    }
    const { trace, ...summary } = result;
    // the files are written side by side; only the summary waits, for the trace's token totals
    const [, traced, metricsFile] = await Promise.all([
      output.finish(),
      keepBatchTrace(traceFile, redactSpans(trace ?? [], secrets), this.tracing),
      writeMetrics(dir, runId, result.metrics ?? {}),
    ]);
    const summaryFile = await writeBatchSummary(dir, runId, { runId, ...summary, ...(traced.tokens ? { tokens: traced.tokens } : {}) });
    return {
      ...summary,
      runId,
      flowDir: dir,
      outputFile,
      files: [outputFile, summaryFile, metricsFile, ...(traced.file ? [traced.file] : [])],
      ...(traced.tokens ? { tokens: traced.tokens } : {}),
      ...(traced.warnings.length ? { warnings: traced.warnings } : {}),
    };
  }

  /**
   * Sends a run or batch request: the runtime's events of this run reach `onEvent`, the caller's abort cancels it
   * in the runtime, and Cancel Run finds it while it is under way.
   */
  private async requestRun<T>(
    client: RuntimeClient,
    runId: string,
    signal: AbortSignal | undefined,
    onEvent: (e: RuntimeEvent) => void,
    send: () => Promise<T>,
  ): Promise<T> {
    const unsubscribe = client.onEvent((e) => {
      if (e.runId === runId) onEvent(e);
    });
    const onAbort = () => void client.request(Methods.cancel, { runId }).catch(() => undefined);
    signal?.addEventListener('abort', onAbort);
    this.active.set(runId, client);
    try {
      return await send();
    } finally {
      unsubscribe();
      signal?.removeEventListener('abort', onAbort);
      this.active.delete(runId);
    }
  }
}
