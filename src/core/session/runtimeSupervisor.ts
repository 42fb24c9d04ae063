import type { Engine } from '../docker/engine';
import { FlowSessionError, errorMessage } from '../errors';
import { IMAGE_PATHS, SESSION_USER, runtimeVersion } from '../image/runtimeFiles';
import { RuntimeClient } from '../runtime/client';
import { Methods } from '../runtime/protocol';
import { SESSION_LABELS } from './labels';

const RUNTIME_READY_TIMEOUT_MS = 30_000;
/** raw runtime output (stderr) logged per minute at most */
const RUNTIME_LOG_BUDGET = 256 * 1024;
const CRASH_WINDOW_MS = 60_000;
/** crashes within the window after which a runtime is left down until the next request */
const MAX_CRASHES = 3;

export interface RuntimeSupervisorOptions {
  engine: Engine;
  log: (line: string) => void;
  /** a runtime that crashed was started again in its running session */
  onRestarted: (key: string, flowDir: string | undefined) => void;
}

const tag = (key: string) => `[runtime ${key.slice(0, 8)}]`;

/**
 * Runs the runtime process in each session's container and holds one connection to it per session. A runtime
 * that dies while its container runs is started again, unless it keeps dying.
 */
export class RuntimeSupervisor {
  private readonly engine: Engine;
  private readonly runtimes = new Map<string, Promise<RuntimeClient>>();
  /** runtimes that answered their first ping and have not exited, with the container each runs in */
  private readonly connected = new Map<string, { client: RuntimeClient; container: string }>();
  private readonly crashes = new Map<string, number[]>();
  private disposed = false;

  constructor(private readonly options: RuntimeSupervisorOptions) {
    this.engine = options.engine;
  }

  /** The runtime of a session's container, started when it does not run yet; concurrent callers share one start. */
  start(key: string, containerId: string): Promise<RuntimeClient> {
    const existing = this.runtimes.get(key);
    if (existing) return existing;
    const p = this.launch(key, containerId);
    this.runtimes.set(key, p);
    p.catch(() => this.runtimes.delete(key));
    return p;
  }

  /** The connected runtime of a session (in the given container, when one is named), without asking the engine. */
  live(key: string, containerId?: string): RuntimeClient | undefined {
    const c = this.connected.get(key);
    if (!c || c.client.isClosed || (containerId !== undefined && c.container !== containerId)) return undefined;
    return c.client;
  }

  /** The container a session's runtime is connected in. */
  containerOf(key: string): string | undefined {
    return this.connected.get(key)?.container;
  }

  /** Ends a session's runtime (before its container stops or goes). */
  async close(key: string): Promise<void> {
    const rt = this.runtimes.get(key);
    this.runtimes.delete(key);
    this.connected.delete(key);
    if (rt) (await rt.catch(() => undefined))?.close();
  }

  /** The container of a session died or went away: its runtime connection goes with it. */
  containerGone(key: string): void {
    if (this.runtimes.has(key)) void this.close(key);
  }

  private async launch(key: string, containerId: string): Promise<RuntimeClient> {
    const exec = await this.engine.execSession(
      containerId,
      [IMAGE_PATHS.python, '-u', '-m', 'flowsession_runtime', '--flow-dir', IMAGE_PATHS.flow],
      {
        user: SESSION_USER,
        env: [`FLOWSESSION_RUNTIME_VERSION=${runtimeVersion()}`, `FLOWSESSION_ACTIVITY_FILE=${IMAGE_PATHS.activityFile}`],
        workingDir: IMAGE_PATHS.flow,
      },
    );
    const client = new RuntimeClient(exec);
    // a tool flooding raw stderr must not flood the log (the extension's output channel keeps everything)
    const logged = { bytes: 0, since: Date.now(), dropped: false };
    client.onStderr((t) => {
      const now = Date.now();
      if (now - logged.since > 60_000) Object.assign(logged, { bytes: 0, since: now, dropped: false });
      logged.bytes += t.length;
      if (logged.bytes <= RUNTIME_LOG_BUDGET) this.options.log(`${tag(key)} ${t.trimEnd()}`);
      else if (!logged.dropped) {
        logged.dropped = true;
        this.options.log(
          `${tag(key)} more than ${RUNTIME_LOG_BUDGET / 1024} KB of output in a minute; the rest of this minute's output is not logged`,
        );
      }
    });
    client.onExit((code) => {
      if (this.runtimes.get(key) === current) this.runtimes.delete(key);
      if (this.connected.get(key)?.client === client) this.connected.delete(key);
      if (this.disposed) return;
      this.options.log(`${tag(key)} exited with code ${code}`);
      void this.restartAfterCrash(key, containerId);
    });
    const current = Promise.resolve(client);
    try {
      await client.request(Methods.ping, {}, { timeoutMs: RUNTIME_READY_TIMEOUT_MS });
    } catch (e) {
      client.close();
      throw e instanceof FlowSessionError
        ? e
        : new FlowSessionError(
            'runtime-crashed',
            `The session runtime did not start: ${errorMessage(e)}`,
            'Reset the session; if it persists, the base image may be unsuitable.',
          );
    }
    this.runtimes.set(key, current);
    this.connected.set(key, { client, container: containerId });
    return client;
  }

  /** A runtime that died while its container runs is started again, unless it keeps dying. */
  private async restartAfterCrash(key: string, containerId: string): Promise<void> {
    const now = Date.now();
    const recent = (this.crashes.get(key) ?? []).filter((t) => now - t < CRASH_WINDOW_MS);
    recent.push(now);
    this.crashes.set(key, recent);
    const c = await this.engine.inspectContainer(containerId).catch(() => undefined);
    if (!c?.running || this.disposed) return;
    if (recent.length > MAX_CRASHES) {
      this.options.log(`${tag(key)} crashed ${recent.length} times in a minute; not restarting until the next request`);
      return;
    }
    await this.start(key, containerId).catch((e) => this.options.log(`${tag(key)} restart failed: ${errorMessage(e)}`));
    this.options.onRestarted(key, c.labels[SESSION_LABELS.flow]);
  }

  /** Closes every runtime connection; the runtimes end with them, the sessions keep running. */
  dispose(): void {
    this.disposed = true;
    for (const rt of this.runtimes.values())
      void rt.then(
        (c) => c.close(),
        () => undefined,
      );
    this.runtimes.clear();
  }
}
