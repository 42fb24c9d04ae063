/**
 * The real world the integration tests need, made once per run (mocha global fixtures): a Docker engine,
 * base images (cached by tag), a loopback registry, a local wheelhouse. Everything the run creates carries
 * the label flowsession.test=<run id> and is removed at the end, pass or fail.
 */
import * as fs from 'fs';
import * as path from 'path';
import { DockerEngine } from '../../../src/core/docker/dockerEngine';
import { resolveEndpoint } from '../../../src/core/docker/endpoint';
import { ALT_BASE_IMAGE, BASE_IMAGE, ensureBaseImages } from './baseImages';
import { ensureEngine, stopStartedEngine, type EngineHandle } from './engine';
import { mkdirp, processAlive } from './machine';
import { startRegistry, type Registry } from './registry';
import { startWheelhouse, type Wheelhouse } from './wheelhouse';

export interface WorldInfo {
  runId: string;
  runDir: string;
  baseImage: string;
  altBaseImage: string;
  registry: string;
  wheelhouseUrl: string;
  /** the environment that points the CLI and the core at this world */
  env: Record<string, string>;
}

const TEST_LABEL = 'flowsession.test';
let handle: EngineHandle | undefined;
let registry: Registry | undefined;
let wheelhouse: Wheelhouse | undefined;

const log = (l: string) => process.stderr.write(`[test world] ${l}\n`);

export function world(): WorldInfo {
  const raw = process.env.FLOWSESSION_TEST_WORLD;
  if (!raw) throw new Error('The test world is not set up: run integration tests through `npm run test:integration`.');
  return JSON.parse(raw) as WorldInfo;
}

export function testEngine(): DockerEngine {
  return new DockerEngine(resolveEndpoint());
}

/** True when the test process that owns a run id (run-<time>-<pid>) is still alive: its world is not ours to clean. */
function runIsAlive(runId: string | undefined): boolean {
  const pid = Number(/^run-[0-9a-z]+-(\d+)$/.exec(runId ?? '')?.[1]);
  return !!pid && pid !== process.pid && processAlive(pid);
}

/**
 * Removes what test runs created: containers first, then images (never the cached base images). Without a
 * run id it removes the leftovers of interrupted runs, leaving alone those of runs still going.
 */
export async function cleanUp(engine: DockerEngine, runId?: string): Promise<void> {
  const selector = runId ? { [TEST_LABEL]: runId } : { [TEST_LABEL]: true as const };
  const ours = (labels: Record<string, string>) =>
    labels[TEST_LABEL] !== 'base' && (runId !== undefined || !runIsAlive(labels[TEST_LABEL]));
  for (const c of await engine.listContainers(selector)) if (ours(c.labels)) await engine.removeContainer(c.id).catch(() => undefined);
  const images = (await engine.listImages(selector)).filter((i) => ours(i.labels));
  // environment images sit on runtime images: remove the newest first
  images.sort((a, b) => b.created - a.created);
  for (const i of images) await engine.removeImage(i.id, true).catch(() => undefined);
}

export async function mochaGlobalSetup(): Promise<void> {
  const runId = `run-${Date.now().toString(36)}-${process.pid}`;
  const runDir = mkdirp(path.resolve(__dirname, '..', '..', '..', '.test-world', runId));
  handle = await ensureEngine(runDir, log);
  await cleanUp(handle.engine); // leftovers of an interrupted run
  await ensureBaseImages(handle.engine, log);
  [registry, wheelhouse] = await Promise.all([startRegistry(runDir, log), startWheelhouse(runDir)]);
  const info: WorldInfo = {
    runId,
    runDir,
    baseImage: BASE_IMAGE,
    altBaseImage: ALT_BASE_IMAGE,
    registry: registry.address,
    wheelhouseUrl: wheelhouse.url,
    env: {
      FLOWSESSION_BASE_IMAGE: BASE_IMAGE,
      FLOWSESSION_NETWORK: 'host',
      FLOWSESSION_PIP_NO_INDEX: '1',
      FLOWSESSION_PIP_FIND_LINKS: wheelhouse.url,
      FLOWSESSION_EXTRA_LABELS: `${TEST_LABEL}=${runId}`,
      FLOWSESSION_CPUS: '1',
      FLOWSESSION_MEMORY_MB: '1024',
    },
  };
  process.env.FLOWSESSION_TEST_WORLD = JSON.stringify(info);
  log(`ready: engine ${handle.engine.endpoint.host}, registry ${registry.address}, wheelhouse ${wheelhouse.url}`);
}

export async function mochaGlobalTeardown(): Promise<void> {
  const info = process.env.FLOWSESSION_TEST_WORLD ? world() : undefined;
  if (handle && info) await cleanUp(handle.engine, info.runId).catch((e) => log(`clean-up failed: ${(e as Error).message}`));
  await wheelhouse?.close();
  await registry?.close();
  if (info) fs.rmSync(info.runDir, { recursive: true, force: true });
  if (handle) await stopStartedEngine(handle);
}
