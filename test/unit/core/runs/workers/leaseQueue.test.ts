import * as assert from 'assert';
import { LeaseQueue } from '../../../../../src/core/runs/workers/leaseQueue';

function lease(q: LeaseQueue, worker: string, now = 0) {
  const r = q.take(worker, now);
  assert.strictEqual(r.kind, 'lease');
  return r.lease;
}

describe('LeaseQueue', () => {
  it('leases lines in input order, in chunks that shrink toward the end, then says wait and done', () => {
    const q = new LeaseQueue(100, { leaseMs: 1000, expectedWorkers: 2, minChunk: 4, maxChunk: 40 });
    const a = lease(q, 'a');
    assert.deepStrictEqual(
      a.indexes,
      Array.from({ length: 25 }, (_v, i) => i),
    ); // 100 / (2 × 2)
    const b = lease(q, 'b');
    assert.strictEqual(b.indexes[0], 25);
    assert.ok(b.indexes.length < a.indexes.length);
    const sizes = [a.indexes.length, b.indexes.length];
    for (let r = q.take('a', 0); r.kind === 'lease'; r = q.take('a', 0)) sizes.push(r.lease.indexes.length);
    assert.strictEqual(
      sizes.reduce((x, y) => x + y, 0),
      100,
    );
    assert.ok(sizes.slice(-2).every((s) => s <= 4));
    assert.strictEqual(q.take('b', 0).kind, 'wait');
  });

  it('counts each line once: a second result for the same line (from a requeued lease) is dropped', () => {
    const q = new LeaseQueue(10, { leaseMs: 1000, expectedWorkers: 1, minChunk: 10 });
    const first = lease(q, 'a');
    assert.strictEqual(q.commit(first.id, 'a', 0), 0);
    assert.strictEqual(q.commit(first.id, 'a', 0), undefined);
    // the worker went silent: its lease expires, the nine lines without a result go back
    assert.deepStrictEqual(
      q.expire(1000).map((e) => e.back),
      [9],
    );
    assert.strictEqual(q.requeued, 9);
    const second = lease(q, 'b', 1000);
    assert.deepStrictEqual(second.indexes, [1, 2, 3, 4, 5, 6, 7, 8, 9]);
    // the silent worker's late result for line 3 still counts (first result wins), b's for it does not
    assert.strictEqual(q.commit(first.id, 'a', 3), 3);
    assert.strictEqual(q.commit(second.id, 'b', 2), undefined);
    for (let p = 0; p < 9; p++) q.commit(second.id, 'b', p);
    assert.strictEqual(q.committedCount, 10);
    assert.ok(q.done);
    assert.strictEqual(q.take('b', 1000).kind, 'done');
  });

  it('renews a lease only for its own worker, and a heard-from lease does not expire', () => {
    const q = new LeaseQueue(4, { leaseMs: 1000, expectedWorkers: 1, minChunk: 4 });
    const l = lease(q, 'a', 0);
    assert.strictEqual(q.renew(l.id, 'intruder', 900), false);
    assert.strictEqual(q.renew(l.id, 'a', 900), true);
    assert.deepStrictEqual(q.expire(1500), []);
    assert.strictEqual(q.expire(1900).length, 1);
    assert.strictEqual(q.renew(l.id, 'a', 2000), false);
  });

  it('refuses results for unknown leases, other workers, and positions outside the lease', () => {
    const q = new LeaseQueue(6, { leaseMs: 1000, expectedWorkers: 2, minChunk: 3 });
    const a = lease(q, 'a');
    assert.strictEqual(q.commit('L999', 'a', 0), undefined);
    assert.strictEqual(q.commit(a.id, 'b', 0), undefined);
    assert.strictEqual(q.commit(a.id, 'a', 3), undefined);
    assert.strictEqual(q.commit(a.id, 'a', -1), undefined);
    assert.strictEqual(q.commit(a.id, 'a', 1.5), undefined);
    assert.strictEqual(q.committedCount, 0);
  });

  it('gives the lines of a released lease back in input order, ahead of later lines', () => {
    const q = new LeaseQueue(8, { leaseMs: 1000, expectedWorkers: 1, minChunk: 2, maxChunk: 2 });
    const a = lease(q, 'a');
    const b = lease(q, 'b');
    q.commit(a.id, 'a', 1);
    assert.strictEqual(q.release(a.id), 1);
    assert.strictEqual(q.release(a.id), 0);
    assert.deepStrictEqual(lease(q, 'c').indexes, [0, 4]);
    assert.deepStrictEqual(b.indexes, [2, 3]);
  });

  it('is done at once with no lines', () => {
    const q = new LeaseQueue(0, { leaseMs: 1000, expectedWorkers: 3 });
    assert.strictEqual(q.take('a', 0).kind, 'done');
  });
});
