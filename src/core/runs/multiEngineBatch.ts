import * as fs from 'fs';
import * as path from 'path';
import { packEntries } from '../docker/archive';
import type { ProgressReport } from '../docker/progress';
import { FlowSessionError, errorMessage } from '../errors';
import { resolveFlowDir } from '../flow/environment';
import { flowToJson } from '../flow/flowInfo';
import { analyzeFlowDir } from '../flow/staticChecks';
import type { RuntimeClient } from '../runtime/client';
import { Methods, type BatchResult, type ConnectionSpec, type LineEndEvent } from '../runtime/protocol';
import type { SessionManager } from '../session/sessionManager';
import { writeJsonAtomic } from '../fs/atomicWrite';
import { OrderedLineWriter } from './orderedLineWriter';
import { newRunId } from './runId';
import type { BatchRecord } from './runService';

/** a share up to this size goes to its session over the runtime protocol */
const SHARE_OVER_PROTOCOL_BYTES = 4 * 1024 * 1024;
/** where such shares go, inside the session's copy of the flow folder (removed by the runtime after use) */
const SHARE_FOLDER = '.flowsession-batch';
/** One engine of a multi-engine batch: a name for progress and the session manager of that engine. */
export interface BatchEngine {
  name: string;
  manager: SessionManager;
}

export interface EngineBatchEvent {
  engine: string;
  kind: 'ready' | 'chunk' | 'failed' | 'requeued' | 'aggregation';
  lines?: number;
  message?: string;
}

export interface MultiEngineBatchOptions {
  dataFile: string;
  columnMapping?: Record<string, unknown>;
  /** workers per engine */
  workers?: number;
  connections?: Record<string, ConnectionSpec>;
  /** per chunk request (the runtime's batch timeout) */
  timeoutSeconds?: number;
  variant?: string;
  llmTimeoutSeconds?: number;
  runId?: string;
  signal?: AbortSignal;
  /** one per input line, once, with the original index */
  onLine?: (e: LineEndEvent, engine: string) => void;
  onEngine?: (e: EngineBatchEvent) => void;
  onProgress?: (engine: string, r: ProgressReport) => void;
  /** the smallest share an engine takes at once; default four times the workers */
  minChunkLines?: number;
  /** an engine silent this long during a chunk is pinged, and dropped when the ping fails; default 30 s */
  stallMs?: number;
}

export interface EngineShare {
  name: string;
  /** lines whose result came from this engine */
  lines: number;
  failedLines: number;
  chunks: number;
  /** why the engine left the batch */
  error?: string;
  /** lines it held when it failed, handed to the other engines */
  requeued: number;
}

export interface MultiEngineBatchRecord extends BatchRecord {
  engines: EngineShare[];
  /** lines run again on another engine after their engine failed */
  requeued: number;
  aggregationEngine?: string;
}

const DEFAULT_STALL_MS = 30_000;

function summaryOf(total: number, failed: number): string {
  return failed ? `${failed} out of ${total} runs failed` : `All ${total} runs completed`;
}

/** The non-blank lines of a .jsonl file, as the runtime counts them (index = line_number). */
export function dataLines(file: string): string[] {
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.length > 0);
}

/** Raised inside a chunk when the flow itself cannot run (not the engine's fault): the whole batch stops. */
class FlowLevelFailure extends Error {
  constructor(readonly result: BatchResult) {
    super(result.error?.message ?? 'The flow could not run.');
  }
}

function hasAggregation(flow: Record<string, unknown>): boolean {
  const nodes = flow.nodes;
  return Array.isArray(nodes) && nodes.some((n) => !!n && typeof n === 'object' && !!(n as { aggregation?: unknown }).aggregation);
}

/**
 * A batch run spread over sessions on several engines, as one run: lines go out in shares that shrink as the
 * batch nears its end (so engines finish together), results are merged into one output.jsonl in input order,
 * and the lines an engine held when it failed go to the engines still working. Each line's result is
 * counted once: a line is committed the first time a result for it arrives and never again. Aggregation
 * nodes run once at the end, on one engine, over the values every line gave.
 */
export async function runMultiEngineBatch(
  flowDir: string,
  engines: BatchEngine[],
  options: MultiEngineBatchOptions,
): Promise<MultiEngineBatchRecord> {
  if (engines.length === 0)
    throw new FlowSessionError('bad-input', 'A batch across engines needs at least one engine.', 'Name the engines with --engines a,b.');
  const started = Date.now();
  const dataFile = path.resolve(options.dataFile);
  if (!fs.existsSync(dataFile) || !fs.statSync(dataFile).isFile()) {
    throw new FlowSessionError('bad-input', `Data file not found: ${dataFile}`, 'Give a .jsonl file with one JSON object per line.');
  }
  const dir = resolveFlowDir(flowDir);
  const runId = options.runId ?? newRunId(dir, 'batch');
  const runDir = path.join(dir, '.promptflow', 'runs', runId);
  const outputFile = path.join(runDir, 'output.jsonl');
  const shares: EngineShare[] = engines.map((e) => ({ name: e.name, lines: 0, failedLines: 0, chunks: 0, requeued: 0 }));
  const base = { runId, flowDir: dir, outputFile, engines: shares, requeued: 0 };

  const analysis = await analyzeFlowDir(dir);
  const flowJson = flowToJson(analysis.parsed);
  const staticError = analysis.problems.find((p) => p.severity === 'error');
  if (staticError || flowJson === undefined) {
    const error = staticError
      ? { code: staticError.code, message: `${staticError.message} (${staticError.file}:${staticError.line}:${staticError.column})` }
      : { code: 'FlowDefinitionError', message: 'flow.dag.yaml could not be read.' };
    return {
      ...base,
      status: 'Failed',
      total: 0,
      completed: 0,
      failed: 0,
      summary: error.message,
      aggregation: null,
      error,
      durationMs: Date.now() - started,
      files: [],
    };
  }
  const flow = flowJson as Record<string, unknown>;
  const withAggregation = hasAggregation(flow);
  const lines = dataLines(dataFile);
  const workers = options.workers ?? 4;
  const minChunk = Math.max(1, options.minChunkLines ?? workers * 4);
  const stallMs = options.stallMs ?? DEFAULT_STALL_MS;

  // the shared state of the batch: lines not yet handed out, lines in flight, and the committed results
  const pending: number[] = lines.map((_l, i) => i);
  const committed = new Set<number>();
  const aggValues = new Map<number, Record<string, Record<string, unknown>>>();
  let inflight = 0;
  let failedLines = 0;
  let alive = engines.length;
  let stopped = false;
  let flowFailure: BatchResult | undefined;
  let wake: () => void = () => undefined;
  let woken = new Promise<void>((r) => {
    wake = r;
  });
  const wakeAll = () => {
    const w = wake;
    woken = new Promise<void>((r) => {
      wake = r;
    });
    w();
  };
  const clients = new Map<number, { client: RuntimeClient; container: string }>();
  const activeChunks = new Map<string, RuntimeClient>();
  const writer = new OrderedLineWriter(outputFile);

  const commit = (engineIndex: number, line: LineEndEvent) => {
    if (committed.has(line.index)) return;
    committed.add(line.index);
    const share = shares[engineIndex];
    share.lines++;
    if (line.status !== 'Completed') {
      failedLines++;
      share.failedLines++;
    }
    if (line.agg) aggValues.set(line.index, line.agg);
    writer.add(
      line.index,
      JSON.stringify(
        line.status === 'Completed' ? { line_number: line.index, ...line.output } : { line_number: line.index, error: line.error },
      ),
    );
    const { agg: _agg, ...event } = line;
    options.onLine?.(event, engines[engineIndex].name);
  };

  const requeue = (engineIndex: number, indexes: number[]) => {
    const back = indexes.filter((i) => !committed.has(i));
    if (back.length === 0) return;
    shares[engineIndex].requeued += back.length;
    base.requeued += back.length;
    pending.push(...back);
    pending.sort((a, b) => a - b);
    options.onEngine?.({ engine: engines[engineIndex].name, kind: 'requeued', lines: back.length });
  };

  const onAbort = () => {
    stopped = true;
    for (const [chunkId, client] of activeChunks) void client.request(Methods.cancel, { runId: chunkId }).catch(() => undefined);
    wakeAll();
  };
  options.signal?.addEventListener('abort', onAbort);

  /** Rejects when the engine stays silent past stallMs and then does not answer a ping. */
  const watchdog = (engine: BatchEngine, lastEvent: () => number, done: { settled: boolean }) =>
    new Promise<never>((_resolve, reject) => {
      let probing = false;
      const timer = setInterval(
        () => {
          if (done.settled) {
            clearInterval(timer);
            return;
          }
          if (probing || Date.now() - lastEvent() < stallMs) return;
          probing = true;
          engine.manager.engine.ping(5000).then(
            () => {
              probing = false;
              (done as { lastOk?: number }).lastOk = Date.now();
            },
            (e) => {
              clearInterval(timer);
              reject(e);
            },
          );
        },
        Math.max(100, Math.min(stallMs / 2, 5000)),
      );
    });

  const runChunk = async (engineIndex: number, chunk: number[], chunkNo: number) => {
    const engine = engines[engineIndex];
    const { client, container } = clients.get(engineIndex)!;
    const chunkId = `${runId}_e${engineIndex}_${chunkNo}`;
    const dataName = `flowsession-data-${chunkId}.jsonl`;
    const content = Buffer.from(`${chunk.map((i) => lines[i]).join('\n')}\n`);
    // a share goes over the runtime when it is small (no engine archive round trip), else as an archive
    let dataPath = `/tmp/${dataName}`;
    if (content.length <= SHARE_OVER_PROTOCOL_BYTES) {
      dataPath = `${SHARE_FOLDER}/${dataName}`;
      await client.request(Methods.writeFiles, { files: [{ path: dataPath, content: content.toString('base64') }] }, { timeoutMs: 60_000 });
    } else {
      await engine.manager.engine.putArchive(container, '/tmp', await packEntries([{ name: dataName, content }], 10001, 10001));
    }
    const held = new Map<number, LineEndEvent>();
    let last = Date.now();
    const done = { settled: false, lastOk: 0 };
    const unsubscribe = client.onEvent((e) => {
      if (e.runId !== chunkId) return;
      last = Date.now();
      if (e.event !== 'lineEnd') return;
      const line = e;
      const index = chunk[line.index];
      if (index === undefined) return;
      const mapped = { ...line, index };
      // a worker killed with its container looks like a crashed line: held until the chunk ends well
      if (line.status === 'Failed' && line.error?.code === 'RuntimeCrashed') held.set(index, mapped);
      else commit(engineIndex, mapped);
    });
    activeChunks.set(chunkId, client);
    shares[engineIndex].chunks++;
    options.onEngine?.({ engine: engine.name, kind: 'chunk', lines: chunk.length });
    let result: BatchResult;
    try {
      result = await Promise.race([
        client.request(Methods.batch, {
          runId: chunkId,
          flow,
          dataPath,
          columnMapping: options.columnMapping,
          workers,
          connections: options.connections ?? {},
          ...(options.timeoutSeconds ? { timeoutSeconds: options.timeoutSeconds } : {}),
          ...(options.variant ? { variant: options.variant } : {}),
          ...(options.llmTimeoutSeconds ? { llmTimeoutSeconds: options.llmTimeoutSeconds } : {}),
          ...(withAggregation ? { aggValues: true } : {}),
          removeData: true,
        }),
        watchdog(engine, () => Math.max(last, done.lastOk), done),
      ]);
    } finally {
      done.settled = true;
      unsubscribe();
      activeChunks.delete(chunkId);
    }
    if (result.total === 0 && result.error && chunk.length > 0) throw new FlowLevelFailure(result);
    for (const line of held.values()) commit(engineIndex, line);
    // every line of the chunk has a result now; one without (never expected) goes round again
    requeue(engineIndex, chunk);
  };

  const engineLoop = async (engineIndex: number) => {
    const engine = engines[engineIndex];
    const share = shares[engineIndex];
    try {
      const live = engine.manager.liveRuntime(dir);
      if (!live) await engine.manager.up(dir, (r) => options.onProgress?.(engine.name, r));
      await engine.manager.syncFlow(dir);
      const client = live ?? (await engine.manager.runtime(dir));
      const status = await engine.manager.status(dir);
      if (!status.container)
        throw new FlowSessionError('session-not-found', `The session on ${engine.name} disappeared.`, 'Run the batch again.');
      clients.set(engineIndex, { client, container: status.container });
      options.onEngine?.({ engine: engine.name, kind: 'ready' });
    } catch (e) {
      share.error = errorMessage(e);
      alive--;
      options.onEngine?.({ engine: engine.name, kind: 'failed', message: share.error });
      wakeAll();
      return;
    }
    let chunkNo = 0;
    // bounded: every pass either takes lines (pending shrinks) or waits for a chunk elsewhere to end
    while (!stopped) {
      if (pending.length === 0) {
        if (inflight === 0) break;
        await woken;
        continue;
      }
      // an even first share per engine (each share costs a data copy and a worker start), then shrinking shares
      // so a faster engine takes over the tail and a failing engine's lines go elsewhere
      const first = Math.ceil(lines.length / engines.length);
      const size = Math.min(
        pending.length,
        Math.max(minChunk, chunkNo === 0 ? first : Math.ceil(pending.length / (1.5 * Math.max(1, alive)))),
      );
      const chunk = pending.splice(0, size);
      inflight++;
      try {
        await runChunk(engineIndex, chunk, chunkNo++);
      } catch (e) {
        if (e instanceof FlowLevelFailure) {
          flowFailure ??= e.result;
          stopped = true;
        } else {
          share.error = errorMessage(e);
          alive--;
          options.onEngine?.({ engine: engine.name, kind: 'failed', message: share.error });
          requeue(engineIndex, chunk);
          clients.delete(engineIndex);
          inflight--;
          wakeAll();
          return;
        }
      }
      inflight--;
      wakeAll();
    }
  };

  try {
    await Promise.all(engines.map((_e, i) => engineLoop(i)));
  } catch (e) {
    options.signal?.removeEventListener('abort', onAbort);
    await writer.abort();
    throw e;
  }
  options.signal?.removeEventListener('abort', onAbort);

  let aggregation: BatchResult['aggregation'] = null;
  let aggregationEngine: string | undefined;
  let error: BatchRecord['error'];
  const lost = lines.length - committed.size;
  if (flowFailure) {
    error = flowFailure.error as BatchRecord['error'];
  } else if (stopped) {
    error = { code: 'Cancelled', message: `The batch was canceled after ${committed.size} of ${lines.length} lines.` };
  } else if (lost > 0) {
    const why = shares
      .filter((s) => s.error)
      .map((s) => `${s.name}: ${s.error}`)
      .join('; ');
    error = { code: 'EnginesFailed', message: `${lost} of ${lines.length} lines could not run: every engine failed (${why}).` };
  } else if (withAggregation) {
    const lists: Record<string, Record<string, unknown[]>> = {};
    for (const index of [...aggValues.keys()].sort((a, b) => a - b)) {
      for (const [node, inputs] of Object.entries(aggValues.get(index)!)) {
        for (const [name, value] of Object.entries(inputs)) ((lists[node] ??= {})[name] ??= []).push(value);
      }
    }
    for (const [engineIndex, { client }] of [...clients.entries()].sort((a, b) => a[0] - b[0])) {
      try {
        const r = await client.request(Methods.batch, {
          runId: `${runId}_agg`,
          flow,
          dataPath: '',
          aggregationLists: lists,
          connections: options.connections ?? {},
          ...(options.variant ? { variant: options.variant } : {}),
        });
        aggregation = r.aggregation;
        aggregationEngine = engines[engineIndex].name;
        options.onEngine?.({ engine: aggregationEngine, kind: 'aggregation' });
        if (r.status === 'Failed') error = r.error as BatchRecord['error'];
        break;
      } catch (e) {
        shares[engineIndex].error = errorMessage(e);
        options.onEngine?.({ engine: engines[engineIndex].name, kind: 'failed', message: shares[engineIndex].error });
      }
    }
    if (!aggregationEngine) error = { code: 'EnginesFailed', message: 'The aggregation nodes could not run: no engine was left.' };
  }
  await writer.finish();
  const total = committed.size;
  const record: MultiEngineBatchRecord = {
    ...base,
    status: error ? 'Failed' : 'Completed',
    total,
    completed: total - failedLines,
    failed: failedLines,
    summary: summaryOf(total, failedLines),
    aggregation,
    ...(error ? { error } : {}),
    durationMs: Date.now() - started,
    files: [],
    aggregationEngine,
  };
  const summaryFile = path.join(runDir, 'summary.json');
  const { files: _files, ...summary } = record;
  await writeJsonAtomic(summaryFile, summary);
  record.files = [outputFile, summaryFile];
  return record;
}
