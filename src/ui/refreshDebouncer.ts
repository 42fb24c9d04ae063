/**
 * Collects "this flow changed" signals and delivers them in one batch after a quiet period, so a burst of
 * engine events (create, start, exec_start…) refreshes a tree row once (vscode-containers' RefreshManager
 * idea). '*' means everything. Editor-free, timers injectable.
 */
export class RefreshDebouncer {
  private keys = new Set<string>();
  private timer?: unknown;
  private firstAt = 0;

  constructor(
    private readonly deliver: (keys: Set<string>) => void,
    private readonly quietMs = 100,
    /** deliver at least this often during a long burst */
    private readonly maxWaitMs = 500,
    private readonly clock: { now(): number; setTimeout(fn: () => void, ms: number): unknown; clearTimeout(h: unknown): void } = {
      now: () => Date.now(),
      setTimeout: (fn, ms) => setTimeout(fn, ms),
      clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
    },
  ) {}

  signal(key: string): void {
    if (this.keys.size === 0) this.firstAt = this.clock.now();
    this.keys.add(key);
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    const waited = this.clock.now() - this.firstAt;
    const delay = Math.max(0, Math.min(this.quietMs, this.maxWaitMs - waited));
    this.timer = this.clock.setTimeout(() => this.flush(), delay);
  }

  flush(): void {
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    if (this.keys.size === 0) return;
    const keys = this.keys;
    this.keys = new Set();
    this.deliver(keys);
  }

  dispose(): void {
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.keys.clear();
  }
}
