import * as assert from 'assert';
import { ValidationScheduler, type ValidationJob } from '../../../../src/ui/diagnostics/validationScheduler';

/** Manual timers: tests decide when the debounce fires. */
function fakeTimers() {
  let next = 1;
  const pending = new Map<number, () => void>();
  return {
    timers: {
      setTimeout: (fn: () => void) => {
        const h = next++;
        pending.set(h, fn);
        return h;
      },
      clearTimeout: (h: unknown) => void pending.delete(h as number),
    },
    fire() {
      const fns = [...pending.values()];
      pending.clear();
      for (const f of fns) f();
    },
    get count() {
      return pending.size;
    },
  };
}

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

const tick = () => new Promise((r) => setImmediate(r));

describe('ValidationScheduler', () => {
  it('coalesces a burst of saves into one validation with every changed file', async () => {
    const t = fakeTimers();
    const jobs: ValidationJob[] = [];
    const s = new ValidationScheduler(async (j) => void jobs.push(j), 25, t.timers);
    s.saved('/f', 'a.py');
    s.saved('/f', 'b.jinja2');
    const g = s.saved('/f', 'a.py');
    assert.strictEqual(t.count, 1, 'one debounce timer per flow');
    t.fire();
    await tick();
    assert.deepStrictEqual(jobs, [{ flowDir: '/f', changedFiles: ['a.py', 'b.jinja2'], generation: g }]);
  });

  it('runs at most one validation per flow and queues one more for saves made meanwhile', async () => {
    const t = fakeTimers();
    const jobs: ValidationJob[] = [];
    const gates: ReturnType<typeof deferred>[] = [];
    const s = new ValidationScheduler(
      (j) => {
        jobs.push(j);
        const d = deferred();
        gates.push(d);
        return d.promise;
      },
      25,
      t.timers,
    );
    s.saved('/f', 'a.py');
    t.fire();
    assert.strictEqual(jobs.length, 1);
    s.saved('/f', 'b.py');
    t.fire();
    s.saved('/f', 'c.py');
    t.fire();
    assert.strictEqual(jobs.length, 1, 'nothing starts while one runs');
    assert.ok(s.busy('/f'));
    gates[0].resolve();
    await tick();
    await tick();
    assert.strictEqual(jobs.length, 2, 'the queued saves run as one validation');
    assert.deepStrictEqual(jobs[1].changedFiles, ['b.py', 'c.py']);
    gates[1].resolve();
    await tick();
    await tick();
    assert.ok(!s.busy('/f'));
  });

  it('keeps flows independent and generations increasing', async () => {
    const t = fakeTimers();
    const jobs: ValidationJob[] = [];
    const s = new ValidationScheduler(async (j) => void jobs.push(j), 25, t.timers);
    const g1 = s.saved('/a', 'x.py');
    const g2 = s.saved('/b', 'y.py');
    assert.ok(g2 > g1);
    t.fire();
    await tick();
    assert.deepStrictEqual(jobs.map((j) => j.flowDir).sort(), ['/a', '/b']);
  });

  it('survives a failing runner and runs what was queued', async () => {
    const t = fakeTimers();
    let calls = 0;
    const s = new ValidationScheduler(
      async () => {
        calls++;
        throw new Error('boom');
      },
      25,
      t.timers,
    );
    s.saved('/f', 'a.py');
    t.fire();
    await tick();
    s.saved('/f', 'a.py');
    t.fire();
    await tick();
    assert.strictEqual(calls, 2);
  });

  it('does nothing after dispose', async () => {
    const t = fakeTimers();
    let calls = 0;
    const s = new ValidationScheduler(async () => void calls++, 25, t.timers);
    s.saved('/f', 'a.py');
    s.dispose();
    t.fire();
    await tick();
    assert.strictEqual(calls, 0);
  });
});
