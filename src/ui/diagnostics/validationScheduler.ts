/**
 * Coalesces on-save validations per flow: saves of one turn group, a short debounce groups a burst of saves
 * made while a validation runs, at most one validation
 * runs per flow, and saves made while it runs are folded into one queued validation. Each save gets a
 * generation number; a result carries the generation it started at, so callers can tell a stale result.
 * Editor-free (timers injectable) so it is unit tested.
 */
export interface ValidationJob {
  flowDir: string;
  /** flow-relative paths saved since the last validation started */
  changedFiles: string[];
  /** the generation of the newest save this job covers */
  generation: number;
}

export type ValidationRunner = (job: ValidationJob) => Promise<void>;

export interface SchedulerTimers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

interface FlowQueue {
  pending?: { files: Set<string>; generation: number };
  timer?: unknown;
  inflight?: Promise<void>;
}

export class ValidationScheduler {
  private readonly flows = new Map<string, FlowQueue>();
  private generation = 0;
  private disposed = false;

  constructor(
    private readonly runner: ValidationRunner,
    private readonly debounceMs = 25,
    private readonly timers: SchedulerTimers = {
      setTimeout: (fn, ms) => setTimeout(fn, ms),
      clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
    },
  ) {}

  /** Records a save and schedules a validation; returns the save's generation. */
  saved(flowDir: string, relPath: string): number {
    const generation = ++this.generation;
    const q = this.queue(flowDir);
    q.pending ??= { files: new Set(), generation };
    q.pending.files.add(relPath);
    q.pending.generation = generation;
    if (q.timer !== undefined) this.timers.clearTimeout(q.timer);
    // idle flow: start on the next turn (saves of one "Save All" still group); busy flow: wait for quiet
    q.timer = this.timers.setTimeout(
      () => {
        q.timer = undefined;
        this.pump(flowDir);
      },
      q.inflight ? this.debounceMs : 0,
    );
    return generation;
  }

  /** The newest generation handed out (any flow). */
  get currentGeneration(): number {
    return this.generation;
  }

  /** True while a validation of the flow runs or waits. */
  busy(flowDir: string): boolean {
    const q = this.flows.get(flowDir);
    return !!q && (q.inflight !== undefined || q.pending !== undefined);
  }

  /** Resolves when the flow has nothing running or queued (tests, shutdown). */
  async idle(flowDir: string): Promise<void> {
    while (true) {
      const q = this.flows.get(flowDir);
      if (!q) return;
      if (q.inflight) await q.inflight.catch(() => undefined);
      else if (q.pending) await new Promise((r) => setTimeout(r, this.debounceMs + 1));
      else return;
    }
  }

  private queue(flowDir: string): FlowQueue {
    let q = this.flows.get(flowDir);
    if (!q) {
      q = {};
      this.flows.set(flowDir, q);
    }
    return q;
  }

  private pump(flowDir: string): void {
    const q = this.flows.get(flowDir);
    if (!q || this.disposed || q.inflight || !q.pending || q.timer !== undefined) return;
    const job: ValidationJob = { flowDir, changedFiles: [...q.pending.files].sort(), generation: q.pending.generation };
    q.pending = undefined;
    q.inflight = this.runner(job)
      .catch(() => undefined)
      .finally(() => {
        q.inflight = undefined;
        if (q.pending) this.pump(flowDir);
        else if (q.timer === undefined) this.flows.delete(flowDir);
      });
  }

  dispose(): void {
    this.disposed = true;
    for (const q of this.flows.values()) if (q.timer !== undefined) this.timers.clearTimeout(q.timer);
    this.flows.clear();
  }
}
