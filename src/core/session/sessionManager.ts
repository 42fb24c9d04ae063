import { EventEmitter } from 'events';
import * as fs from 'fs';
import * as path from 'path';
import type { ContainerDetails, Engine, EngineEvent, EventSubscription } from '../docker/engine';
import type { ProgressReport } from '../docker/progress';
import { FlowSessionError, errorMessage, isFlowSessionError } from '../errors';
import { readFlowEnvironment, resolveFlowDir, type FlowEnvironment } from '../flow/environment';
import { isValidImageRef } from '../docker/imageRef';
import { ensureEnvironmentImage } from '../image/environmentImage';
import { checkPackageSpecs, pipOptionArgs } from '../image/pipOptions';
import { outputTail } from '../image/recipe';
import { IMAGE_PATHS, SESSION_USER, runtimeVersion } from '../image/runtimeFiles';
import { ensureRuntimeImage } from '../image/runtimeImage';
import { RuntimeClient } from '../runtime/client';
import { Methods } from '../runtime/protocol';
import type { SessionSettings } from '../settings';
import { fileArchive, listFlowFiles, packFlowFiles, SyncedFiles } from './flowArchive';
import { KeyedQueue } from './keyedQueue';
import { SESSION_LABELS, containerName, contentHash, sessionKey } from './labels';
import { classifyPackages, type InstalledPackage } from './packages';
import type { SessionProgress, SessionStatus } from './state';

export interface SessionManagerOptions {
  engine: Engine;
  settings: SessionSettings;
  /** FLOWSESSION_BASE_IMAGE / --base-image: wins over flow.dag.yaml and settings */
  baseImageOverride?: string;
  log?: (line: string) => void;
}

export interface SessionChange {
  key: string;
  flowDir?: string;
  action: string;
}

interface Operation {
  state: 'creating' | 'stopping' | 'busy';
  phase?: string;
}

const RUNTIME_READY_TIMEOUT_MS = 30_000;
/** up to this size, files go to the session through the runtime (milliseconds) instead of an engine archive copy */
const PROTOCOL_COPY_LIMIT = 8 * 1024 * 1024;
const JOIN_TIMEOUT_MS = 30 * 60_000;
/** raw runtime output (stderr) logged per minute at most */
const RUNTIME_LOG_BUDGET = 256 * 1024;
/** a file copy over the runtime's protocol that gets no answer (a frozen runtime) gives up after this */
const WRITE_FILES_TIMEOUT_MS = 30_000;

/** How often the container looks for idleness: a quarter of the timeout, between 1 and 15 seconds. */
function idleCheckSeconds(idleMinutes: number): number {
  return Math.min(15, Math.max(1, Math.round((idleMinutes * 60) / 4)));
}

/**
 * Owns the sessions of one engine for this process. The engine is the source of truth (labels on
 * containers); this object adds what only this process knows: operations under way, runtime
 * connections and the last failure. Operations on one session are serialised.
 */
export class SessionManager {
  readonly engine: Engine;
  private readonly settings: SessionSettings;
  private readonly queue = new KeyedQueue();
  private readonly operations = new Map<string, Operation>();
  private readonly failures = new Map<string, string>();
  private readonly runtimes = new Map<string, Promise<RuntimeClient>>();
  private readonly inflightUp = new Map<string, Promise<SessionStatus>>();
  private readonly crashes = new Map<string, number[]>();
  /** what each session's container already holds of its flow folder, by container */
  private readonly synced = new Map<string, { container: string; files: SyncedFiles }>();
  /** the container each connected runtime runs in */
  private readonly runtimeContainers = new Map<string, string>();
  /** runtimes that answered their first ping and have not exited */
  private readonly connected = new Map<string, RuntimeClient>();
  private readonly emitter = new EventEmitter();
  private subscription?: EventSubscription;
  private disposed = false;

  constructor(private readonly options: SessionManagerOptions) {
    this.engine = options.engine;
    this.settings = options.settings;
    this.emitter.setMaxListeners(0);
  }

  private log(line: string): void {
    this.options.log?.(line);
  }

  baseImageFor(env: Pick<FlowEnvironment, 'image'>): string {
    return this.options.baseImageOverride || env.image || this.settings.baseImage;
  }

  private emit(change: SessionChange): void {
    this.emitter.emit('change', change);
  }

  /** Session changes, from this process's operations and from engine events (other processes, crashes). */
  onDidChange(listener: (change: SessionChange) => void): { dispose(): void } {
    this.emitter.on('change', listener);
    if (!this.subscription) {
      this.subscription = this.engine.subscribe(
        { [SESSION_LABELS.session]: true },
        (e) => this.onEngineEvent(e),
        (connected) => this.emit({ key: '*', action: connected ? 'engine-connected' : 'engine-disconnected' }),
      );
    }
    return { dispose: () => this.emitter.off('change', listener) };
  }

  private onEngineEvent(e: EngineEvent): void {
    const key = e.labels[SESSION_LABELS.session];
    if (!key) return;
    if (e.action === 'die' || e.action === 'destroy' || e.action === 'kill' || e.action === 'stop') {
      const rt = this.runtimes.get(key);
      if (rt && (e.action === 'die' || e.action === 'destroy')) {
        this.runtimes.delete(key);
        this.connected.delete(key);
        this.runtimeContainers.delete(key);
        void rt.then(
          (c) => c.close(),
          () => undefined,
        );
      }
    }
    this.emit({ key, flowDir: e.labels[SESSION_LABELS.flow], action: e.action });
  }

  private async findContainer(key: string): Promise<ContainerDetails | undefined> {
    const c = await this.engine.inspectContainer(containerName(key));
    return c && c.labels[SESSION_LABELS.session] === key ? c : undefined;
  }

  private outdated(c: Pick<ContainerDetails, 'labels'>, env: FlowEnvironment | undefined): boolean {
    if (!env) return false;
    return (
      c.labels[SESSION_LABELS.base] !== this.baseImageFor(env) ||
      c.labels[SESSION_LABELS.requirements] !== contentHash(env.requirements) ||
      c.labels[SESSION_LABELS.runtimeVersion] !== runtimeVersion()
    );
  }

  private statusOf(flowDir: string, key: string, c: ContainerDetails | undefined, env: FlowEnvironment | undefined): SessionStatus {
    const base: SessionStatus = { flowDir, key, state: 'not-created', outdated: false, engine: this.engine.endpoint.host };
    const op = this.operations.get(key);
    if (c) {
      Object.assign(base, {
        container: c.id,
        containerName: c.name,
        image: c.image,
        env: c.labels[SESSION_LABELS.env],
        baseImage: c.labels[SESSION_LABELS.base],
        runtimeVersion: c.labels[SESSION_LABELS.runtimeVersion],
        outdated: this.outdated(c, env),
      });
      if (c.running) base.state = 'ready';
      else if (c.state === 'removing') base.state = 'stopping';
      else {
        base.state = 'stopped';
        base.exitCode = c.exitCode;
        if (c.oomKilled) base.reason = 'The session ran out of memory (raise flowsession.memoryMb).';
      }
    }
    if (op) {
      base.state = op.state;
      base.phase = op.phase;
    } else if (!c && this.failures.has(key)) {
      base.state = 'failed';
      base.reason = this.failures.get(key);
    }
    return base;
  }

  /** The session of a flow folder as the engine and this process see it now. */
  async status(flowDir: string): Promise<SessionStatus> {
    let env: FlowEnvironment | undefined;
    let dir = flowDir;
    try {
      env = readFlowEnvironment(flowDir);
      dir = env.flowDir;
    } catch (e) {
      if (!isFlowSessionError(e) || e.kind !== 'flow-definition-error') throw e;
    }
    const key = sessionKey(dir);
    try {
      return this.statusOf(dir, key, await this.findContainer(key), env);
    } catch (e) {
      if (isFlowSessionError(e) && e.engineUnreachable) {
        return { flowDir: dir, key, state: 'unavailable', reason: e.describe(), outdated: false, engine: this.engine.endpoint.host };
      }
      throw e;
    }
  }

  /** Every session on the engine, found by label: what other windows and the CLI created too. */
  async list(): Promise<SessionStatus[]> {
    const containers = await this.engine.listContainers({ [SESSION_LABELS.session]: true });
    return containers.map((c) => {
      const key = c.labels[SESSION_LABELS.session];
      const op = this.operations.get(key);
      return {
        flowDir: c.labels[SESSION_LABELS.flow] ?? '',
        key,
        state: op?.state ?? (c.state === 'running' ? 'ready' : 'stopped'),
        phase: op?.phase,
        outdated: false,
        container: c.id,
        containerName: c.name,
        image: c.image,
        env: c.labels[SESSION_LABELS.env],
        baseImage: c.labels[SESSION_LABELS.base],
        runtimeVersion: c.labels[SESSION_LABELS.runtimeVersion],
        engine: this.engine.endpoint.host,
      } satisfies SessionStatus;
    });
  }

  /**
   * The sessions of many flow folders from one engine list call, instead of one inspect each: what a tree of
   * many flows needs to render. A folder whose flow.dag.yaml cannot be read is reported failed with the reason.
   */
  async statusesOf(flowDirs: string[]): Promise<SessionStatus[]> {
    const byKey = new Map(
      (await this.engine.listContainers({ [SESSION_LABELS.session]: true })).map((c) => [c.labels[SESSION_LABELS.session], c]),
    );
    return flowDirs.map((flowDir) => {
      let env: FlowEnvironment | undefined;
      let dir = flowDir;
      let reason: string | undefined;
      try {
        env = readFlowEnvironment(flowDir);
        dir = env.flowDir;
      } catch (e) {
        reason = errorMessage(e);
      }
      const key = sessionKey(dir);
      const c = byKey.get(key);
      // a list entry carries what the tree shows; the exit code is only in its status text ("Exited (137) …")
      const exit = c ? /Exited \((-?\d+)\)/.exec(c.status ?? '') : null;
      const details =
        c &&
        ({ ...c, running: c.state === 'running', exitCode: exit ? Number(exit[1]) : 0, oomKilled: false } as unknown as ContainerDetails);
      const status = this.statusOf(dir, key, details, env);
      if (reason && status.state === 'not-created') return { ...status, state: 'failed', reason };
      return status;
    });
  }

  private async withOperation<T>(
    key: string,
    flowDir: string,
    op: Operation,
    fn: (setPhase: (phase: string) => void) => Promise<T>,
  ): Promise<T> {
    this.operations.set(key, op);
    this.emit({ key, flowDir, action: op.state });
    try {
      return await fn((phase) => {
        if (op.phase !== phase) {
          op.phase = phase;
          this.emit({ key, flowDir, action: `phase:${phase}` });
        }
      });
    } finally {
      this.operations.delete(key);
      this.emit({ key, flowDir, action: 'settled' });
    }
  }

  /** Creates the session if needed, starts it, copies the flow in and waits for the runtime. */
  up(flowDir: string, onProgress?: SessionProgress): Promise<SessionStatus> {
    const env = readFlowEnvironment(flowDir);
    const key = sessionKey(env.flowDir);
    const inflight = this.inflightUp.get(key);
    if (inflight) return inflight;
    const p = this.queue.run(key, () => this.doUp(env, key, onProgress)).finally(() => this.inflightUp.delete(key));
    this.inflightUp.set(key, p);
    return p;
  }

  private async doUp(env: FlowEnvironment, key: string, onProgress?: SessionProgress): Promise<SessionStatus> {
    let existing = await this.findContainer(key);
    // the flow goes in once the runtime runs: over its protocol it takes milliseconds
    let copy: 'fresh' | 'replace' | 'update' = 'update';
    if (!existing) {
      this.failures.delete(key);
      try {
        const created = await this.withOperation(key, env.flowDir, { state: 'creating', phase: 'pulling' }, (setPhase) =>
          this.create(env, key, (r) => {
            if (r.phase) setPhase(r.phase);
            onProgress?.(r);
          }),
        );
        existing = created.container;
        if (created.fresh) copy = 'fresh';
      } catch (e) {
        this.failures.set(key, errorMessage(e));
        this.emit({ key, flowDir: env.flowDir, action: 'failed' });
        throw e;
      }
    } else if (!existing.running) {
      await this.withOperation(key, env.flowDir, { state: 'creating', phase: 'starting' }, async () => {
        onProgress?.({ phase: 'starting', message: 'Starting the session' });
        await this.engine.startContainer(existing!.id);
      });
      copy = 'replace';
    }
    try {
      await this.runtimeFor(key, existing.id);
      await this.copyFlow(existing.id, env, copy === 'replace');
    } catch (e) {
      if (copy === 'fresh') {
        // a session that never became ready is not left behind
        await this.closeRuntime(key);
        await this.engine.removeContainer(existing.id).catch(() => undefined);
        this.failures.set(key, errorMessage(e));
        this.emit({ key, flowDir: env.flowDir, action: 'failed' });
      }
      throw e;
    }
    return this.statusOf(env.flowDir, key, await this.findContainer(key), env);
  }

  private sessionLabels(env: FlowEnvironment, key: string, envHash: string, baseRef: string): Record<string, string> {
    return {
      ...this.settings.extraLabels,
      [SESSION_LABELS.session]: key,
      [SESSION_LABELS.flow]: env.flowDir,
      [SESSION_LABELS.env]: envHash,
      [SESSION_LABELS.runtimeVersion]: runtimeVersion(),
      [SESSION_LABELS.idleTimeout]: String(this.settings.idleTimeoutMinutes),
      [SESSION_LABELS.base]: baseRef,
      [SESSION_LABELS.requirements]: contentHash(env.requirements),
    };
  }

  private async create(
    env: FlowEnvironment,
    key: string,
    onProgress: SessionProgress,
  ): Promise<{ container: ContainerDetails; fresh: boolean }> {
    const baseRef = this.baseImageFor(env);
    if (!isValidImageRef(baseRef))
      throw new FlowSessionError(
        'bad-input',
        `'${baseRef.slice(0, 200)}' is not a valid image name.`,
        'Fix environment.image in flow.dag.yaml or the base image setting (e.g. python:3.11-slim).',
      );
    const imageOptions = { pip: this.settings.pip, networkMode: this.settings.network, labels: this.settings.extraLabels, onProgress };
    const runtime = await ensureRuntimeImage(this.engine, baseRef, imageOptions);
    const image = await ensureEnvironmentImage(this.engine, runtime, env.requirements, imageOptions);
    onProgress({ phase: 'starting', message: 'Starting the session' });
    let id: string;
    try {
      id = await this.engine.createContainer({
        name: containerName(key),
        image: image.ref,
        user: SESSION_USER,
        cmd: [
          '--idle-minutes',
          String(this.settings.idleTimeoutMinutes),
          '--activity-file',
          IMAGE_PATHS.activityFile,
          '--check-seconds',
          String(idleCheckSeconds(this.settings.idleTimeoutMinutes)),
        ],
        labels: this.sessionLabels(env, key, image.envHash, baseRef),
        hardened: true,
        cpus: this.settings.cpus,
        memoryMb: this.settings.memoryMb,
        networkMode: this.settings.network,
      });
    } catch (e) {
      // another window or the CLI is creating this session right now: join it
      if (/Conflict|already in use/i.test(errorMessage(e))) return { container: await this.waitForRunning(key), fresh: false };
      throw e;
    }
    try {
      await this.engine.startContainer(id);
      const created = await this.engine.inspectContainer(id);
      if (!created?.running)
        throw new FlowSessionError(
          'runtime-crashed',
          `The session container stopped right after it started (exit code ${created?.exitCode ?? '?'}).`,
          'Check `flowsession session status --json` and the base image.',
        );
      return { container: created, fresh: true };
    } catch (e) {
      await this.engine.removeContainer(id).catch(() => undefined);
      throw e;
    }
  }

  private async waitForRunning(key: string): Promise<ContainerDetails> {
    const deadline = Date.now() + JOIN_TIMEOUT_MS;
    // the engine reserves the name before the container can be inspected: "not found" is normal for a moment
    const appearBy = Date.now() + 10_000;
    while (Date.now() < deadline) {
      const c = await this.findContainer(key);
      if (c?.running) return c;
      if (c && c.state === 'exited')
        throw new FlowSessionError('runtime-crashed', 'The session another process created stopped.', 'Start it again.');
      if (!c && Date.now() > appearBy)
        throw new FlowSessionError('session-not-found', 'The session another process was creating is gone.', 'Start it again.');
      await new Promise((r) => setTimeout(r, 250));
    }
    throw new FlowSessionError(
      'engine-timeout',
      'Gave up waiting for the session another process is creating.',
      'Check that process, or delete the session and start again.',
    );
  }

  /** Copies the flow folder into the session: all of it (replacing what is there) or what changed since the last copy. */
  private async copyFlow(id: string, env: FlowEnvironment, replace: boolean): Promise<void> {
    const key = sessionKey(env.flowDir);
    let record = this.synced.get(key);
    if (replace || !record || record.container !== id) {
      record = { container: id, files: new SyncedFiles() };
      this.synced.set(key, record);
    }
    const files = listFlowFiles(env.flowDir, env.additionalIncludes);
    const changed = record.files.changed(files);
    if (changed.length === 0 && !replace) return;
    const live = this.connected.get(key);
    const small = changed.reduce((n, f) => n + f.size, 0) <= PROTOCOL_COPY_LIMIT;
    if (live && !live.isClosed && this.runtimeContainers.get(key) === id && small) {
      await live.request(
        Methods.writeFiles,
        {
          clear: replace,
          files: changed.filter((f) => !f.dir).map((f) => ({ path: f.name, content: fs.readFileSync(f.abs).toString('base64') })),
        },
        { timeoutMs: WRITE_FILES_TIMEOUT_MS },
      );
    } else {
      if (replace) {
        const r = await this.engine.exec(
          id,
          [
            IMAGE_PATHS.python,
            '-c',
            'import os, shutil, sys\nfor n in os.listdir(sys.argv[1]):\n    p = os.path.join(sys.argv[1], n)\n    shutil.rmtree(p) if os.path.isdir(p) and not os.path.islink(p) else os.remove(p)',
            IMAGE_PATHS.flow,
          ],
          { user: SESSION_USER },
        );
        if (r.exitCode !== 0)
          throw new FlowSessionError(
            'runtime-crashed',
            `Could not refresh the flow files in the session: ${outputTail(r, 3)}`,
            'Reset the session.',
          );
      }
      await this.engine.putArchive(id, IMAGE_PATHS.flow, await packFlowFiles(changed));
    }
    record.files.record(changed);
  }

  /** Copies what changed in the flow folder into its running session (before a run or a full validation). */
  async syncFlow(flowDir: string): Promise<void> {
    const env = readFlowEnvironment(flowDir);
    const key = sessionKey(env.flowDir);
    const id = this.runtimeContainers.get(key) ?? (await this.findContainer(key))?.id;
    if (!id) return;
    await this.copyFlow(id, env, false);
  }

  /** Copies one saved file of the flow into its running session: over the runtime when it is connected (a few ms). */
  async syncFile(flowDir: string, relPath: string): Promise<void> {
    const dir = resolveFlowDir(flowDir);
    const key = sessionKey(dir);
    const rel = relPath.split(path.sep).join('/');
    const live = this.connected.get(key);
    const abs = path.resolve(dir, rel);
    if (live && !live.isClosed && fs.statSync(abs).size <= PROTOCOL_COPY_LIMIT) {
      if (path.relative(dir, abs).startsWith('..'))
        throw new FlowSessionError(
          'bad-input',
          `${relPath} is outside the flow folder.`,
          'Only files of the flow folder are copied into the session.',
        );
      await live.request(
        Methods.writeFiles,
        { files: [{ path: rel, content: fs.readFileSync(abs).toString('base64') }] },
        { timeoutMs: WRITE_FILES_TIMEOUT_MS },
      );
      return;
    }
    const c = await this.findContainer(key);
    if (!c?.running) return;
    await this.engine.putArchive(c.id, IMAGE_PATHS.flow, await fileArchive(dir, rel));
  }

  /** The connected runtime of a flow's session, without asking the engine: the hot path of on-save validation. */
  liveRuntime(flowDir: string): RuntimeClient | undefined {
    const key = sessionKey(resolveFlowDir(flowDir));
    const client = this.connected.get(key);
    return client && !client.isClosed ? client : undefined;
  }

  private runtimeFor(key: string, containerId: string): Promise<RuntimeClient> {
    const existing = this.runtimes.get(key);
    if (existing) return existing;
    const p = this.startRuntime(key, containerId);
    this.runtimes.set(key, p);
    p.catch(() => this.runtimes.delete(key));
    return p;
  }

  private async startRuntime(key: string, containerId: string): Promise<RuntimeClient> {
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
      if (logged.bytes <= RUNTIME_LOG_BUDGET) this.log(`[runtime ${key.slice(0, 8)}] ${t.trimEnd()}`);
      else if (!logged.dropped) {
        logged.dropped = true;
        this.log(
          `[runtime ${key.slice(0, 8)}] more than ${RUNTIME_LOG_BUDGET / 1024} KB of output in a minute; the rest of this minute's output is not logged`,
        );
      }
    });
    client.onExit((code) => {
      if (this.runtimes.get(key) === current) this.runtimes.delete(key);
      if (this.connected.get(key) === client) {
        this.connected.delete(key);
        this.runtimeContainers.delete(key);
      }
      if (this.disposed) return;
      this.log(`[runtime ${key.slice(0, 8)}] exited with code ${code}`);
      void this.restartRuntimeAfterCrash(key, containerId);
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
    this.connected.set(key, client);
    this.runtimeContainers.set(key, containerId);
    return client;
  }

  /** A runtime that died while its container runs is started again, unless it keeps dying. */
  private async restartRuntimeAfterCrash(key: string, containerId: string): Promise<void> {
    const now = Date.now();
    const recent = (this.crashes.get(key) ?? []).filter((t) => now - t < 60_000);
    recent.push(now);
    this.crashes.set(key, recent);
    const c = await this.engine.inspectContainer(containerId).catch(() => undefined);
    if (!c?.running || this.disposed) return;
    if (recent.length > 3) {
      this.log(`[runtime ${key.slice(0, 8)}] crashed ${recent.length} times in a minute; not restarting until the next request`);
      return;
    }
    await this.runtimeFor(key, containerId).catch((e) => this.log(`[runtime ${key.slice(0, 8)}] restart failed: ${errorMessage(e)}`));
    this.emit({ key, flowDir: c.labels[SESSION_LABELS.flow], action: 'runtime-restarted' });
  }

  /** The runtime of a running session, started when it is not (the session must exist). */
  async runtime(flowDir: string): Promise<RuntimeClient> {
    const live = this.liveRuntime(flowDir);
    if (live) return live;
    const env = readFlowEnvironment(flowDir);
    const key = sessionKey(env.flowDir);
    const c = await this.findContainer(key);
    if (!c)
      throw new FlowSessionError(
        'session-not-found',
        `No session for ${env.flowDir}.`,
        'Start one with `flowsession session up` or "Flow Session: Start Session".',
      );
    if (!c.running) throw new FlowSessionError('session-not-running', `The session for ${env.flowDir} is stopped.`, 'Start it again.');
    return this.runtimeFor(key, c.id);
  }

  private async requireContainer(flowDir: string): Promise<{ env: FlowEnvironment; key: string; c: ContainerDetails }> {
    const env = readFlowEnvironment(flowDir);
    const key = sessionKey(env.flowDir);
    const c = await this.findContainer(key);
    if (!c)
      throw new FlowSessionError(
        'session-not-found',
        `No session for ${env.flowDir}.`,
        'Start one with `flowsession session up` or "Flow Session: Start Session".',
      );
    return { env, key, c };
  }

  /** Starts an existing stopped session. */
  async start(flowDir: string, onProgress?: SessionProgress): Promise<SessionStatus> {
    await this.requireContainer(flowDir);
    return this.up(flowDir, onProgress);
  }

  async stop(flowDir: string): Promise<SessionStatus> {
    const { env, key, c } = await this.requireContainer(flowDir);
    await this.queue.run(key, () =>
      this.withOperation(key, env.flowDir, { state: 'stopping' }, async () => {
        await this.closeRuntime(key);
        await this.engine.stopContainer(c.id, 5);
      }),
    );
    return this.statusOf(env.flowDir, key, await this.findContainer(key), env);
  }

  async restart(flowDir: string, onProgress?: SessionProgress): Promise<SessionStatus> {
    await this.stop(flowDir);
    return this.up(flowDir, onProgress);
  }

  /** Recreates the session with the flow's current environment; packages installed by hand are dropped. */
  async reset(flowDir: string, onProgress?: SessionProgress): Promise<SessionStatus> {
    const env = readFlowEnvironment(flowDir);
    const key = sessionKey(env.flowDir);
    await this.queue.run(key, async () => {
      await this.closeRuntime(key);
      const c = await this.findContainer(key);
      if (c) await this.engine.removeContainer(c.id);
    });
    return this.up(flowDir, onProgress);
  }

  async remove(flowDir: string): Promise<SessionStatus> {
    const env = readFlowEnvironment(flowDir);
    const key = sessionKey(env.flowDir);
    return this.queue.run(key, async () => {
      await this.closeRuntime(key);
      const c = await this.findContainer(key);
      if (c) await this.engine.removeContainer(c.id);
      this.failures.delete(key);
      this.emit({ key, flowDir: env.flowDir, action: 'removed' });
      return this.statusOf(env.flowDir, key, undefined, env);
    });
  }

  private async closeRuntime(key: string): Promise<void> {
    const rt = this.runtimes.get(key);
    this.runtimes.delete(key);
    this.connected.delete(key);
    this.runtimeContainers.delete(key);
    if (rt) (await rt.catch(() => undefined))?.close();
  }

  /** Installs packages by hand into the running session; they live until the session is reset. */
  async install(flowDir: string, specs: string[], onProgress?: SessionProgress): Promise<string> {
    const packages = checkPackageSpecs(specs);
    const { env, key, c } = await this.requireContainer(flowDir);
    if (!c.running) throw new FlowSessionError('session-not-running', 'The session is stopped.', 'Start it, then install.');
    return this.queue.run(key, () =>
      this.withOperation(key, env.flowDir, { state: 'busy', phase: 'installing' }, async () => {
        const r = await this.engine.exec(
          c.id,
          [
            IMAGE_PATHS.python,
            '-m',
            'pip',
            'install',
            '--no-cache-dir',
            '--disable-pip-version-check',
            '--no-input',
            '--progress-bar',
            'off',
            ...pipOptionArgs(this.settings.pip),
            '--',
            ...packages,
          ],
          {
            user: SESSION_USER,
            onStdout: (log) => onProgress?.({ phase: 'installing', log }),
            onStderr: (log) => onProgress?.({ phase: 'installing', log }),
            maxOutputBytes: 256 * 1024,
          },
        );
        if (r.exitCode !== 0)
          throw (
            (await this.lostDuring(c.id, `installing ${packages.join(' ')}`, r.exitCode)) ??
            new FlowSessionError(
              'requirements-failed',
              `pip could not install ${packages.join(' ')}:\n${outputTail(r)}`,
              'Check the package names and the pip settings (flowsession.pip.*).',
            )
          );
        return outputTail(r, 3);
      }),
    );
  }

  /** Installs the flow's requirements file into the running session (without rebuilding its image). */
  async installRequirements(flowDir: string, onProgress?: SessionProgress): Promise<string> {
    const { env, key, c } = await this.requireContainer(flowDir);
    if (!env.requirementsFile)
      throw new FlowSessionError('bad-input', `${env.flowDir} has no requirements file.`, 'Create requirements.txt in the flow folder.');
    if (!c.running) throw new FlowSessionError('session-not-running', 'The session is stopped.', 'Start it, then install.');
    await this.syncFile(flowDir, env.requirementsFile);
    return this.queue.run(key, () =>
      this.withOperation(key, env.flowDir, { state: 'busy', phase: 'installing' }, async () => {
        const r = await this.engine.exec(
          c.id,
          [
            IMAGE_PATHS.python,
            '-m',
            'pip',
            'install',
            '--no-cache-dir',
            '--disable-pip-version-check',
            '--no-input',
            '--progress-bar',
            'off',
            ...pipOptionArgs(this.settings.pip),
            '-r',
            `${IMAGE_PATHS.flow}/${env.requirementsFile}`,
          ],
          {
            user: SESSION_USER,
            onStdout: (log) => onProgress?.({ phase: 'installing', log }),
            onStderr: (log) => onProgress?.({ phase: 'installing', log }),
            maxOutputBytes: 256 * 1024,
          },
        );
        if (r.exitCode !== 0)
          throw (
            (await this.lostDuring(c.id, `installing ${env.requirementsFile}`, r.exitCode)) ??
            new FlowSessionError(
              'requirements-failed',
              `Installing ${env.requirementsFile} failed:\n${outputTail(r)}`,
              'Fix the requirements file or the pip settings.',
            )
          );
        return outputTail(r, 3);
      }),
    );
  }

  /** When a command failed because its session container was stopped or removed meanwhile, the error that says so. */
  private async lostDuring(id: string, what: string, exitCode?: number): Promise<FlowSessionError | undefined> {
    let c = await this.engine.inspectContainer(id).catch(() => undefined);
    // a command killed with its container (a signal's exit code, or none) can end before the engine shows the
    // container stopped or gone: look again for a moment before blaming the command
    for (let i = 0; c?.running && (exitCode === undefined || exitCode < 0 || exitCode >= 128) && i < 15; i++) {
      await new Promise((r) => setTimeout(r, 200));
      c = await this.engine.inspectContainer(id).catch(() => undefined);
    }
    if (c?.running) return undefined;
    return c
      ? new FlowSessionError('session-not-running', `The session stopped while ${what}.`, 'Start the session again, then retry.')
      : new FlowSessionError('session-not-found', `The session was removed while ${what}.`, 'Start the session again, then retry.');
  }

  /** Installed packages with their origin: base image, requirements, or installed by hand. */
  async packages(flowDir: string): Promise<InstalledPackage[]> {
    const { c } = await this.requireContainer(flowDir);
    if (!c.running) throw new FlowSessionError('session-not-running', 'The session is stopped.', 'Start it to list its packages.');
    const r = await this.engine.exec(
      c.id,
      [IMAGE_PATHS.python, `${IMAGE_PATHS.runtime}/image/list_packages.py`, '--origins', IMAGE_PATHS.basePackages, IMAGE_PATHS.envPackages],
      { user: SESSION_USER },
    );
    if (r.exitCode !== 0)
      throw new FlowSessionError('runtime-crashed', `Listing packages failed: ${outputTail(r, 3)}`, 'Reset the session.');
    const data = JSON.parse(r.stdout) as {
      current: { name: string; version: string }[];
      base: { name: string; version: string }[] | null;
      env: { name: string; version: string }[] | null;
    };
    return classifyPackages(data.current, data.base, data.env);
  }

  /** Closes runtime connections and the event stream; sessions keep running in the engine. */
  dispose(): void {
    this.disposed = true;
    this.subscription?.dispose();
    for (const rt of this.runtimes.values())
      void rt.then(
        (c) => c.close(),
        () => undefined,
      );
    this.runtimes.clear();
    this.emitter.removeAllListeners();
  }

  /** Progress reports as one line each, for a terminal. */
  static describeProgress(r: ProgressReport): string | undefined {
    if (r.log) return r.log.trimEnd();
    if (r.message) return `${r.phase ? `[${r.phase}] ` : ''}${r.message}${r.percent !== undefined ? ` ${r.percent}%` : ''}`;
    return undefined;
  }
}
