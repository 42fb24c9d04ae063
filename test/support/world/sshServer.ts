/**
 * Debian's OpenSSH server on 127.0.0.1:<free port>, started for the remote-engine tests with its own host key,
 * config and authorized key in the run folder: root login by key only. Its sessions get DOCKER_HOST pointing at
 * the second engine, so `ssh root@127.0.0.1 docker system dial-stdio` (what the ssh transport runs) reaches it.
 */
import { spawn, spawnSync, type ChildProcess } from 'child_process';
import * as fs from 'fs';
import * as net from 'net';
import * as path from 'path';
import { ensureDebianPackage, freePort, mkdirp, processAlive } from './machine';
import { waitUntil } from '../waiting';

export interface SshServer {
  port: number;
  /** ssh://root@127.0.0.1:<port> */
  host: string;
  /** a home folder whose ~/.ssh/id_ed25519 the server accepts (no agent needed) */
  goodHome: string;
  /** a home folder with the right key but no known_hosts entry for the server */
  unknownHostHome: string;
  /** a home folder whose ~/.ssh/id_ed25519 the server does not know */
  wrongHome: string;
  stop(): Promise<void>;
}

const SSHD = '/usr/sbin/sshd';

function keygen(file: string): void {
  const r = spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'flowsession-test', '-f', file], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ssh-keygen failed: ${r.stderr}`);
}

/** A home folder with the given client key, and known_hosts listing the server's host key when given. */
function home(dir: string, key: string, knownHost?: string): string {
  const ssh = mkdirp(path.join(dir, '.ssh'));
  fs.copyFileSync(key, path.join(ssh, 'id_ed25519'));
  fs.chmodSync(path.join(ssh, 'id_ed25519'), 0o600);
  if (knownHost) fs.writeFileSync(path.join(ssh, 'known_hosts'), `${knownHost}\n`);
  return dir;
}

export async function startSshServer(runDir: string, dockerHost: string, log: (l: string) => void): Promise<SshServer> {
  if (!fs.existsSync(SSHD)) {
    // the package would start a system-wide sshd on port 22: policy-rc.d (exit 101) keeps it from doing so
    const policy = '/usr/sbin/policy-rc.d';
    const ownPolicy = !fs.existsSync(policy);
    if (ownPolicy) fs.writeFileSync(policy, '#!/bin/sh\nexit 101\n', { mode: 0o755 });
    try {
      await ensureDebianPackage('sshd', 'openssh-server', log);
    } finally {
      if (ownPolicy) fs.rmSync(policy, { force: true });
    }
  }
  const dir = mkdirp(path.join(runDir, 'sshd'));
  mkdirp('/run/sshd'); // privilege separation directory sshd insists on
  const hostKey = path.join(dir, 'host_ed25519');
  const clientKey = path.join(dir, 'client_ed25519');
  const wrongKey = path.join(dir, 'wrong_ed25519');
  for (const k of [hostKey, clientKey, wrongKey]) if (!fs.existsSync(k)) keygen(k);
  const authorized = path.join(dir, 'authorized_keys');
  fs.writeFileSync(authorized, fs.readFileSync(`${clientKey}.pub`));
  fs.chmodSync(authorized, 0o600);
  const port = await freePort();
  const config = path.join(dir, 'sshd_config');
  fs.writeFileSync(
    config,
    [
      `Port ${port}`,
      'ListenAddress 127.0.0.1',
      `HostKey ${hostKey}`,
      `PidFile ${path.join(dir, 'sshd.pid')}`,
      `AuthorizedKeysFile ${authorized}`,
      'PermitRootLogin prohibit-password',
      'PubkeyAuthentication yes',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'UsePAM no',
      'StrictModes no',
      'AllowTcpForwarding no',
      'X11Forwarding no',
      'PrintMotd no',
      `SetEnv DOCKER_HOST=${dockerHost}`,
      'LogLevel ERROR',
      '',
    ].join('\n'),
  );
  const logFile = path.join(dir, 'sshd.log');
  const out = fs.openSync(logFile, 'a');
  const child: ChildProcess = spawn(SSHD, ['-D', '-e', '-f', config], { detached: true, stdio: ['ignore', out, out] });
  child.unref();
  fs.closeSync(out);
  await waitUntil(
    'sshd to listen',
    15_000,
    () =>
      new Promise<true | undefined>((resolve) => {
        if (child.exitCode !== null) return resolve(undefined);
        const s = net.connect(port, '127.0.0.1');
        s.once('connect', () => {
          s.destroy();
          resolve(true);
        });
        s.once('error', () => resolve(undefined));
      }),
  ).catch((e) => {
    throw new Error(`${(e as Error).message}: ${fs.readFileSync(logFile, 'utf8').slice(-1000)}`);
  });
  log(`sshd on 127.0.0.1:${port} (root by key only) → ${dockerHost}`);
  // the host key as ssh records it after a first connection: `[host]:port type key`
  const [type, blob] = fs.readFileSync(`${hostKey}.pub`, 'utf8').trim().split(/\s+/);
  const knownHost = `[127.0.0.1]:${port} ${type} ${blob}`;
  return {
    port,
    host: `ssh://root@127.0.0.1:${port}`,
    goodHome: home(mkdirp(path.join(dir, 'home-good')), clientKey, knownHost),
    wrongHome: home(mkdirp(path.join(dir, 'home-wrong')), wrongKey, knownHost),
    unknownHostHome: home(mkdirp(path.join(dir, 'home-unknown-host')), clientKey),
    async stop() {
      if (!child.pid) return;
      try {
        process.kill(child.pid, 'SIGTERM');
      } catch {
        return;
      }
      await waitUntil('sshd to stop', 10_000, () => !processAlive(child.pid!)).catch(() => undefined);
    },
  };
}
