import { spawn } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { resolveEndpoint } from '../../../src/core/docker/endpoint';
import { DockerEngine } from '../../../src/core/docker/dockerEngine';
import { ensureDebianPackage, isRoot, onPath, processAlive } from './machine';
import { waitUntil } from '../waiting';

export interface EngineHandle {
  engine: DockerEngine;
  /** set when the test world started the engine itself (and so stops it at the end) */
  startedPid?: number;
}

/** A Docker engine that answers: the one configured, else Debian's dockerd started for the run. */
export async function ensureEngine(runDir: string, log: (l: string) => void): Promise<EngineHandle> {
  const endpoint = resolveEndpoint();
  const engine = new DockerEngine(endpoint);
  try {
    await engine.ping(3000);
    return { engine };
  } catch (e) {
    if (endpoint.source !== 'default') {
      throw new Error(
        `The Docker engine at ${endpoint.host} (${endpoint.source}) does not answer: ${(e as Error).message}. Start it or unset DOCKER_HOST so the tests start a local one.`,
      );
    }
  }
  if (!isRoot()) {
    throw new Error(
      'No Docker engine answers on /var/run/docker.sock and the tests cannot start one without root. Start Docker (sudo systemctl start docker) or run the tests as root.',
    );
  }
  if (!onPath('dockerd')) await ensureDebianPackage('dockerd', 'docker.io', log);
  log('starting dockerd…');
  const logFile = fs.openSync(path.join(runDir, 'dockerd.log'), 'a');
  const child = spawn('dockerd', [], { detached: true, stdio: ['ignore', logFile, logFile] });
  child.unref();
  await waitUntil('dockerd to answer', 60_000, () => engine.ping(2000)).catch((e) => {
    throw new Error(`${(e as Error).message} See ${path.join(runDir, 'dockerd.log')}.`);
  });
  return { engine, startedPid: child.pid };
}

export async function stopStartedEngine(handle: EngineHandle): Promise<void> {
  if (!handle.startedPid) return;
  try {
    process.kill(handle.startedPid, 'SIGTERM');
  } catch {
    return;
  }
  await waitUntil('dockerd to stop', 30_000, () => !processAlive(handle.startedPid!)).catch(() => undefined);
}
