import * as fs from 'fs';
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
