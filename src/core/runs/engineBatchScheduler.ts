import type { ProgressReport } from '../docker/progress';
import { FlowSessionError, errorMessage } from '../errors';
import type { RuntimeClient } from '../runtime/client';
import {
  DEFAULT_BATCH_WORKERS,
  Methods,
  type BatchResult,
  type ConnectionSpec,
  type FlowKindFields,
  type LineEndEvent,
  type TraceSpan,
} from '../runtime/protocol';
import type { SessionManager } from '../session/sessionManager';
import { aggregationLists, hasAggregation } from './aggregationLists';
import { sendShare, stallWatchdog } from './engineShare';
import type { BatchOutput } from './runStore';
import { SpanCollector } from './traceKeeper';

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

export interface EngineBatchOptions {
  columnMapping?: Record<string, unknown>;
  /** workers per engine */
  workers?: number;
  connections?: Record<string, ConnectionSpec>;
  /** per chunk request (the runtime's batch timeout) */
  timeoutSeconds?: number;
  variant?: string;
  llmTimeoutSeconds?: number;
  signal?: AbortSignal;
  /** one per input line, once, with the original index */
  onLine?: (e: LineEndEvent, engine: string) => void;
  onEngine?: (e: EngineBatchEvent) => void;
  onProgress?: (engine: string, r: ProgressReport) => void;
  /** the smallest share an engine takes at once; default four times the workers */
  minChunkLines?: number;
  /** an engine silent this long during a chunk is pinged, and dropped when the ping fails; default 30 s */
  stallMs?: number;
  /** record the lines' spans (each chunk a trace of its own); default true */
  trace?: boolean;
}

/** A chunk's spans in the batch's terms: its line spans named by the batch's line numbers, its root by the engine. */
export function chunkSpans(spans: readonly TraceSpan[], toIndex: (chunkLine: number) => number | undefined, label: string): TraceSpan[] {
  return spans.map((s) => {
    const line = s.attributes['flowsession.line_number'];
    if (s.kind === 'flow' && typeof line === 'number') {
      const index = toIndex(line);
      if (index !== undefined) return { ...s, name: `line ${index}`, attributes: { ...s.attributes, 'flowsession.line_number': index } };
    }
    return s.kind === 'flow' && s.name === 'batch' ? { ...s, name: label } : s;
  });
}

/** What a batch is about: its run, the flow to run, its input lines and where the results go. */
export interface EngineBatchPlan {
  runId: string;
  flowDir: string;
  /** the flow as the runtime takes it */
  flow: Record<string, unknown>;
  /** what a flex flow or a prompty adds to each request: its kind and file, its .prompty files, `${env:…}` values, `init` */
  kindFields?: FlowKindFields;
  /**
   * what runs once after the lines: a DAG flow's aggregation nodes, a flex class entry's `__aggregate__` (if it has
   * one: a completed line without aggregation values says it has not), or nothing; default: read from the flow
   */
  aggregation?: 'nodes' | 'entry' | 'none';
  /** the input lines; a line's index is its line_number unless `lineNumbers` says otherwise */
  lines: string[];
  /** an evaluation batch runs only the lines its base run has outputs for: their line numbers in the data file */
  lineNumbers?: number[];
  /** an evaluation batch: the base run's line (`{line_number, inputs, outputs}` JSON) of each input line */
  baseLines?: string[];
  engines: BatchEngine[];
  output: BatchOutput;
}

/** How the batch ended; `error` is unset when every line ran (and the aggregation, if any). */
export interface EngineBatchOutcome {
  total: number;
  failed: number;
  aggregation: BatchResult['aggregation'];
  aggregationEngine?: string;
  /** what the aggregation nodes logged with log_metric */
  metrics?: BatchResult['metrics'];
  error?: { code: string; message: string };
}

const DEFAULT_STALL_MS = 30_000;

/** Raised inside a chunk when the flow itself cannot run (not the engine's fault): the whole batch stops. */
class FlowLevelFailure extends Error {
  constructor(readonly result: BatchResult) {
    super(result.error?.message ?? 'The flow could not run.');
  }
}

/** One promise shared by every engine loop waiting for a change; replaced each time it is resolved. */
class Wakeup {
  private release: () => void = () => undefined;
  private next = this.renew();

  private renew(): Promise<void> {
    return new Promise<void>((r) => {
      this.release = r;
    });
  }

  wait(): Promise<void> {
    return this.next;
  }

  wakeAll(): void {
    const release = this.release;
    this.next = this.renew();
    release();
  }
}

/**
 * Hands the lines of one batch to several engines and collects their results. Each engine takes a share
 * of the pending lines at a time: an even first share, then shares that shrink as the batch nears its end
 * (so engines finish together and a faster one takes over the tail). An engine that fails gives its
 * share back to the engines still working. A line is committed the first time a result for it arrives
 * and never again, so each line is counted once; the output keeps input order. Aggregation nodes run
 * once at the end, on one engine, over the values every line gave.
 */
export class EngineBatchScheduler {
  readonly shares: EngineShare[];
  /** the spans of the committed lines, the chunks' roots and the aggregation's */
  readonly spans = new SpanCollector();

  private readonly pending: number[];
  private readonly committed = new Set<number>();
  private readonly aggValues = new Map<number, Record<string, Record<string, unknown>>>();
  private requeuedLines = 0;
  private inflight = 0;
  private failedLines = 0;
  private alive: number;
  private stopped = false;
  private flowFailure: BatchResult | undefined;
  private readonly changed = new Wakeup();
  private readonly clients = new Map<number, { client: RuntimeClient; container: string }>();
  private readonly activeChunks = new Map<string, RuntimeClient>();
  private readonly workers: number;
  private readonly minChunk: number;
  private readonly stallMs: number;
  private readonly withAggregation: boolean;
  /** a flex entry's completed line carried no aggregation value: its class has no `__aggregate__` */
  private entryWithoutAggregate = false;

  constructor(
    private readonly plan: EngineBatchPlan,
    private readonly options: EngineBatchOptions,
  ) {
    this.shares = plan.engines.map((e) => ({ name: e.name, lines: 0, failedLines: 0, chunks: 0, requeued: 0 }));
    this.pending = plan.lines.map((_l, i) => i);
    this.alive = plan.engines.length;
    this.workers = options.workers ?? DEFAULT_BATCH_WORKERS;
    this.minChunk = Math.max(1, options.minChunkLines ?? this.workers * 4);
    this.stallMs = options.stallMs ?? DEFAULT_STALL_MS;
    this.withAggregation = (plan.aggregation ?? (hasAggregation(plan.flow) ? 'nodes' : 'none')) !== 'none';
  }

  /** lines run again on another engine after their engine failed */
  get requeued(): number {
    return this.requeuedLines;
  }

  /** Runs every line, then the aggregation; throws only what no engine's failure explains. */
  async run(): Promise<EngineBatchOutcome> {
    const onAbort = () => this.cancel();
    this.options.signal?.addEventListener('abort', onAbort);
    try {
      await Promise.all(this.plan.engines.map((_e, i) => this.engineLoop(i)));
    } finally {
      this.options.signal?.removeEventListener('abort', onAbort);
    }
    const total = this.committed.size;
    const outcome: EngineBatchOutcome = { total, failed: this.failedLines, aggregation: null };
    const lineCount = this.plan.lines.length;
    const lost = lineCount - total;
    if (this.flowFailure) {
      outcome.error = this.flowFailure.error as EngineBatchOutcome['error'];
    } else if (this.stopped) {
      outcome.error = { code: 'Cancelled', message: `The batch was canceled after ${total} of ${lineCount} lines.` };
    } else if (lost > 0) {
      const why = this.shares
        .filter((s) => s.error)
        .map((s) => `${s.name}: ${s.error}`)
        .join('; ');
      outcome.error = { code: 'EnginesFailed', message: `${lost} of ${lineCount} lines could not run: every engine failed (${why}).` };
    } else if (this.withAggregation && !this.entryWithoutAggregate) {
      await this.aggregate(outcome);
    }
    return outcome;
  }

  private cancel(): void {
    this.stopped = true;
    for (const [chunkId, client] of this.activeChunks) void client.request(Methods.cancel, { runId: chunkId }).catch(() => undefined);
    this.changed.wakeAll();
  }

  /** The first result of a line counts; any later one (a line run again elsewhere) is dropped. */
  private commit(engineIndex: number, line: LineEndEvent): void {
    if (this.committed.has(line.index)) return;
    this.committed.add(line.index);
    const share = this.shares[engineIndex];
    share.lines++;
    if (line.status !== 'Completed') {
      this.failedLines++;
      share.failedLines++;
    }
    if (line.agg) this.aggValues.set(line.index, line.agg);
    else if (line.status === 'Completed' && this.plan.aggregation === 'entry') this.entryWithoutAggregate = true;
    this.spans.add(line.trace);
    const numbered = this.plan.lineNumbers ? { ...line, index: this.plan.lineNumbers[line.index] ?? line.index } : line;
    this.plan.output.add(numbered);
    const { agg: _agg, trace: _trace, ...event } = numbered;
    this.options.onLine?.(event, this.plan.engines[engineIndex].name);
  }

  /** Gives the uncommitted lines of an engine's share back to the pending lines, in input order. */
  private requeue(engineIndex: number, indexes: number[]): void {
    const back = indexes.filter((i) => !this.committed.has(i));
    if (back.length === 0) return;
    this.shares[engineIndex].requeued += back.length;
    this.requeuedLines += back.length;
    this.pending.push(...back);
    this.pending.sort((a, b) => a - b);
    this.options.onEngine?.({ engine: this.plan.engines[engineIndex].name, kind: 'requeued', lines: back.length });
  }

  private leaveBatch(engineIndex: number, e: unknown): void {
    const share = this.shares[engineIndex];
    share.error = errorMessage(e);
    this.alive--;
    this.options.onEngine?.({ engine: share.name, kind: 'failed', message: share.error });
  }

  /** An even first share per engine (each share costs a data copy and a worker start), then shrinking ones. */
  private nextShareSize(chunkNo: number): number {
    const first = Math.ceil(this.plan.lines.length / this.plan.engines.length);
    const later = Math.ceil(this.pending.length / (1.5 * Math.max(1, this.alive)));
    return Math.min(this.pending.length, Math.max(this.minChunk, chunkNo === 0 ? first : later));
  }

  /** Starts the engine's session; false when the engine left the batch instead. */
  private async connect(engineIndex: number): Promise<boolean> {
    const engine = this.plan.engines[engineIndex];
    const dir = this.plan.flowDir;
    try {
      const live = engine.manager.liveRuntime(dir);
      if (!live) await engine.manager.up(dir, (r) => this.options.onProgress?.(engine.name, r));
      await engine.manager.syncFlow(dir);
      const client = live ?? (await engine.manager.runtime(dir));
      const status = await engine.manager.status(dir);
      if (!status.container)
        throw new FlowSessionError('session-not-found', `The session on ${engine.name} disappeared.`, 'Run the batch again.');
      this.clients.set(engineIndex, { client, container: status.container });
      this.options.onEngine?.({ engine: engine.name, kind: 'ready' });
      return true;
    } catch (e) {
      this.leaveBatch(engineIndex, e);
      this.changed.wakeAll();
      return false;
    }
  }

  private async engineLoop(engineIndex: number): Promise<void> {
    if (!(await this.connect(engineIndex))) return;
    let chunkNo = 0;
    // bounded: every pass either takes lines (pending shrinks) or waits for a chunk elsewhere to end
    while (!this.stopped) {
      if (this.pending.length === 0) {
        if (this.inflight === 0) break;
        await this.changed.wait();
        continue;
      }
      const chunk = this.pending.splice(0, this.nextShareSize(chunkNo));
      this.inflight++;
      try {
        await this.runChunk(engineIndex, chunk, chunkNo++);
      } catch (e) {
        if (e instanceof FlowLevelFailure) {
          this.flowFailure ??= e.result;
          this.stopped = true;
        } else {
          this.leaveBatch(engineIndex, e);
          this.requeue(engineIndex, chunk);
          this.clients.delete(engineIndex);
          this.inflight--;
          this.changed.wakeAll();
          return;
        }
      }
      this.inflight--;
      this.changed.wakeAll();
    }
  }

  private async runChunk(engineIndex: number, chunk: number[], chunkNo: number): Promise<void> {
    const engine = this.plan.engines[engineIndex];
    const { client, container } = this.clients.get(engineIndex)!;
    const chunkId = `${this.plan.runId}_e${engineIndex}_${chunkNo}`;
    const dataPath = await sendShare(
      engine.manager.engine,
      client,
      container,
      chunkId,
      chunk.map((i) => this.plan.lines[i]),
    );
    // an evaluation batch: the base run's lines of this chunk, numbered as the chunk's lines are
    const baseLines = this.plan.baseLines;
    const baseRunPath = baseLines
      ? await sendShare(
          engine.manager.engine,
          client,
          container,
          `${chunkId}_base`,
          chunk.map((i, pos) => JSON.stringify({ ...(JSON.parse(baseLines[i]) as object), line_number: pos })),
        )
      : undefined;
    const held = new Map<number, LineEndEvent>();
    const chunkLabel = `chunk ${chunkNo} on ${engine.name}`;
    let last = Date.now();
    const done = { settled: false, lastOk: 0 };
    const unsubscribe = client.onEvent((e) => {
      if (e.runId !== chunkId) return;
      last = Date.now();
      if (e.event !== 'lineEnd') return;
      const line = e;
      const index = chunk[line.index];
      if (index === undefined) return;
      const mapped = {
        ...line,
        index,
        ...(line.trace ? { trace: chunkSpans(line.trace, (i) => chunk[i], chunkLabel) } : {}),
      };
      // a worker killed with its container looks like a crashed line: held until the chunk ends well
      if (line.status === 'Failed' && line.error?.code === 'RuntimeCrashed') held.set(index, mapped);
      else this.commit(engineIndex, mapped);
    });
    this.activeChunks.set(chunkId, client);
    this.shares[engineIndex].chunks++;
    this.options.onEngine?.({ engine: engine.name, kind: 'chunk', lines: chunk.length });
    const { options } = this;
    let result: BatchResult;
    try {
      result = await Promise.race([
        client.request(Methods.batch, {
          runId: chunkId,
          flow: this.plan.flow,
          ...this.plan.kindFields,
          dataPath,
          ...(baseRunPath ? { baseRunPath } : {}),
          columnMapping: options.columnMapping,
          workers: this.workers,
          connections: options.connections ?? {},
          ...(options.timeoutSeconds ? { timeoutSeconds: options.timeoutSeconds } : {}),
          ...(options.variant ? { variant: options.variant } : {}),
          ...(options.llmTimeoutSeconds ? { llmTimeoutSeconds: options.llmTimeoutSeconds } : {}),
          ...(this.withAggregation ? { aggValues: true } : {}),
          removeData: true,
          trace: options.trace !== false,
        }),
        stallWatchdog(engine.manager.engine, this.stallMs, () => Math.max(last, done.lastOk), done),
      ]);
    } finally {
      done.settled = true;
      unsubscribe();
      this.activeChunks.delete(chunkId);
    }
    if (result.total === 0 && result.error && chunk.length > 0) throw new FlowLevelFailure(result);
    this.spans.add(chunkSpans(result.trace ?? [], (i) => chunk[i], chunkLabel));
    for (const line of held.values()) this.commit(engineIndex, line);
    // every line of the chunk has a result now; one without (never expected) goes round again
    this.requeue(engineIndex, chunk);
  }

  /** Runs the aggregation nodes once over every line's values, on the first engine that is still there. */
  private async aggregate(outcome: EngineBatchOutcome): Promise<void> {
    const lists = aggregationLists(this.aggValues);
    for (const [engineIndex, { client }] of [...this.clients.entries()].sort((a, b) => a[0] - b[0])) {
      try {
        const r = await client.request(Methods.batch, {
          runId: `${this.plan.runId}_agg`,
          flow: this.plan.flow,
          ...this.plan.kindFields,
          dataPath: '',
          aggregationLists: lists,
          connections: this.options.connections ?? {},
          ...(this.options.variant ? { variant: this.options.variant } : {}),
          trace: this.options.trace !== false,
        });
        this.spans.add(chunkSpans(r.trace ?? [], () => undefined, `aggregation on ${this.plan.engines[engineIndex].name}`));
        outcome.aggregation = r.aggregation;
        if (r.metrics) outcome.metrics = r.metrics;
        if (r.status === 'Failed') outcome.error = r.error as EngineBatchOutcome['error'];
        // a flex class without __aggregate__ (every line failed, so no line could tell): nothing ran
        if (r.aggregation === null) return;
        outcome.aggregationEngine = this.plan.engines[engineIndex].name;
        this.options.onEngine?.({ engine: outcome.aggregationEngine, kind: 'aggregation' });
        return;
      } catch (e) {
        this.leaveBatch(engineIndex, e);
      }
    }
    outcome.error = { code: 'EnginesFailed', message: 'The aggregation nodes could not run: no engine was left.' };
  }
}
