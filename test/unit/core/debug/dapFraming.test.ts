import * as assert from 'assert';
import { DapFramingError, DapReader, encodeDapMessage, MAX_DAP_MESSAGE_BYTES } from '../../../../src/core/debug/dapFraming';

describe('DAP framing', () => {
  it('reads messages split anywhere, several in one chunk, with multi-byte text counted in bytes', () => {
    const a = { seq: 1, type: 'event', event: 'output', body: { output: 'héllo → wörld\n' } };
    const b = { seq: 2, type: 'response', request_seq: 1, command: 'initialize', success: true };
    const wire = Buffer.concat([encodeDapMessage(a), encodeDapMessage(b)]);
    for (let cut = 1; cut < wire.length; cut += 7) {
      const reader = new DapReader();
      const got = [...reader.push(wire.subarray(0, cut)), ...reader.push(wire.subarray(cut))];
      assert.deepStrictEqual(got, [a, b], `cut at ${cut}`);
    }
    const byteByByte = new DapReader();
    const got = [...wire].flatMap((byte) => byteByByte.push(Buffer.from([byte])));
    assert.deepStrictEqual(got, [a, b]);
  });

  it('accepts other headers and any case of Content-Length', () => {
    const body = Buffer.from('{"seq":3,"type":"event","event":"initialized"}');
    const wire = Buffer.concat([Buffer.from(`Content-Type: application/json\r\ncontent-length: ${body.length}\r\n\r\n`), body]);
    assert.deepStrictEqual(new DapReader().push(wire), [{ seq: 3, type: 'event', event: 'initialized' }]);
  });

  it('refuses what is not DAP: no length, a huge length, a body that is not a message, endless headers', () => {
    assert.throws(() => new DapReader().push(Buffer.from('Hello: x\r\n\r\n{}')), DapFramingError);
    assert.throws(() => new DapReader().push(Buffer.from(`Content-Length: ${MAX_DAP_MESSAGE_BYTES + 1}\r\n\r\n`)), /over the/);
    assert.throws(() => new DapReader().push(Buffer.from('Content-Length: 2\r\n\r\n[]')), /not a DAP object/);
    assert.throws(() => new DapReader().push(Buffer.from('Content-Length: 3\r\n\r\n{x}')), /not JSON/);
    assert.throws(() => new DapReader().push(Buffer.alloc(9000, 0x61)), /no Content-Length/);
  });
});
