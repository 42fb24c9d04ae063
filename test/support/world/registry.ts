import { spawn, type ChildProcess } from 'child_process';
import * as fs from 'fs';
import * as http from 'http';
import * as path from 'path';
import { ensureDebianPackage, freePort, mkdirp } from './machine';
import { waitUntil } from '../waiting';

export interface Registry {
  /** host:port of the registry, on loopback (the engine trusts 127.0.0.0/8 without TLS) */
  address: string;
  close(): Promise<void>;
}

function get(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    http
      .get(url, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      })
      .on('error', reject);
  });
}

/** Debian's Distribution registry, serving a folder of this run on 127.0.0.1. */
export async function startRegistry(runDir: string, log: (l: string) => void): Promise<Registry> {
  await ensureDebianPackage('docker-registry', 'docker-registry', log);
  const dir = mkdirp(path.join(runDir, 'registry'));
  const port = await freePort();
  const config = path.join(dir, 'config.yml');
  fs.writeFileSync(
    config,
    `version: 0.1\nlog: {level: warn}\nstorage: {filesystem: {rootdirectory: ${JSON.stringify(path.join(dir, 'data'))}}, delete: {enabled: true}}\nhttp: {addr: 127.0.0.1:${port}}\n`,
  );
  const logFd = fs.openSync(path.join(dir, 'registry.log'), 'a');
  const child: ChildProcess = spawn('docker-registry', ['serve', config], { stdio: ['ignore', logFd, logFd] });
  const address = `127.0.0.1:${port}`;
  await waitUntil('the registry to answer', 20_000, async () => ((await get(`http://${address}/v2/`)) === 200 ? true : undefined));
  return {
    address,
    close: async () => {
      child.kill('SIGTERM');
      await new Promise((r) => setTimeout(r, 100));
    },
  };
}
