import * as fs from 'fs';
import { SESSION_LABELS } from '../../src/core/session/labels';
import { HELLO_FLOW, makeFlow } from '../support/flows/fixtures';
import { makeStoppedSessions } from '../support/faults/stoppedSessions';
import { testServices } from '../support/world/manager';
import { testEngine } from '../support/world/world';
import { median, type Metric } from './report';

/**
 * Listing 100 sessions (what the Sessions view refreshes from) against a bare engine list of the same containers;
 * heap growth over 1,000 validations.
 */
export async function benchReliability(): Promise<Metric[]> {
  const { manager, validator } = testServices();
  const engine = testEngine();
  const dir = makeFlow(HELLO_FLOW);
  const made: string[] = [];
  try {
    const s = await manager.up(dir);
    // a workspace of 100 flow folders, each with a session (99 of them stopped), as the Sessions tree sees it
    const flows = Array.from({ length: 99 }, () => makeFlow(HELLO_FLOW));
    made.push(...(await makeStoppedSessions(engine, s.image!, 99, flows)));
    const all = [dir, ...flows];
    const bare: number[] = [];
    const listed: number[] = [];
    for (let i = 0; i < 9; i++) {
      let t = performance.now();
      await engine.listContainers({ [SESSION_LABELS.session]: true });
      bare.push(performance.now() - t);
      t = performance.now();
      const statuses = await manager.statusesOf(all);
      listed.push(performance.now() - t);
      if (statuses.filter((x) => x.state === 'stopped').length !== 99)
        throw new Error('tree bench: the stopped sessions were not all found');
    }
    for (const f of flows) fs.rmSync(f, { recursive: true, force: true });
    for (let i = 0; i < 20; i++) await validator.validate(dir, { session: 'if-running', changedFiles: ['hello.py'] });
    const gc = (global as { gc?: () => void }).gc;
    gc?.();
    const heap0 = process.memoryUsage().heapUsed;
    const t = performance.now();
    for (let i = 0; i < 1000; i++) await validator.validate(dir, { session: 'if-running', changedFiles: ['hello.py'] });
    const ms = performance.now() - t;
    gc?.();
    const growthMb = (process.memoryUsage().heapUsed - heap0) / 2 ** 20;
    return [
      {
        name: 'tree_refresh_100_sessions',
        value_ms: median(listed),
        baseline_ms: median(bare),
        ratio: median(listed) / median(bare),
        goal: '<= 2',
        note: 'the statuses of 100 flow folders (what the Sessions tree renders) vs a bare engine list of their containers; median of 9',
      },
      {
        name: 'memory_growth_1000_validations',
        value_ms: ms,
        baseline_ms: 10,
        ratio: growthMb / 10,
        goal: '<= 1',
        note: `heap growth ${growthMb.toFixed(2)} MB (goal 10 MB)${gc ? ', after gc' : ', no --expose-gc'}; value_ms: time of the 1,000 validations`,
      },
    ];
  } finally {
    for (const id of made) await engine.removeContainer(id).catch(() => undefined);
    await manager.remove(dir).catch(() => undefined);
    manager.dispose();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
