import { EventEmitter } from 'events';
import type { ContainerDetails, ContainerSummary, Engine, EngineEvent, EventSubscription } from '../docker/engine';
import type { ProgressReport } from '../docker/progress';
import { FlowSessionError, errorMessage, isFlowSessionError } from '../errors';
import { readFlowEnvironment, resolveFlowDir, type FlowEnvironment } from '../flow/environment';
import { isValidImageRef } from '../imageRef';
import { ensureEnvironmentImage } from '../image/environmentImage';
import { checkPackageSpecs } from '../image/pipOptions';
import { IMAGE_PATHS, SESSION_USER, runtimeVersion } from '../image/runtimeFiles';
import { ensureRuntimeImage } from '../image/runtimeImage';
import type { RuntimeClient } from '../runtime/client';
import type { SessionSettings } from '../settings';
import { FlowSync } from './flowSync';
import { KeyedQueue } from './keyedQueue';
import { SESSION_LABELS, containerName, contentHash, findSessionContainer, sessionKey } from './labels';
import type { InstalledPackage } from './packages';
import { RuntimeSupervisor } from './runtimeSupervisor';
import { SessionPackages } from './sessionPackages';
import { isOutdated, sessionStatus } from './sessionStatus';
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

const JOIN_TIMEOUT_MS = 30 * 60_000;

/** How often the container looks for idleness: a quarter of the timeout, between 1 and 15 seconds. */
function idleCheckSeconds(idleMinutes: number): number {
  return Math.min(15, Math.max(1, Math.round((idleMinutes * 60) / 4)));
}

function requireRunning(c: ContainerDetails, remedy: string): void {
  if (!c.running) throw new FlowSessionError('session-not-running', 'The session is stopped.', remedy);
}

/**
 * Owns the sessions of one engine for this process: their lifecycle and state. The engine is the source of truth
 * (labels on containers); this object adds what only this process knows: operations under way and the last
 * failure. Operations on one session are serialised. It delegates the runtime process in each session to
 * RuntimeSupervisor, copying the flow folder in to FlowSync, and packages to SessionPackages.
 */
export class SessionManager {
  readonly engine: Engine;
  private readonly settings: SessionSettings;
  private readonly queue = new KeyedQueue();
  private readonly operations = new Map<string, Operation>();
  private readonly failures = new Map<string, string>();
  private readonly inflightUp = new Map<string, Promise<SessionStatus>>();
  private readonly runtimes: RuntimeSupervisor;
  private readonly flowFiles: FlowSync;
  private readonly installed: SessionPackages;
  private readonly emitter = new EventEmitter();
  private subscription?: EventSubscription;

  constructor(private readonly options: SessionManagerOptions) {
    this.engine = options.engine;
    this.settings = options.settings;
    this.emitter.setMaxListeners(0);
    this.runtimes = new RuntimeSupervisor({
      engine: this.engine,
      log: (line) => this.options.log?.(line),
      onRestarted: (key, flowDir) => this.emit({ key, flowDir, action: 'runtime-restarted' }),
    });
    this.flowFiles = new FlowSync(this.engine, this.runtimes, (line) => this.options.log?.(line));
    this.installed = new SessionPackages(this.engine, this.settings);
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
    if (e.action === 'die' || e.action === 'destroy') this.runtimes.containerGone(key);
    this.emit({ key, flowDir: e.labels[SESSION_LABELS.flow], action: e.action });
  }

  private findContainer(key: string): Promise<ContainerDetails | undefined> {
    return findSessionContainer(this.engine, key);
  }

  /** The status of a session from its container (if any) and what this process knows of it. */
  private statusOf(
    flowDir: string,
    key: string,
    c: ContainerSummary | ContainerDetails | undefined,
    env: FlowEnvironment | undefined,
  ): SessionStatus {
    return sessionStatus(c, {
      flowDir,
      key,
      engine: this.engine.endpoint.host,
      operation: this.operations.get(key),
      failure: this.failures.get(key),
      outdated: c !== undefined && env !== undefined && isOutdated(c.labels, this.baseImageFor(env), env.requirements),
    });
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
    return containers.map((c) => this.statusOf(c.labels[SESSION_LABELS.flow] ?? '', c.labels[SESSION_LABELS.session], c, undefined));
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
      const status = this.statusOf(dir, key, byKey.get(key), env);
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
      await this.runtimes.start(key, existing.id);
      await this.flowFiles.copyFlow(existing.id, env, copy === 'replace', onProgress);
    } catch (e) {
      if (copy === 'fresh') {
        // a session that never became ready is not left behind
        await this.runtimes.close(key);
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

  /** Copies what changed in the flow folder into its running session (before a run or a full validation). */
  async syncFlow(flowDir: string): Promise<void> {
    await this.flowFiles.syncFlow(readFlowEnvironment(flowDir));
  }

  /** Copies one saved file of the flow into its running session: over the runtime when it is connected (a few ms). */
  async syncFile(flowDir: string, relPath: string): Promise<void> {
    await this.flowFiles.syncFile(resolveFlowDir(flowDir), relPath);
  }

  /** The connected runtime of a flow's session, without asking the engine: the hot path of on-save validation. */
  liveRuntime(flowDir: string): RuntimeClient | undefined {
    return this.runtimes.live(sessionKey(resolveFlowDir(flowDir)));
  }

  /** The runtime of a running session, started when it is not (the session must exist). */
  async runtime(flowDir: string): Promise<RuntimeClient> {
    const live = this.liveRuntime(flowDir);
    if (live) return live;
    const { env, key, c } = await this.requireContainer(flowDir);
    if (!c.running) throw new FlowSessionError('session-not-running', `The session for ${env.flowDir} is stopped.`, 'Start it again.');
    return this.runtimes.start(key, c.id);
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
        await this.runtimes.close(key);
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
    await this.queue.run(key, () => this.discard(key));
    return this.up(flowDir, onProgress);
  }

  async remove(flowDir: string): Promise<SessionStatus> {
    const env = readFlowEnvironment(flowDir);
    const key = sessionKey(env.flowDir);
    return this.queue.run(key, async () => {
      await this.discard(key);
      this.failures.delete(key);
      this.emit({ key, flowDir: env.flowDir, action: 'removed' });
      return this.statusOf(env.flowDir, key, undefined, env);
    });
  }

  /** Ends a session's runtime and removes its container, if it has one. */
  private async discard(key: string): Promise<void> {
    await this.runtimes.close(key);
    const c = await this.findContainer(key);
    if (c) await this.engine.removeContainer(c.id);
  }

  /** Installs packages by hand into the running session; they live until the session is reset. */
  async install(flowDir: string, specs: string[], onProgress?: SessionProgress): Promise<string> {
    const packages = checkPackageSpecs(specs);
    const { env, key, c } = await this.requireContainer(flowDir);
    requireRunning(c, 'Start it, then install.');
    return this.installing(key, env.flowDir, () => this.installed.install(c.id, packages, onProgress));
  }

  /** Installs the flow's requirements file into the running session (without rebuilding its image). */
  async installRequirements(flowDir: string, onProgress?: SessionProgress): Promise<string> {
    const { env, key, c } = await this.requireContainer(flowDir);
    const file = env.requirementsFile;
    if (!file)
      throw new FlowSessionError('bad-input', `${env.flowDir} has no requirements file.`, 'Create requirements.txt in the flow folder.');
    requireRunning(c, 'Start it, then install.');
    await this.syncFile(flowDir, file);
    return this.installing(key, env.flowDir, () => this.installed.installRequirements(c.id, file, onProgress));
  }

  /** An install as an operation of its session: after what is queued for it, shown busy while it runs. */
  private installing(key: string, flowDir: string, install: () => Promise<string>): Promise<string> {
    return this.queue.run(key, () => this.withOperation(key, flowDir, { state: 'busy', phase: 'installing' }, install));
  }

  /** Installed packages with their origin: base image, requirements, or installed by hand. */
  async packages(flowDir: string): Promise<InstalledPackage[]> {
    const { c } = await this.requireContainer(flowDir);
    requireRunning(c, 'Start it to list its packages.');
    return this.installed.list(c.id);
  }

  /** Closes runtime connections and the event stream; sessions keep running in the engine. */
  dispose(): void {
    this.subscription?.dispose();
    this.runtimes.dispose();
    this.emitter.removeAllListeners();
  }

  /** Progress reports as one line each, for a terminal. */
  static describeProgress(r: ProgressReport): string | undefined {
    if (r.log) return r.log.trimEnd();
    if (r.message) return `${r.phase ? `[${r.phase}] ` : ''}${r.message}${r.percent !== undefined ? ` ${r.percent}%` : ''}`;
    return undefined;
  }
}
