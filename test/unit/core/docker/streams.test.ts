import * as assert from 'assert';
import { Readable } from 'stream';
import { followJsonStream } from '../../../../src/core/docker/jsonStream';
import { LayerProgressTracker } from '../../../../src/core/docker/progress';
import { TailBuffer } from '../../../../src/core/docker/tailBuffer';

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
});
