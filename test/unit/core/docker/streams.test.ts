import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Readable } from 'stream';
import { followJsonStream } from '../../../../src/core/docker/jsonStream';
import { LayerProgressTracker } from '../../../../src/core/docker/progress';
import { TailBuffer } from '../../../../src/core/docker/tailBuffer';
import { OrderedLineWriter } from '../../../../src/core/runs/orderedLineWriter';
import { KeyedQueue } from '../../../../src/core/session/keyedQueue';

describe('engine streams and bounded buffers', () => {
  it('fails a progress stream that carries an error, even after a 200', async () => {
    const messages: unknown[] = [];
    const stream = Readable.from([
      '{"status":"Pulling fs layer","id":"a"}\n{"errorDe',
      'tail":{"message":"manifest unknown"},"error":"manifest unknown"}\n',
    ]);
    await assert.rejects(
      followJsonStream(stream, (m) => messages.push(m)),
      /manifest unknown/,
    );
    assert.strictEqual(messages.length, 2, 'a message split across chunks is parsed whole');
    await followJsonStream(Readable.from(['{"stream":"Step 1/2"}\n', '{"aux":{"ID":"sha256:1"}}']), () => undefined);
  });

  it('folds per-layer progress into a percentage', () => {
    const t = new LayerProgressTracker();
    t.update({ id: 'a', status: 'Downloading', progressDetail: { current: 50, total: 100 } });
    const r = t.update({ id: 'b', status: 'Downloading', progressDetail: { current: 0, total: 100 } });
    assert.strictEqual(r.percent, 25);
    assert.strictEqual(t.update({ id: 'a', status: 'Pull complete' }).percent, 50);
    assert.strictEqual(r.layers?.length, 2);
  });

  it('keeps only the tail of a flood of output', () => {
    const b = new TailBuffer(10);
    for (let i = 0; i < 1000; i++) b.push(Buffer.from('0123456789'));
    b.push(Buffer.from('abc'));
    assert.ok(b.truncated);
    assert.ok(b.toString().endsWith('3456789abc'));
    assert.match(b.toString(), /^\[… 9993 bytes dropped\]/);
  });

  it('writes batch lines in input order whatever order they finish in, and atomically', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fs-lines-'));
    const file = path.join(dir, 'output.jsonl');
    const w = new OrderedLineWriter(file);
    for (const i of [2, 0, 3, 1, 5, 4]) w.add(i, `{"i":${i}}`);
    assert.ok(!fs.existsSync(file), 'nothing under the final name before the end');
    await w.finish();
    assert.deepStrictEqual(
      fs
        .readFileSync(file, 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l).i),
      [0, 1, 2, 3, 4, 5],
    );
    assert.ok(w.maxHeld <= 3);
    const aborted = new OrderedLineWriter(path.join(dir, 'other.jsonl'));
    aborted.add(0, '{}');
    await aborted.abort();
    assert.deepStrictEqual(fs.readdirSync(dir), ['output.jsonl']);
  });

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
