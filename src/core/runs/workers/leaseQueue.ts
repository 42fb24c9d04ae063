/** One chunk of lines handed to one worker until it ends, is given back, or expires. */
export interface Lease {
  id: string;
  worker: string;
  /** the input lines it covers, by line index, ascending; a worker reports a line by its position here */
  indexes: number[];
  expiresAt: number;
  /** still the worker's: not ended, given back or expired */
  active: boolean;
}

export interface LeaseQueueOptions {
  /** a lease with no word from its worker for this long goes back to the queue */
  leaseMs: number;
  /** the workers expected to share the lines: first shares are sized for them */
  expectedWorkers: number;
  /** the smallest lease (keeps one worker's processes busy); default 1 */
  minChunk?: number;
  /** the largest lease (what a worker lost at most costs again); default 256 */
  maxChunk?: number;
}

export type TakeResult = { kind: 'lease'; lease: Lease } | { kind: 'wait' } | { kind: 'done' };

/**
 * The lines of a batch and who holds which. Lines are leased in input order, in chunks that shrink as the
 * batch nears its end (about half a share per expected worker, so a worker lost late costs little and the
 * last ones finish together). A line counts the first time a result for it arrives, from whatever lease, and
 * never again. A lease given back (its worker left) or expired returns its uncounted lines to the queue.
 */
export class LeaseQueue {
  private readonly pending: number[];
  private readonly committed = new Set<number>();
  private readonly leases = new Map<string, Lease>();
  private seq = 0;
  private requeuedLines = 0;
  private readonly minChunk: number;
  private readonly maxChunk: number;

  constructor(
    readonly total: number,
    private readonly options: LeaseQueueOptions,
  ) {
    this.pending = Array.from({ length: total }, (_v, i) => i);
    this.minChunk = Math.max(1, options.minChunk ?? 1);
    this.maxChunk = Math.max(this.minChunk, options.maxChunk ?? 256);
  }

  get committedCount(): number {
    return this.committed.size;
  }

  get pendingCount(): number {
    return this.pending.length;
  }

  /** lines that went back to the queue after their lease was given back or expired */
  get requeued(): number {
    return this.requeuedLines;
  }

  get done(): boolean {
    return this.committed.size === this.total;
  }

  activeLeases(): Lease[] {
    return [...this.leases.values()].filter((l) => l.active);
  }

  private chunkSize(): number {
    const share = Math.ceil(this.pending.length / (2 * Math.max(1, this.options.expectedWorkers)));
    return Math.min(this.pending.length, Math.max(this.minChunk, Math.min(this.maxChunk, share)));
  }

  /** The next lease for a worker; `wait` while every line is leased but not all are counted. */
  take(worker: string, now: number): TakeResult {
    this.expire(now);
    if (this.done) return { kind: 'done' };
    if (this.pending.length === 0) return { kind: 'wait' };
    const lease: Lease = {
      id: `L${++this.seq}`,
      worker,
      indexes: this.pending.splice(0, this.chunkSize()),
      expiresAt: now + this.options.leaseMs,
      active: true,
    };
    this.leases.set(lease.id, lease);
    return { kind: 'lease', lease };
  }

  lease(id: string): Lease | undefined {
    return this.leases.get(id);
  }

  /** The worker of a lease was heard from: the lease lives on. False when it is no longer that worker's. */
  renew(id: string, worker: string, now: number): boolean {
    const lease = this.leases.get(id);
    if (!lease?.active || lease.worker !== worker) return false;
    lease.expiresAt = now + this.options.leaseMs;
    return true;
  }

  /**
   * A result for the line at `position` of a lease: its line index the first time that line has a result,
   * undefined for a line already counted, an unknown lease, another worker's lease or a position out of range.
   */
  commit(id: string, worker: string, position: number): number | undefined {
    const lease = this.leases.get(id);
    if (!lease || lease.worker !== worker || !Number.isInteger(position)) return undefined;
    const index = lease.indexes[position];
    if (index === undefined || this.committed.has(index)) return undefined;
    this.committed.add(index);
    return index;
  }

  /** The lease ended (its worker finished it, or left): its lines without a result go back to the queue. */
  release(id: string): number {
    const lease = this.leases.get(id);
    if (!lease?.active) return 0;
    lease.active = false;
    return this.giveBack(lease.indexes);
  }

  /** Every active lease whose worker was silent past its expiry goes back; returns them with the lines given back. */
  expire(now: number): { lease: Lease; back: number }[] {
    return this.activeLeases()
      .filter((l) => l.expiresAt <= now)
      .map((lease) => ({ lease, back: this.release(lease.id) }));
  }

  private giveBack(indexes: number[]): number {
    const back = indexes.filter((i) => !this.committed.has(i) && !this.pending.includes(i));
    if (back.length === 0) return 0;
    this.requeuedLines += back.length;
    this.pending.push(...back);
    this.pending.sort((a, b) => a - b);
    return back.length;
  }
}
