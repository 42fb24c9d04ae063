import * as assert from 'assert';
import { timeline, tokensText, traceTotals, type TraceSpan } from '../../../src/shared/trace';

const T0 = 1_700_000_000_000_000_000n;
function span(p: Partial<TraceSpan> & Pick<TraceSpan, 'spanId' | 'name' | 'kind'>, startMs: number, endMs: number): TraceSpan {
  return {
    traceId: 'a'.repeat(32),
    status: 'Ok',
    attributes: {},
    start: String(T0 + BigInt(startMs) * 1_000_000n),
    end: String(T0 + BigInt(endMs) * 1_000_000n),
    ...p,
  };
}

const usage = (input: number, output: number, total?: number) => ({
  'gen_ai.usage.input_tokens': input,
  'gen_ai.usage.output_tokens': output,
  ...(total !== undefined ? { 'flowsession.usage.total_tokens': total } : {}),
});

const SPANS: TraceSpan[] = [
  span({ spanId: 'f1', name: 'flow', kind: 'flow' }, 0, 100),
  span({ spanId: 'n2', parentSpanId: 'f1', name: 'ask', kind: 'node', attributes: { 'flowsession.node.name': 'ask' } }, 30, 90),
  span({ spanId: 'n1', parentSpanId: 'f1', name: 'prep', kind: 'node', attributes: { 'flowsession.node.name': 'prep' } }, 0, 20),
  span(
    {
      spanId: 'l1',
      parentSpanId: 'n2',
      name: 'chat gpt-4o',
      kind: 'llm',
      attributes: { ...usage(10, 5, 15), 'gen_ai.request.model': 'gpt-4o' },
    },
    35,
    60,
  ),
  span({ spanId: 'l2', parentSpanId: 'n2', name: 'chat gpt-4o', kind: 'llm', attributes: usage(3, 2) }, 60, 85),
];

describe('traces (shared)', () => {
  it('totals the tokens of LLM calls per node and per run; a missing total is input + output', () => {
    const t = traceTotals(SPANS);
    assert.deepStrictEqual(t.run, { input: 13, output: 7, total: 20 });
    assert.deepStrictEqual(t.byNode, { ask: { input: 13, output: 7, total: 20 } });
    assert.strictEqual(t.llmCalls, 2);
    assert.strictEqual(tokensText(t.run), '20 tokens (13 in, 7 out)');
  });

  it('ignores usage values that are not counts', () => {
    const bad = span(
      { spanId: 'x', name: 'chat', kind: 'llm', attributes: { 'gen_ai.usage.input_tokens': -4, 'gen_ai.usage.output_tokens': 'many' } },
      0,
      1,
    );
    assert.deepStrictEqual(traceTotals([bad]).run, { input: 0, output: 0, total: 0 });
    assert.deepStrictEqual(Object.keys(traceTotals([bad]).byNode), ['(outside a node)']);
  });

  it('lays out a timeline depth-first in start order, with offsets, durations and tokens summed up the tree', () => {
    const tl = timeline(SPANS);
    assert.deepStrictEqual(
      tl.rows.map((r) => [r.name, r.depth, r.startMs, r.durationMs]),
      [
        ['flow', 0, 0, 100],
        ['prep', 1, 0, 20],
        ['ask', 1, 30, 60],
        ['chat gpt-4o', 2, 35, 25],
        ['chat gpt-4o', 2, 60, 25],
      ],
    );
    assert.strictEqual(tl.totalMs, 100);
    assert.deepStrictEqual(tl.rows[0].tokens, { input: 13, output: 7, total: 20 });
    assert.strictEqual(tl.rows[1].tokens, undefined, 'a node without LLM calls has no tokens');
    assert.strictEqual(tl.rows[3].model, 'gpt-4o');
  });

  it("a flex run's LLM call under nested @trace functions counts for its entry, and the functions are rows of their own", () => {
    const spans = [
      span({ spanId: 'f', name: 'flow', kind: 'flow' }, 0, 50),
      span({ spanId: 'e', parentSpanId: 'f', name: 'answer', kind: 'node', attributes: { 'flowsession.node.name': 'answer' } }, 1, 49),
      span({ spanId: 'o', parentSpanId: 'e', name: 'ask', kind: 'function' }, 2, 40),
      span({ spanId: 'i', parentSpanId: 'o', name: 'Helper.call', kind: 'function' }, 3, 39),
      span({ spanId: 'l', parentSpanId: 'i', name: 'chat gpt', kind: 'llm', attributes: usage(4, 2) }, 4, 38),
    ];
    const t = timeline(spans);
    assert.deepStrictEqual(
      t.rows.map((r) => [r.name, r.kind, r.depth, r.tokens?.total ?? 0]),
      [
        ['flow', 'flow', 0, 6],
        ['answer', 'node', 1, 6],
        ['ask', 'function', 2, 6],
        ['Helper.call', 'function', 3, 6],
        ['chat gpt', 'llm', 4, 6],
      ],
    );
    assert.deepStrictEqual(t.totals.byNode, { answer: { input: 4, output: 2, total: 6 } });
  });

  it('keeps at most `limit` rows and counts the rest; an empty trace has none', () => {
    const tl = timeline(SPANS, 2);
    assert.strictEqual(tl.rows.length, 2);
    assert.strictEqual(tl.omitted, 3);
    assert.deepStrictEqual(timeline([]).rows, []);
  });

  it('a span whose parent is missing becomes a root, and a parent cycle does not loop', () => {
    const orphan = span({ spanId: 'o', parentSpanId: 'gone', name: 'orphan', kind: 'node' }, 5, 6);
    assert.strictEqual(timeline([orphan]).rows[0].depth, 0);
    const a = span({ spanId: 'a', parentSpanId: 'b', name: 'a', kind: 'node' }, 0, 1);
    const b = span({ spanId: 'b', parentSpanId: 'a', name: 'b', kind: 'llm' }, 0, 1);
    assert.strictEqual(traceTotals([a, b]).llmCalls, 1);
  });
});
