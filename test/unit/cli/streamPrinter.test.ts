import * as assert from 'assert';
import { StreamPrinter } from '../../../src/cli/streamPrinter';
import type { RuntimeEvent } from '../../../src/core/runtime/protocol';

const chunk = (node: string, text: string, outputs = [node]): RuntimeEvent => ({ event: 'outputStream', runId: 'r', node, outputs, text });

describe('CLI stream printer', () => {
  it('writes one stream bare, as it comes, and ends it with a newline', () => {
    let out = '';
    const p = new StreamPrinter((t) => (out += t));
    assert.strictEqual(p.event({ event: 'nodeStart', runId: 'r', node: 'chat' }), false);
    for (const t of ['echo:', ' one', ' two']) assert.ok(p.event(chunk('chat', t, ['answer'])));
    assert.strictEqual(out, 'echo: one two');
    assert.ok(p.wrote);
    p.finish();
    assert.strictEqual(out, 'echo: one two\n');
    p.finish();
    assert.strictEqual(out, 'echo: one two\n', 'nothing more when nothing was streamed since');
  });

  it('labels interleaved streams of several nodes with the outputs they feed, each switch on a new line', () => {
    let out = '';
    const p = new StreamPrinter((t) => (out += t));
    p.event(chunk('a', 'a1', ['first']));
    p.event(chunk('b', 'b1', ['second', 'both']));
    p.event(chunk('b', 'b2', ['second', 'both']));
    p.event(chunk('a', 'a2', ['first']));
    p.finish();
    assert.strictEqual(out, 'a1\n[second, both] b1b2\n[first] a2\n');
  });

  it("writes a flex flow's or a prompty's output stream (no node) bare, as a DAG node's", () => {
    let out = '';
    const p = new StreamPrinter((t) => (out += t));
    for (const t of ['part0;', 'part1;']) assert.ok(p.event({ event: 'outputStream', runId: 'r', outputs: ['output'], text: t }));
    p.finish();
    assert.strictEqual(out, 'part0;part1;\n');
  });
});
