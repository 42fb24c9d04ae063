import * as assert from 'assert';
import { FrameReader } from '../../../../../src/core/runs/workers/frameReader';

describe('FrameReader', () => {
  it('splits frames at newlines across pieces, keeping multi-byte characters whole', () => {
    const r = new FrameReader(1024);
    const text = Buffer.from('{"a":"é"}\n{"b":1}\n{"c"', 'utf8');
    // split inside the two-byte é
    const cut = text.indexOf(0xc3) + 1;
    assert.deepStrictEqual(r.push(text.subarray(0, cut)), []);
    assert.deepStrictEqual(r.push(text.subarray(cut)), ['{"a":"é"}', '{"b":1}']);
    assert.deepStrictEqual(r.push(Buffer.from(':2}\n\n')), ['{"c":2}', '']);
  });

  it('reports overflow once the frame under way passes the limit, whether or not its newline came', () => {
    const open = new FrameReader(10);
    assert.deepStrictEqual(open.push(Buffer.from('123456')), []);
    assert.strictEqual(open.push(Buffer.from('78901')), 'overflow');
    const closed = new FrameReader(10);
    assert.deepStrictEqual(closed.push(Buffer.from('1234567890\n')), ['1234567890']);
    assert.strictEqual(closed.push(Buffer.from('12345678901\n')), 'overflow');
  });

  it('takes a new limit between pushes (a stranger gets less than a worker)', () => {
    const r = new FrameReader(4);
    assert.deepStrictEqual(r.push(Buffer.from('hi\n')), ['hi']);
    r.limit = 100;
    assert.deepStrictEqual(r.push(Buffer.from(`${'x'.repeat(50)}\n`)), ['x'.repeat(50)]);
  });
});
