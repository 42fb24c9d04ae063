/** Load: 100 sessions' worth of containers, 10 concurrent runs in one session, a batch of 10,000 lines. */
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { RunService } from '../../../src/core/runs/runService';
import { SESSION_LABELS } from '../../../src/core/session/labels';
import type { SessionManager } from '../../../src/core/session/sessionManager';
import { fault, guardedFlowJar } from '../../support/faults/tally';
import { SLEEPY_FLOW, toolFlow } from '../../support/flows/fixtures';
import { waitUntil } from '../../support/waiting';
import { makeStoppedSessions } from '../../support/faults/stoppedSessions';
import { testManager } from '../../support/world/manager';
import { testEngine } from '../../support/world/world';

describe('load', function () {
  this.timeout(300_000);
  let manager: SessionManager;
  const jar = guardedFlowJar();
  const made: string[] = [];

  before(() => (manager = testManager()));
  after(async () => {
    for (const id of made)
      await testEngine()
        .removeContainer(id)
        .catch(() => undefined);
    await jar.dispose([manager]);
    manager.dispose();
  });

  it('100 sessions on the engine: listed within 2x a bare engine list, and updates arrive', async () => {
    await fault('100 sessions listed', async () => {
      const dir = jar.make(SLEEPY_FLOW);
      const s = await manager.up(dir);
      made.push(...(await makeStoppedSessions(testEngine(), s.image!, 99)));
      const bare: number[] = [];
      const listed: number[] = [];
      for (let i = 0; i < 5; i++) {
        let t = performance.now();
        await testEngine().listContainers({ [SESSION_LABELS.session]: true });
        bare.push(performance.now() - t);
        t = performance.now();
        const all = await manager.list();
        listed.push(performance.now() - t);
        assert.ok(all.length >= 100);
      }
      const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[2];
      assert.ok(med(listed) <= 2 * med(bare) + 5, `list ${med(listed).toFixed(1)} ms vs bare ${med(bare).toFixed(1)} ms`);
      const seen: string[] = [];
      const sub = manager.onDidChange((c) => seen.push(c.action));
      await new Promise((r) => setTimeout(r, 500));
      await manager.stop(dir);
      await waitUntil('the stop to arrive as an engine event', 10_000, () => seen.includes('die'), 50);
      sub.dispose();
      assert.ok(seen.includes('die'), 'the stop arrives as an engine event');
      assert.strictEqual((await manager.list()).find((x) => x.key === s.key)?.state, 'stopped');
    });
  });

  it('10 concurrent runs in one session', async () => {
    await fault('10 concurrent runs', async () => {
      const dir = jar.make(SLEEPY_FLOW);
      const runs = new RunService(manager);
      await manager.up(dir);
      const t = Date.now();
      const all = await Promise.all(Array.from({ length: 10 }, () => runs.run(dir, { inputs: { n: 1 } })));
      assert.deepStrictEqual(
        all.map((r) => r.status),
        Array(10).fill('Completed'),
      );
      assert.ok(Date.now() - t < 20_000, `took ${Date.now() - t} ms`);
    });
  });

  it('a batch of 10,000 lines completes with bounded extension memory', async () => {
    await fault('batch of 10,000 lines', async () => {
      const dir = jar.make(toolFlow('return "line %d" % n'));
      const data = path.join(dir, 'data.jsonl');
      fs.writeFileSync(data, Array.from({ length: 10_000 }, (_, i) => JSON.stringify({ n: i })).join('\n') + '\n');
      const runs = new RunService(manager);
      await manager.up(dir);
      global.gc?.();
      const heap0 = process.memoryUsage().heapUsed;
      let peak = heap0;
      const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().heapUsed)), 50);
      let r;
      try {
        r = await runs.batch(dir, { dataFile: data, workers: 2 });
      } finally {
        clearInterval(timer);
      }
      assert.strictEqual(r.completed, 10_000, r.summary);
      const lines = fs.readFileSync(r.outputFile, 'utf8').split('\n').filter(Boolean);
      assert.strictEqual(lines.length, 10_000);
      const growth = (peak - heap0) / 2 ** 20;
      assert.ok(growth < 100, `heap grew ${growth.toFixed(0)} MB`);
    });
  });
});
