/**
 * A second, dedicated Docker engine for the fault tests, so they can stop, kill and restart an engine (and
 * fill its disk) without touching the machine's main engine that other tests use. Its data root lives on a
 * small loop-mounted ext4 file under /var/lib/flowsession-test-faults (kept between runs, so the base image
 * loaded into it is cached there); its socket sits in the run folder; no bridge, no iptables (sessions use
 * host networking, as the test world sets FLOWSESSION_NETWORK=host).
 */
import { spawn, spawnSync } from 'child_process';
import Docker from 'dockerode';
import * as fs from 'fs';
import * as path from 'path';
import { resolveEndpoint } from '../../../src/core/docker/endpoint';
import { DockerEngine } from '../../../src/core/docker/dockerEngine';
import { createCoreServices } from '../../../src/core/services';
import type { SessionManager } from '../../../src/core/session/sessionManager';
import { settingsFromEnv } from '../../../src/cli/settingsFromEnv';
import { BASE_IMAGE } from '../world/baseImages';
import { isRoot, onPath, processAlive } from '../world/machine';
import { waitUntil } from '../waiting';
import { restoreDefaultBridge } from '../world/defaultBridge';
import { cleanUp, testEngine, world } from '../world/world';

const HOME = '/var/lib/flowsession-test-faults';
const DISK = path.join(HOME, 'disk.img');
const MOUNT = path.join(HOME, 'mnt');
const OWNER = path.join(HOME, 'owner');
const DISK_BYTES = 3 * 1024 * 1024 * 1024;

function sh(cmd: string, args: string[]): { ok: boolean; out: string } {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  return { ok: r.status === 0, out: `${r.stdout ?? ''}${r.stderr ?? ''}`.trim() };
}

export class FaultsEngine {
  readonly socket: string;
  readonly host: string;
  readonly engine: DockerEngine;
  readonly dataRoot = path.join(MOUNT, 'docker');
  private readonly execRoot = `/run/fsf-${process.pid}`;
  private readonly pidFile = `/run/fsf-${process.pid}.pid`;
  private pid?: number;

  private constructor(private readonly runDir: string) {
    this.socket = path.join(runDir, 'faults-docker.sock');
    this.host = `unix://${this.socket}`;
    this.engine = new DockerEngine(resolveEndpoint({ dockerHost: this.host }));
  }

  /** Why the dedicated engine cannot run here, or undefined when it can. */
  static unavailable(): string | undefined {
    if (!isRoot()) return 'not root: a second dockerd cannot be started';
    for (const b of ['dockerd', 'losetup', 'mkfs.ext4', 'mount']) if (!onPath(b)) return `${b} is not installed`;
    try {
      const owner = Number(fs.readFileSync(OWNER, 'utf8'));
      if (owner && owner !== process.pid && processAlive(owner))
        return `another test run (pid ${owner}) is using the dedicated fault engine`;
    } catch {
      // no owner: free
    }
    return undefined;
  }

  static async create(log: (l: string) => void): Promise<FaultsEngine> {
    fs.mkdirSync(MOUNT, { recursive: true });
    fs.writeFileSync(OWNER, String(process.pid));
    if (!sh('mountpoint', ['-q', MOUNT]).ok) {
      if (!fs.existsSync(DISK)) {
        log(`making the fault engine's disk (${DISK_BYTES / 2 ** 30} GiB sparse ext4)…`);
        fs.closeSync(fs.openSync(DISK, 'w'));
        fs.truncateSync(DISK, DISK_BYTES);
        const r = sh('mkfs.ext4', ['-q', '-F', DISK]);
        if (!r.ok) throw new Error(`mkfs.ext4 failed: ${r.out}`);
      }
      const r = sh('mount', ['-o', 'loop', DISK, MOUNT]);
      if (!r.ok) throw new Error(`mounting the fault engine's disk failed: ${r.out}`);
    }
    const f = new FaultsEngine(fs.mkdtempSync(path.join(world().runDir, 'f')));
    await f.start();
    await f.ensureBaseImage(log);
    return f;
  }

  get running(): boolean {
    return this.pid !== undefined && processAlive(this.pid);
  }

  async start(): Promise<void> {
    if (this.running) return;
    fs.rmSync(this.socket, { force: true });
    fs.rmSync(this.pidFile, { force: true }); // left by a killed engine: dockerd refuses to start with it
    // the engine's containerd dies with a killed engine; when nothing reaps it, its zombie looks alive to the
    // next dockerd ("containerd is still running"), which then waits for it in vain
    const cpid = path.join(this.execRoot, 'containerd', 'containerd.pid');
    try {
      const pid = Number(fs.readFileSync(cpid, 'utf8'));
      const state = fs.existsSync(`/proc/${pid}/stat`) ? fs.readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '')[0] : 'X';
      if (state === 'Z' || state === 'X') fs.rmSync(cpid, { force: true });
    } catch {
      // no pid file
    }
    const logFile = fs.openSync(path.join(this.runDir, 'dockerd.log'), 'a');
    const child = spawn(
      'dockerd',
      [
        '--data-root',
        this.dataRoot,
        '--exec-root',
        this.execRoot,
        '--pidfile',
        this.pidFile,
        '-H',
        this.host,
        // one attempt per layer: an interrupted pull fails at once instead of after the engine's back-off retries
        '--max-download-attempts',
        '1',
        '--bridge=none',
        '--iptables=false',
        '--ip-masq=false',
        '--containerd-namespace',
        'fsfaults',
        '--containerd-plugins-namespace',
        'fsfaults-plugins',
        '--storage-driver',
        'overlay2',
      ],
      { detached: true, stdio: ['ignore', logFile, logFile] },
    );
    child.unref();
    fs.closeSync(logFile);
    this.pid = child.pid;
    await waitUntil('the fault engine to answer', 60_000, () => this.engine.ping(2000)).catch((e) => {
      throw new Error(`${(e as Error).message} See ${path.join(this.runDir, 'dockerd.log')}.`);
    });
    await restoreDefaultBridge(testEngine()); // --bridge=none removed the main engine's docker0
  }

  /** Stops the engine: SIGTERM (a clean stop, containers stopped) or SIGKILL (a crash). Waits until it is gone. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const pid = this.pid;
    if (!pid || !processAlive(pid)) return;
    process.kill(pid, signal);
    await waitUntil('the fault engine to stop', 40_000, () => !processAlive(pid)).catch(() => {
      process.kill(pid, 'SIGKILL');
    });
    if (this.pid === pid) this.pid = undefined; // a start may have come in between
  }

  private async ensureBaseImage(log: (l: string) => void): Promise<void> {
    if (await this.engine.inspectImage(BASE_IMAGE)) return;
    log(`loading ${BASE_IMAGE} into the fault engine (once: it is kept in ${this.dataRoot})…`);
    const from = new Docker(testEngine().endpoint.options);
    const to = new Docker(this.engine.endpoint.options);
    const tar = await from.getImage(BASE_IMAGE).get();
    const out = (await to.loadImage(tar)) as NodeJS.ReadableStream;
    await new Promise<void>((resolve, reject) => {
      out.on('data', () => undefined);
      out.on('end', resolve);
      out.on('error', reject);
    });
    if (!(await this.engine.inspectImage(BASE_IMAGE))) throw new Error(`loading ${BASE_IMAGE} into the fault engine failed`);
  }

  /** A session manager of this engine, configured like the CLI in the test world. */
  manager(overrides: Record<string, string> = {}): SessionManager {
    const env = { ...process.env, ...world().env, ...overrides };
    return createCoreServices({
      engine: this.engine,
      settings: settingsFromEnv(env, { dockerHost: this.host }),
      baseImageOverride: env.FLOWSESSION_BASE_IMAGE,
    }).manager;
  }

  /** The environment that points the CLI at this engine. */
  get env(): Record<string, string> {
    return { FLOWSESSION_DOCKER_HOST: this.host };
  }

  /** Free bytes on the engine's disk. */
  freeBytes(): number {
    const s = fs.statfsSync(MOUNT);
    return s.bavail * s.bsize;
  }

  get mount(): string {
    return MOUNT;
  }

  /** Removes what this run made in the engine (by label), stops it and unmounts its disk. */
  async dispose(): Promise<void> {
    try {
      if (!this.running) await this.start().catch(() => undefined);
      if (this.running) await cleanUp(this.engine, world().runId).catch(() => undefined);
    } finally {
      await this.stop('SIGTERM');
      fs.rmSync(path.join(MOUNT, 'filler'), { force: true });
      // a killed engine leaves its network namespace and the data root's bind mount mounted
      sh('umount', [path.join(this.execRoot, 'netns', 'default')]);
      sh('umount', ['-R', MOUNT]);
      fs.rmSync(this.execRoot, { recursive: true, force: true });
      fs.rmSync(this.pidFile, { force: true });
      fs.rmSync(OWNER, { force: true });
    }
  }
}
