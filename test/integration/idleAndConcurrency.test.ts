import * as assert from 'assert';
import { json, runCli } from '../support/cli';
import { HELLO_FLOW } from '../support/flows/fixtures';
import { FlowJar } from '../support/flows/flowJar';
import { testManager } from '../support/world/manager';
import { testEngine } from '../support/world/world';
import { Methods } from '../../src/core/runtime/protocol';
import { SESSION_LABELS } from '../../src/core/session/labels';

describe('idle shutdown and concurrent use', function () {
  const jar = new FlowJar();
  const flow = () => jar.make(HELLO_FLOW);

  after(async () => {
    const m = testManager();
    await jar.dispose([m]);
    m.dispose();
  });

  it('stops a session that is not used for its idle timeout, and keeps a used one running', async () => {
    const dir = flow();
    const manager = testManager({ FLOWSESSION_IDLE_TIMEOUT_MINUTES: '0.05' }); // 3 s
    try {
      const s = await manager.up(dir);
      const c = await testEngine().inspectContainer(s.container!);
      assert.strictEqual(c?.labels[SESSION_LABELS.idleTimeout], '0.05');
      const rt = await manager.runtime(dir);
      for (let i = 0; i < 6; i++) {
        await rt.request(Methods.ping, {}); // each request counts as use
        await new Promise((r) => setTimeout(r, 1000));
      }
      assert.strictEqual((await manager.status(dir)).state, 'ready', 'used: still running after twice the timeout');
      const stoppedAt = await new Promise<number>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('the idle session did not stop')), 20_000);
        manager.onDidChange((change) => {
          if (change.key === s.key && change.action === 'die') {
            clearTimeout(timer);
            resolve(Date.now());
          }
        });
      });
      assert.ok(stoppedAt > 0);
      const after = await manager.status(dir);
      assert.strictEqual(after.state, 'stopped');
      assert.strictEqual(after.exitCode, 0, 'an idle stop is a clean exit');
    } finally {
      manager.dispose();
    }
  });

  it('lets two processes bring up the same session at once: one creates it, the other joins', async () => {
    const dir = flow();
    const [a, b] = await Promise.all([runCli(['session', 'up', dir, '--json']), runCli(['session', 'up', dir, '--json'])]);
    assert.strictEqual(a.code, 0, a.stderr);
    assert.strictEqual(b.code, 0, b.stderr);
    const da = json<{ container: string; state: string }>(a);
    const db = json<{ container: string; state: string }>(b);
    assert.strictEqual(da.container, db.container, 'one container');
    assert.strictEqual(da.state, 'ready');
    assert.strictEqual(db.state, 'ready');
    const all = await testEngine().listContainers({ [SESSION_LABELS.flow]: dir });
    assert.strictEqual(all.length, 1);
  });

  it('joins a second create in the same process instead of starting another', async () => {
    const dir = flow();
    const manager = testManager();
    try {
      const first = manager.up(dir);
      const second = manager.up(dir);
      assert.strictEqual(first, second, 'the same operation');
      const s = await first;
      assert.strictEqual(s.state, 'ready');
    } finally {
      manager.dispose();
    }
  });
});
