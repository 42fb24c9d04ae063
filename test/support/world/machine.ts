import { spawn } from 'child_process';
import * as fs from 'fs';
import * as net from 'net';
import * as path from 'path';

/** Facts about this machine the test world needs, and installing Debian packages when allowed. */
export function onPath(binary: string): boolean {
  return (process.env.PATH ?? '').split(path.delimiter).some((d) => d && fs.existsSync(path.join(d, binary)));
}

export function isRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

let aptUpdated = false;

/** Installs Debian packages when a binary is missing; fails with what to install by hand otherwise. */
export async function ensureDebianPackage(binary: string, pkg: string, log: (l: string) => void): Promise<void> {
  if (onPath(binary)) return;
  if (!isRoot() || !onPath('apt-get')) {
    throw new Error(
      `The tests need '${binary}' (Debian package '${pkg}'), which is not installed, and cannot install it here (not root or no apt-get). Install it: sudo apt-get install -y ${pkg}`,
    );
  }
  log(`installing ${pkg} (for ${binary})…`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  if (!aptUpdated) {
    await run('apt-get', ['update'], env);
    aptUpdated = true;
  }
  await run('apt-get', ['install', '-y', '--no-install-recommends', pkg], env);
  if (!onPath(binary)) throw new Error(`Installed ${pkg}, but '${binary}' is still not on PATH.`);
}

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<void> {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    p.stderr.on('data', (d) => (err = (err + d).slice(-4000)));
    p.on('error', reject);
    p.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${cmd} ${args.join(' ')} failed (${code}): ${err.trim()}`))));
  });
}

export function mkdirp(dir: string): string {
  fs.mkdirSync(dir, { recursive: true });
  return dir;
}

/** True while a process with this pid exists. */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** A TCP port on 127.0.0.1 nobody listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}
