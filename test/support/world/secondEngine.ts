/**
 * A second Docker engine on this machine for the remote-engine tests: Debian's dockerd with its own data root
 * (kept across runs so images stay cached by tag), exec root, pid file and unix socket, listening on a loopback
 * TCP port with TLS and client certificates made here with openssl. It touches no network: --bridge=none,
 * --iptables=false; session containers on it use host networking, as in the test world. The test base image is
 * copied into it from the first engine when missing.
 */
import { spawn, spawnSync, type ChildProcess } from 'child_process';
import Docker from 'dockerode';
import * as fs from 'fs';
import * as path from 'path';
import type { Readable } from 'stream';
import { modemOptions, resolveEndpoint, type EngineEndpoint } from '../../../src/core/docker/endpoint';
import { DockerEngine } from '../../../src/core/docker/dockerEngine';
import { BASE_IMAGE } from './baseImages';
import { ensureDebianPackage, freePort, isRoot, mkdirp, onPath, processAlive } from './machine';
import { waitUntil } from '../waiting';
import { restoreDefaultBridge } from './defaultBridge';

export const ENGINE2_DATA_ROOT = '/var/lib/flowsession-test-engine2';

export interface Tls {
  dir: string;
  /** DOCKER_CERT_PATH of a client the engine accepts */
  clientDir: string;
  /** a client folder whose ca.pem is another CA: the engine's certificate does not verify */
  wrongCaDir: string;
  /** a client whose certificate another CA signed: the engine refuses it */
  strangerDir: string;
}

export interface SecondEngine {
  /** tcp://127.0.0.1:<port> */
  tcpHost: string;
  port: number;
  /** unix:///…/docker.sock, for the ssh side's `docker system dial-stdio` */
  unixHost: string;
  tls: Tls;
  /** the endpoint over TCP with TLS, as DOCKER_HOST + DOCKER_CERT_PATH + DOCKER_TLS_VERIFY resolve it */
  endpoint: EngineEndpoint;
  engine: DockerEngine;
  /** what a client needs in its environment to reach this engine */
  env: Record<string, string>;
  pid: number;
  /** SIGKILL the daemon (and its managed containerd): an engine dying mid-run */
  kill(): Promise<void>;
  /** starts it again after kill() (same data root, sockets, certificates) */
  restart(): Promise<void>;
  stop(): Promise<void>;
  logFile: string;
}

function openssl(args: string[], cwd: string): void {
  const r = spawnSync('openssl', args, { cwd, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`openssl ${args.join(' ')} failed: ${r.stderr}`);
}

/** A CA, a server certificate for 127.0.0.1/localhost, a client certificate; plus a stranger CA and its client. */
export async function makeCertificates(dir: string, log: (l: string) => void): Promise<Tls> {
  await ensureDebianPackage('openssl', 'openssl', log);
  mkdirp(dir);
  const ca = (name: string) => {
    openssl(['genrsa', '-out', `${name}-key.pem`, '2048'], dir);
    openssl(
      ['req', '-x509', '-new', '-key', `${name}-key.pem`, '-days', '2', '-subj', `/CN=flowsession test ${name}`, '-out', `${name}.pem`],
      dir,
    );
  };
  const signed = (name: string, caName: string, ext: string) => {
    openssl(['genrsa', '-out', `${name}-key.pem`, '2048'], dir);
    openssl(['req', '-new', '-key', `${name}-key.pem`, '-subj', `/CN=${name}`, '-out', `${name}.csr`], dir);
    fs.writeFileSync(path.join(dir, `${name}.ext`), ext);
    openssl(
      [
        'x509',
        '-req',
        '-in',
        `${name}.csr`,
        '-CA',
        `${caName}.pem`,
        '-CAkey',
        `${caName}-key.pem`,
        '-CAcreateserial',
        '-days',
        '2',
        '-extfile',
        `${name}.ext`,
        '-out',
        `${name}.pem`,
      ],
      dir,
    );
  };
  ca('ca');
  ca('other-ca');
  signed('server', 'ca', 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n');
  signed('client', 'ca', 'extendedKeyUsage=clientAuth\n');
  signed('stranger', 'other-ca', 'extendedKeyUsage=clientAuth\n');
  const clientFolder = (name: string, caFile: string, cert: string) => {
    const d = mkdirp(path.join(dir, name));
    fs.copyFileSync(path.join(dir, caFile), path.join(d, 'ca.pem'));
    fs.copyFileSync(path.join(dir, `${cert}.pem`), path.join(d, 'cert.pem'));
    fs.copyFileSync(path.join(dir, `${cert}-key.pem`), path.join(d, 'key.pem'));
    return d;
  };
  return {
    dir,
    clientDir: clientFolder('client-ok', 'ca.pem', 'client'),
    wrongCaDir: clientFolder('client-wrong-ca', 'other-ca.pem', 'client'),
    strangerDir: clientFolder('client-stranger', 'ca.pem', 'stranger'),
  };
}

async function waitGone(pid: number, ms: number): Promise<boolean> {
  return waitUntil(`process ${pid} to end`, ms, () => !processAlive(pid)).then(
    () => true,
    () => false,
  );
}

/** dockerd leaves mounts behind (its network namespace file, the data root bound onto itself): ours go. */
export function unmountUnder(roots: string[]): void {
  let mounts: string[] = [];
  try {
    mounts = fs
      .readFileSync('/proc/mounts', 'utf8')
      .split('\n')
      .map((l) => l.split(' ')[1])
      .filter(Boolean);
  } catch {
    return;
  }
  const ours = mounts.filter((m) => roots.some((r) => m === r || m.startsWith(`${r}/`))).sort((a, b) => b.length - a.length);
  for (const m of ours) spawnSync('umount', ['-l', m]);
}

/** Copies an image from one engine to another that lacks it (save stream → load). */
export async function copyImage(from: DockerEngine, to: DockerEngine, ref: string): Promise<void> {
  if (await to.inspectImage(ref)) return;
  const src = new Docker(modemOptions(from.endpoint.options));
  const dst = new Docker(modemOptions(to.endpoint.options));
  const stream = (await src.getImage(ref).get()) as unknown as Readable;
  const out = (await dst.loadImage(stream as unknown as NodeJS.ReadableStream, { quiet: true } as never)) as unknown as Readable;
  await new Promise<void>((resolve, reject) => {
    out.on('data', () => undefined);
    out.on('end', resolve);
    out.on('error', reject);
  });
  if (!(await to.inspectImage(ref))) throw new Error(`Loading ${ref} into the other engine failed.`);
}

/** Copies the test base image from the first engine when the second lacks it. */
async function copyBaseImage(from: DockerEngine, to: DockerEngine, log: (l: string) => void): Promise<void> {
  if (await to.inspectImage(BASE_IMAGE)) return;
  log(`copying ${BASE_IMAGE} into the second engine…`);
  await copyImage(from, to, BASE_IMAGE);
}

/** Starts the second engine (root only; installs Debian's docker.io and openssl when missing). */
export async function startSecondEngine(runDir: string, first: DockerEngine, log: (l: string) => void): Promise<SecondEngine> {
  if (!isRoot()) throw new Error('The remote-engine tests start a second dockerd and need root.');
  if (!onPath('dockerd')) await ensureDebianPackage('dockerd', 'docker.io', log);
  const dir = mkdirp(path.join(runDir, 'engine2'));
  const tls = await makeCertificates(path.join(dir, 'tls'), log);
  // unix socket paths are limited to about 100 bytes: exec root and socket go under /run when the run folder is deep
  const shortDir = dir.length < 60 ? dir : mkdirp(`/run/fse2-${process.pid}`);
  const execRoot = mkdirp(path.join(shortDir, 'x'));
  const socket = path.join(shortDir, 'docker.sock');
  const pidFile = path.join(dir, 'dockerd.pid');
  const logFile = path.join(dir, 'dockerd.log');
  mkdirp(ENGINE2_DATA_ROOT);
  const port = await freePort();
  const tcpHost = `tcp://127.0.0.1:${port}`;
  const args = [
    '--data-root',
    ENGINE2_DATA_ROOT,
    '--exec-root',
    execRoot,
    '--pidfile',
    pidFile,
    '-H',
    `unix://${socket}`,
    '-H',
    tcpHost,
    '--tlsverify',
    '--tlscacert',
    path.join(tls.dir, 'ca.pem'),
    '--tlscert',
    path.join(tls.dir, 'server.pem'),
    '--tlskey',
    path.join(tls.dir, 'server-key.pem'),
    '--bridge=none',
    '--iptables=false',
    '--ip-masq=false',
    '--log-level',
    'warn',
  ];
  const env = { DOCKER_HOST: tcpHost, DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: tls.clientDir };
  const endpoint = resolveEndpoint({ env, homeDir: dir });
  const engine = new DockerEngine(endpoint);
  let child: ChildProcess | undefined;

  const launch = async () => {
    const out = fs.openSync(logFile, 'a');
    child = spawn('dockerd', args, { detached: true, stdio: ['ignore', out, out] });
    child.unref();
    fs.closeSync(out);
    const started = child;
    await waitUntil('the second dockerd to answer over TCP+TLS', 60_000, async () => {
      if (started.exitCode !== null) throw new Error('exited');
      return engine.ping(2000);
    }).catch((e) => {
      const tail = fs.existsSync(logFile) ? fs.readFileSync(logFile, 'utf8').slice(-1500) : '';
      throw new Error(`${(e as Error).message} (second engine; log ${logFile}):\n${tail}`);
    });
    await restoreDefaultBridge(first); // --bridge=none removed the main engine's docker0
  };

  const groupKill = (signal: NodeJS.Signals) => {
    if (!child?.pid) return;
    try {
      process.kill(-child.pid, signal); // dockerd and the containerd it supervises
    } catch {
      try {
        process.kill(child.pid, signal);
      } catch {
        // gone already
      }
    }
  };

  await launch();
  await copyBaseImage(first, engine, log);
  log(`second engine: ${tcpHost} (TLS), unix://${socket}, data root ${ENGINE2_DATA_ROOT}`);

  const handle: SecondEngine = {
    tcpHost,
    port,
    unixHost: `unix://${socket}`,
    tls,
    endpoint,
    engine,
    env,
    get pid() {
      return child?.pid ?? 0;
    },
    logFile,
    async kill() {
      const pid = child?.pid;
      groupKill('SIGKILL');
      if (pid) await waitGone(pid, 10_000);
    },
    async restart() {
      await launch();
    },
    async stop() {
      const pid = child?.pid;
      if (!pid || !processAlive(pid)) {
        // killed by a test: bring it back so it puts its containers down, then stop it properly
        await launch().catch((e) => log(`restarting the second engine to clean it failed: ${(e as Error).message}`));
      }
      const now = child?.pid;
      if (now && processAlive(now)) {
        process.kill(now, 'SIGTERM');
        if (!(await waitGone(now, 30_000))) groupKill('SIGKILL');
      }
      // the managed containerd leaves with dockerd; its group is signalled in case it lingers
      groupKill('SIGTERM');
      unmountUnder([execRoot, ENGINE2_DATA_ROOT]);
      fs.rmSync(execRoot, { recursive: true, force: true });
      if (shortDir !== dir) fs.rmSync(shortDir, { recursive: true, force: true });
    },
  };
  return handle;
}
