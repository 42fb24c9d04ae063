import * as crypto from 'crypto';
import type { AddressInfo } from 'net';
import * as tls from 'tls';
import type { BatchResult, FlowRunError, LineEndEvent } from '../../runtime/protocol';
import type { BatchOutput } from '../runStore';
import type { BatchCertificate } from './batchCertificate';
import { FrameReader } from './frameReader';
import { LeaseQueue } from './leaseQueue';
import { MAX_FRAME_BYTES, WORKER_PROTOCOL_VERSION, type CoordinatorMessage, type LeaseParams, type WorkerMessage } from './workerProtocol';

/** What one worker did in a batch, for the record and the summary. */
export interface WorkerShare {
  name: string;
  lines: number;
  failedLines: number;
  leases: number;
  /** why it left before the end, when it did */
  left?: string;
}

export interface WorkerEvent {
  worker: string;
  kind: 'joined' | 'refused' | 'left' | 'expired' | 'requeued';
  lines?: number;
  message?: string;
}

export interface CoordinatorPlan {
  runId: string;
  flow: Record<string, unknown>;
  /** the flow folder's files (base64), written into each worker's copy */
  files: { path: string; content: string }[];
  lines: string[];
  output: BatchOutput;
  certificate: BatchCertificate;
  /** the per-batch token a worker must show */
  token: string;
  params: LeaseParams;
  /** workers expected (replicas): lease sizes follow */
  expectedWorkers: number;
}

export interface CoordinatorOptions {
  /** where to listen; default 127.0.0.1 and a free port */
  host?: string;
  port?: number;
  /** a lease whose worker is silent this long goes back; default 30 s (workers beat every 5 s) */
  leaseMs?: number;
  minChunk?: number;
  maxChunk?: number;
  /** no worker holding a lease or connected for this long ends the batch; default 10 minutes */
  noWorkerMs?: number;
  onLine?: (e: LineEndEvent, worker: string) => void;
  onWorker?: (e: WorkerEvent) => void;
}

export interface CoordinatorOutcome {
  total: number;
  failed: number;
  /** each line's values for the aggregation nodes, by line index */
  aggValues: Map<number, Record<string, Record<string, unknown>>>;
  error?: { code: string; message: string };
}

/** a frame before the hello was accepted: a hello is a few hundred bytes */
const MAX_HELLO_BYTES = 64 * 1024;
const HELLO_TIMEOUT_MS = 10_000;
const WAIT_MS = 500;

interface Peer {
  socket: tls.TLSSocket;
  name?: string;
  lease?: string;
  /** RuntimeCrashed lines of the current lease: a worker killed with its container looks like that, so they
   * count only when the lease ends well */
  held: Map<number, LineEndEvent>;
  refused?: boolean;
}

function sameSecret(a: string, b: string): boolean {
  const ha = crypto.createHash('sha256').update(a).digest();
  const hb = crypto.createHash('sha256').update(b).digest();
  return crypto.timingSafeEqual(ha, hb);
}

/** A line from a worker, reduced to the fields a result has (a worker is not trusted to shape the output). */
function cleanLine(runId: string, index: number, raw: LineEndEvent): LineEndEvent {
  const obj = (v: unknown) => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined);
  const status = raw.status === 'Completed' ? 'Completed' : 'Failed';
  const line: LineEndEvent = {
    event: 'lineEnd',
    runId,
    index,
    status,
    durationMs: typeof raw.durationMs === 'number' && raw.durationMs >= 0 ? raw.durationMs : 0,
  };
  const inputs = obj(raw.inputs);
  if (inputs) line.inputs = inputs;
  if (status === 'Completed') line.output = obj(raw.output) ?? {};
  else {
    const e = obj(raw.error);
    line.error = { ...(e ?? {}), code: String(e?.code ?? 'Failed'), message: String(e?.message ?? 'The line failed.') } as FlowRunError;
  }
  const agg = obj(raw.agg);
  if (agg) line.agg = agg as LineEndEvent['agg'];
  return line;
}

/**
 * The coordinator of a batch run by workers that connect to it: a TLS server with the batch's own certificate.
 * A worker that shows the token is welcomed with the flow and takes leases on chunks of lines; whatever else
 * connects gets `refused` and nothing more. Results are counted once per line (LeaseQueue) and written in
 * input order; a lease whose worker left or went silent goes back to the queue for the others.
 */
export class WorkerCoordinator {
  readonly shares = new Map<string, WorkerShare>();
  private readonly queue: LeaseQueue;
  private readonly server: tls.Server;
  private readonly peers = new Set<Peer>();
  private readonly aggValues = new Map<number, Record<string, Record<string, unknown>>>();
  private failed = 0;
  private leaseErrors = 0;
  private lastWorkerSeen = Date.now();
  private finished: { error?: CoordinatorOutcome['error'] } | undefined;
  private settle: () => void = () => undefined;
  private readonly ended = new Promise<void>((r) => (this.settle = r));
  private timer: NodeJS.Timeout | undefined;
  private workerSeq = 0;
  refusedConnections = 0;

  constructor(
    private readonly plan: CoordinatorPlan,
    private readonly options: CoordinatorOptions = {},
  ) {
    this.queue = new LeaseQueue(plan.lines.length, {
      leaseMs: options.leaseMs ?? 30_000,
      expectedWorkers: plan.expectedWorkers,
      minChunk: options.minChunk ?? Math.max(1, plan.params.workers ?? 1),
      maxChunk: options.maxChunk,
    });
    this.server = tls.createServer(
      { key: plan.certificate.keyPem, cert: plan.certificate.certPem, minVersion: 'TLSv1.2', handshakeTimeout: HELLO_TIMEOUT_MS },
      (socket) => this.accept(socket),
    );
    // a failed handshake (a stranger, a scanner) concerns only that connection
    this.server.on('tlsClientError', () => undefined);
  }

  /** lines that went back to the queue after their worker left or went silent */
  get requeued(): number {
    return this.queue.requeued;
  }

  get committed(): number {
    return this.queue.committedCount;
  }

  /** Starts listening; resolves to the port. */
  listen(): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.options.port ?? 0, this.options.host ?? '127.0.0.1', () => {
        this.server.off('error', reject);
        resolve((this.server.address() as AddressInfo).port);
      });
    });
  }

  /** Waits until every line counted, the flow failed, cancel() or abandon(); then closes. */
  async run(signal?: AbortSignal): Promise<CoordinatorOutcome> {
    const onAbort = () =>
      this.finish({ code: 'Cancelled', message: `The batch was canceled after ${this.committed} of ${this.plan.lines.length} lines.` });
    signal?.addEventListener('abort', onAbort);
    if (signal?.aborted) onAbort();
    if (this.plan.lines.length === 0) this.finish();
    this.timer = setInterval(() => this.tick(), 1000);
    try {
      await this.ended;
    } finally {
      signal?.removeEventListener('abort', onAbort);
      clearInterval(this.timer);
      await this.close();
    }
    return {
      total: this.committed,
      failed: this.failed,
      aggValues: this.aggValues,
      ...(this.finished?.error ? { error: this.finished.error } : {}),
    };
  }

  /** Ends the batch with an error (the orchestrator lost every worker, the launcher failed). */
  abandon(code: string, message: string): void {
    this.finish({ code, message });
  }

  private finish(error?: CoordinatorOutcome['error']): void {
    if (this.finished) return;
    this.finished = error ? { error } : {};
    for (const peer of this.peers) if (peer.lease) this.send(peer, { type: 'cancel', leaseId: peer.lease });
    this.settle();
  }

  private async close(): Promise<void> {
    for (const peer of this.peers) {
      if (!peer.lease) this.send(peer, { type: 'done' });
      peer.socket.end();
      setTimeout(() => peer.socket.destroy(), 2000).unref();
    }
    await new Promise<void>((r) => this.server.close(() => r()));
  }

  private tick(): void {
    const now = Date.now();
    for (const { lease, back } of this.queue.expire(now)) {
      this.options.onWorker?.({ worker: lease.worker, kind: 'expired', lines: back });
      for (const peer of this.peers) if (peer.lease === lease.id) peer.lease = undefined;
    }
    const active = this.queue.activeLeases().length > 0 || this.peers.size > 0;
    if (active) this.lastWorkerSeen = now;
    else if (now - this.lastWorkerSeen > (this.options.noWorkerMs ?? 600_000))
      this.finish({ code: 'WorkersLost', message: `No worker was connected for ${Math.round((now - this.lastWorkerSeen) / 1000)} s.` });
  }

  private send(peer: Peer, msg: CoordinatorMessage): void {
    if (!peer.socket.destroyed) peer.socket.write(`${JSON.stringify(msg)}\n`);
  }

  private accept(socket: tls.TLSSocket): void {
    const peer: Peer = { socket, held: new Map() };
    this.peers.add(peer);
    // until it shows the token, a peer may send one small frame: a stranger cannot make the coordinator hold much
    const frames = new FrameReader(MAX_HELLO_BYTES);
    const hello = setTimeout(() => {
      if (!peer.name) socket.destroy();
    }, HELLO_TIMEOUT_MS);
    socket.on('data', (chunk: Buffer) => {
      if (peer.refused) return;
      const got = frames.push(chunk);
      if (got === 'overflow') {
        this.options.onWorker?.({
          worker: peer.name ?? socket.remoteAddress ?? '?',
          kind: 'refused',
          message: 'a frame over the size limit',
        });
        socket.destroy();
        return;
      }
      for (const frame of got) {
        if (!frame.trim()) continue;
        let msg: WorkerMessage;
        try {
          msg = JSON.parse(frame) as WorkerMessage;
        } catch {
          socket.destroy();
          return;
        }
        if (!msg || typeof msg !== 'object') {
          socket.destroy();
          return;
        }
        this.handle(peer, msg);
        if (socket.destroyed || peer.refused) return;
        if (peer.name) frames.limit = MAX_FRAME_BYTES;
      }
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(hello);
      this.peers.delete(peer);
      if (peer.name) this.leave(peer, 'its connection closed');
    });
  }

  private leave(peer: Peer, why: string): void {
    const name = peer.name!;
    if (peer.lease) {
      const back = this.queue.release(peer.lease);
      peer.lease = undefined;
      peer.held.clear();
      if (back > 0) {
        const share = this.shares.get(name);
        if (share && !this.finished) share.left = why;
        this.options.onWorker?.({ worker: name, kind: 'requeued', lines: back });
      }
    }
    if (!this.finished) this.options.onWorker?.({ worker: name, kind: 'left', message: why });
  }

  private handle(peer: Peer, msg: WorkerMessage): void {
    if (!peer.name) {
      if (msg.type !== 'hello' || typeof msg.token !== 'string' || !sameSecret(msg.token, this.plan.token)) {
        this.refusedConnections++;
        this.options.onWorker?.({ worker: peer.socket.remoteAddress ?? '?', kind: 'refused', message: 'no valid batch token' });
        this.send(peer, { type: 'refused', message: 'This batch does not know this worker (no valid token).' });
        peer.refused = true;
        peer.socket.end();
        return;
      }
      if (msg.version !== WORKER_PROTOCOL_VERSION) {
        this.send(peer, {
          type: 'refused',
          message: `This coordinator speaks worker protocol ${WORKER_PROTOCOL_VERSION}, not ${String(msg.version)}.`,
        });
        peer.refused = true;
        peer.socket.end();
        return;
      }
      const base =
        String(msg.worker || 'worker')
          .replace(/[^\w.-]/g, '')
          .slice(0, 64) || 'worker';
      peer.name = this.shares.has(base) ? `${base}#${++this.workerSeq}` : base;
      this.shares.set(peer.name, { name: peer.name, lines: 0, failedLines: 0, leases: 0 });
      this.options.onWorker?.({ worker: peer.name, kind: 'joined' });
      this.send(peer, { type: 'welcome', flow: this.plan.flow, files: this.plan.files, workers: this.plan.params.workers });
      return;
    }
    const name = peer.name;
    const now = Date.now();
    switch (msg.type) {
      case 'lease': {
        if (peer.lease) this.queue.release(peer.lease);
        peer.lease = undefined;
        peer.held.clear();
        if (this.finished) return this.send(peer, { type: 'done' });
        const next = this.queue.take(name, now);
        if (next.kind !== 'lease') return this.send(peer, next.kind === 'done' ? { type: 'done' } : { type: 'wait', ms: WAIT_MS });
        peer.lease = next.lease.id;
        this.shares.get(name)!.leases++;
        return this.send(peer, {
          type: 'lease',
          leaseId: next.lease.id,
          lines: next.lease.indexes.map((i) => this.plan.lines[i]),
          params: this.plan.params,
        });
      }
      case 'heartbeat':
        this.queue.renew(String(msg.leaseId), name, now);
        return;
      case 'line': {
        const leaseId = String(msg.leaseId);
        this.queue.renew(leaseId, name, now);
        const raw = msg.line;
        if (!raw || typeof raw !== 'object' || typeof raw.index !== 'number') return;
        if (raw.status === 'Failed' && raw.error?.code === 'RuntimeCrashed' && peer.lease === leaseId) {
          peer.held.set(raw.index, raw);
          return;
        }
        return this.commit(name, leaseId, raw);
      }
      case 'leaseEnd':
        return this.endLease(peer, String(msg.leaseId), msg.result, msg.error);
      default:
        return;
    }
  }

  private commit(worker: string, leaseId: string, raw: LineEndEvent): void {
    const index = this.queue.commit(leaseId, worker, raw.index);
    if (index === undefined) return;
    const line = cleanLine(this.plan.runId, index, raw);
    const share = this.shares.get(worker)!;
    share.lines++;
    if (line.status !== 'Completed') {
      this.failed++;
      share.failedLines++;
    }
    if (line.agg) this.aggValues.set(index, line.agg);
    const { agg: _agg, ...event } = line;
    this.plan.output.add(event);
    this.options.onLine?.(event, worker);
    if (this.queue.done) this.finish();
  }

  private endLease(peer: Peer, leaseId: string, result: BatchResult | undefined, error: FlowRunError | undefined): void {
    if (peer.lease !== leaseId) return;
    const lease = this.queue.lease(leaseId);
    const name = peer.name!;
    if (result && result.total === 0 && result.error && lease && lease.indexes.length > 0) {
      // the flow itself cannot run (an import error, a bad flow): no worker would do better
      this.finish({
        code: String(result.error.code ?? 'FlowRunError'),
        message: String(result.error.message ?? 'The flow could not run.'),
      });
      return;
    }
    if (result) for (const held of peer.held.values()) this.commit(name, leaseId, held);
    peer.held.clear();
    const back = this.queue.release(leaseId);
    peer.lease = undefined;
    if (back > 0) this.options.onWorker?.({ worker: name, kind: 'requeued', lines: back, message: error?.message });
    if (error && ++this.leaseErrors > Math.max(3, 2 * this.plan.expectedWorkers))
      this.finish({ code: 'WorkersFailed', message: `The workers' runtime kept failing leases: ${String(error.message ?? error.code)}` });
  }
}
