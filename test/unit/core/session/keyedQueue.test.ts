import * as assert from 'assert';
import { KeyedQueue } from '../../../../src/core/session/keyedQueue';

describe('the keyed queue', () => {
  it('serialises operations on one key and runs other keys alongside', async () => {
    const q = new KeyedQueue();
    const log: string[] = [];
    const op = (name: string, ms: number) => () =>
      new Promise<void>((r) =>
        setTimeout(() => {
          log.push(name);
          r();
        }, ms),
      );
    await Promise.all([q.run('a', op('a1', 30)), q.run('a', op('a2', 1)), q.run('b', op('b1', 5))]);
    assert.deepStrictEqual(log, ['b1', 'a1', 'a2']);
    await assert.rejects(q.run('a', () => Promise.reject(new Error('boom'))));
    await q.run('a', op('a3', 1));
    assert.strictEqual(log[log.length - 1], 'a3', 'a failure does not block the queue');
  });
});
