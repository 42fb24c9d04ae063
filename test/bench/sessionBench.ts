import * as fs from 'fs';
import * as path from 'path';
import { Readable } from 'stream';
import { packEntries } from '../../src/core/docker/archive';
import { IMAGE_PATHS, runtimeDir, runtimeFiles, SESSION_USER } from '../../src/core/image/runtimeFiles';
import { HELLO_FLOW, makeFlow } from '../support/flows/fixtures';
import { testManager } from '../support/world/manager';
import { BENCH_SETTINGS } from './report';
import { testEngine, world } from '../support/world/world';
import { median, type Metric } from './report';

const ITERATIONS = 5;

/** Session start from cached images to runtime ready, against a bare create + start + exec of the same image. */
export async function benchSessionStart(): Promise<Metric> {
  const manager = testManager(BENCH_SETTINGS);
  const engine = testEngine();
  const warm = makeFlow(HELLO_FLOW);
  const flows = [warm];
  try {
    const first = await manager.up(warm); // builds or finds the images
    const image = first.image!;
    await manager.remove(warm);
    const bare: number[] = [];
    const session: number[] = [];
    for (let i = 0; i < ITERATIONS; i++) {
      let t = performance.now();
      const id = await engine.createContainer({
        image,
        user: '10001:10001',
        labels: { 'flowsession.test': world().runId },
        hardened: true,
        cpus: 2,
        memoryMb: 4096,
      });
      await engine.startContainer(id);
      await engine.exec(id, ['python3', '-c', 'pass']);
      bare.push(performance.now() - t);
      await engine.removeContainer(id);

      const flow = makeFlow(HELLO_FLOW);
      flows.push(flow);
      t = performance.now();
      await manager.up(flow);
      session.push(performance.now() - t);
      await manager.remove(flow);
    }
    const value = median(session);
    const baseline = median(bare);
    return {
      name: 'session_start',
      value_ms: value,
      baseline_ms: baseline,
      ratio: value / baseline,
      goal: '<= 1.3',
      note: `median of ${ITERATIONS}`,
    };
  } finally {
    manager.dispose();
    for (const f of flows) fs.rmSync(f, { recursive: true, force: true });
  }
}

/** A second session with an already-built environment, against the first (which installed the packages). */
export async function benchSecondSession(): Promise<Metric> {
  const manager = testManager(BENCH_SETTINGS);
  // unique to this run, so the first session really runs pip
  const requirements = `fs-greeting==1.0.0\nfs-handy\n# bench ${world().runId}\n`;
  const warm = makeFlow(HELLO_FLOW);
  const a = makeFlow({ ...HELLO_FLOW, 'requirements.txt': requirements });
  const others = Array.from({ length: ITERATIONS }, () => makeFlow({ ...HELLO_FLOW, 'requirements.txt': requirements }));
  try {
    await manager.up(warm); // the runtime image exists before the first measured session, as for a user
    let t = performance.now();
    await manager.up(a);
    const first = performance.now() - t;
    const seconds: number[] = [];
    for (const b of others) {
      t = performance.now();
      await manager.up(b);
      seconds.push(performance.now() - t);
      await manager.remove(b);
    }
    const second = median(seconds);
    return {
      name: 'second_session_same_env',
      value_ms: second,
      baseline_ms: first,
      ratio: second / first,
      goal: '<= 0.2',
      note: `baseline: the first session, which ran pip; median of ${ITERATIONS} later sessions`,
    };
  } finally {
    for (const f of [warm, a, ...others]) {
      await manager.remove(f).catch(() => undefined);
      fs.rmSync(f, { recursive: true, force: true });
    }
    manager.dispose();
  }
}

/** A copy of the test base image with an image id of its own, so nothing built on the base is cached for it. */
async function freshBase(tag: string): Promise<string> {
  const engine = testEngine();
  const id = await engine.createContainer({
    image: world().baseImage,
    entrypoint: ['true'],
    cmd: [],
    labels: { 'flowsession.test': world().runId },
    hardened: true,
  });
  try {
    const ref = `flowsession-bench/base:${tag}`;
    await engine.commitContainer(id, { repo: 'flowsession-bench/base', tag, changes: [`LABEL flowsession.test=${world().runId}`] });
    return ref;
  } finally {
    await engine.removeContainer(id);
  }
}

/**
 * The first session on an engine with nothing cached but the base image (the runtime image is built, no environment
 * image is needed), against a `docker build` of the equivalent Dockerfile (base + runtime files + session user, by
 * the same setup script) followed by create, start and one exec; each on a base of its own, so neither finds the
 * other's layers.
 */
export async function benchFirstSession(): Promise<Metric> {
  const engine = testEngine();
  const [baselineBase, sessionBase] = [await freshBase(`${world().runId}-a`), await freshBase(`${world().runId}-b`)];
  const flow = makeFlow(HELLO_FLOW);
  const manager = testManager({ ...BENCH_SETTINGS, FLOWSESSION_BASE_IMAGE: sessionBase });
  try {
    const dockerfile = [
      `FROM ${baselineBase}`,
      `COPY runtime/ ${IMAGE_PATHS.runtime}/`,
      `RUN python3 ${IMAGE_PATHS.runtime}/image/setup_image.py`,
      `USER ${SESSION_USER}`,
      `RUN ${IMAGE_PATHS.python} ${IMAGE_PATHS.runtime}/image/list_packages.py ${IMAGE_PATHS.basePackages}`,
      `WORKDIR ${IMAGE_PATHS.flow}`,
    ].join('\n');
    const context = await packEntries([
      { name: 'Dockerfile', content: Buffer.from(`${dockerfile}\n`) },
      ...runtimeFiles().map((f) => ({ name: `runtime/${f}`, content: fs.readFileSync(path.join(runtimeDir(), f)) })),
    ]);
    let t = performance.now();
    const image = await engine.buildImage(Readable.from([context]), {
      tag: `flowsession-bench/first:${world().runId}`,
      labels: { 'flowsession.test': world().runId },
      networkMode: 'host',
    });
    const id = await engine.createContainer({
      image,
      entrypoint: ['python3', '-c', 'import signal; signal.pause()'],
      cmd: [],
      user: SESSION_USER,
      labels: { 'flowsession.test': world().runId },
      hardened: true,
      cpus: 2,
      memoryMb: 4096,
    });
    await engine.startContainer(id);
    await engine.exec(id, ['python3', '-c', 'pass']);
    const baseline = performance.now() - t;
    await engine.removeContainer(id);

    t = performance.now();
    await manager.up(flow);
    const value = performance.now() - t;
    return {
      name: 'first_session_nothing_cached',
      value_ms: value,
      baseline_ms: baseline,
      ratio: value / baseline,
      goal: '<= 1.1',
      note: 'runtime image built on a fresh base, then the session ready; baseline: docker build of the same recipe + create, start, exec',
    };
  } finally {
    await manager.remove(flow).catch(() => undefined);
    manager.dispose();
    fs.rmSync(flow, { recursive: true, force: true });
  }
}
