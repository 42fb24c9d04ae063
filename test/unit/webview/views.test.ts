import * as assert from 'assert';
import { flowGraph } from '../../../src/shared/flowGraph';
import type { RunView } from '../../../src/shared/protocol';
import { timeline, type TraceSpan } from '../../../src/shared/trace';
import { renderComparison } from '../../../src/webview/views/compareView';
import { renderGraph } from '../../../src/webview/views/graphView';
import { renderHistory } from '../../../src/webview/views/historyView';
import { renderTimeline } from '../../../src/webview/views/timelineView';
import { renderOutputs, renderValue, SHOWN_CHARS } from '../../../src/webview/views/valueView';
import { byAttr, find, installMiniDom, type MiniElement } from '../../support/miniDom';

const FLOW = {
  inputs: { q: { type: 'string' } },
  outputs: { a: { type: 'string', reference: '${b.output}' } },
  nodes: [
    { name: 'a', type: 'python', source: { type: 'code', path: 'a.py' }, inputs: { q: '${inputs.q}' } },
    {
      name: 'b',
      type: 'llm',
      source: { type: 'code', path: 'b.jinja2' },
      inputs: { t: '${a.output}' },
      activate: { when: '${a.output}', is: 'go' },
    },
    { name: 'c', type: 'python', source: { type: 'code', path: 'c.py' }, aggregation: true, inputs: { all: '${b.output}' } },
  ],
};

function run(status: RunView['status'], nodes: RunView['nodes']): RunView {
  return { runId: 'r1', status, startedAt: 't', nodes };
}

describe('webview views', () => {
  let uninstall: () => void;
  before(() => (uninstall = installMiniDom()));
  after(() => uninstall());

  describe('readable values', () => {
    it('shows text with its line breaks, as text', () => {
      const v = renderValue('# system:\nBe brief.\n\n# user:\n<b>hi</b>') as unknown as MiniElement;
      assert.strictEqual(v.tagName, 'PRE');
      assert.strictEqual(v.textContent, '# system:\nBe brief.\n\n# user:\n<b>hi</b>');
    });

    it('cuts a long text and links to the whole value of its run', () => {
      const v = renderValue('x'.repeat(SHOWN_CHARS + 500), { runId: 'r1', kind: 'node', name: 'big' });
      const [text] = find(v, byAttr('data-testid', 'value-text'));
      assert.strictEqual(text.textContent.length, SHOWN_CHARS);
      assert.match(v.textContent ?? '', /500 more characters/);
      const [link] = find(v, byAttr('data-action', 'openValue'));
      assert.deepStrictEqual(
        ['data-run', 'data-kind', 'data-name'].map((a) => link.getAttribute(a)),
        ['r1', 'node', 'big'],
      );
    });

    it('shows JSON as a collapsible tree: nested levels, first levels open, multi-line strings kept', () => {
      const v = renderValue({ answer: 'line 1\nline 2', items: [1, true, null], deep: { a: { b: { c: 1 } } } });
      const details = find(v, (e) => e.tagName === 'DETAILS');
      assert.ok(details.length >= 4);
      assert.ok(details[0].hasAttribute('open') && !details[details.length - 1].hasAttribute('open'), 'deep levels start closed');
      assert.ok(
        find(v, (e) => (e.getAttribute('class') ?? '').includes('json-multiline') && e.textContent === 'line 1\nline 2').length === 1,
      );
      assert.match(v.textContent ?? '', /"items": \[ 3 items \]/);
    });

    it('gives every flow output its own readable block', () => {
      const out = renderOutputs({ greeting: 'Hello!', data: { n: 1 } }, 'r9');
      assert.deepStrictEqual(
        find(out, byAttr('data-output')).map((e) => e.getAttribute('data-output')),
        ['greeting', 'data'],
      );
    });
  });

  describe('graph', () => {
    const graph = flowGraph(FLOW);

    it('draws every input, node and output as SVG with its edges, aggregation and activate marked', () => {
      const nodes = renderGraph(graph, undefined, null);
      const svgRoot = find(nodes, byAttr('data-testid', 'flow-graph'))[0];
      assert.strictEqual(svgRoot.namespaceURI, 'http://www.w3.org/2000/svg');
      assert.deepStrictEqual(
        find(nodes, byAttr('data-graph-node')).map((e) => e.getAttribute('data-graph-node')),
        ['input:q', 'node:a', 'node:b', 'node:c', 'output:a'],
      );
      const edges = find(nodes, (e) => e.tagName === 'path' && (e.getAttribute('class') ?? '').startsWith('graph-edge'));
      assert.strictEqual(edges.length, 5);
      assert.strictEqual(edges.filter((e) => e.getAttribute('class')!.includes('edge-activate')).length, 1);
      const c = find(nodes, byAttr('data-graph-node', 'node:c'))[0];
      assert.match(c.getAttribute('class') ?? '', /aggregation/);
      assert.strictEqual(c.getAttribute('data-action'), 'openNodeSource');
      assert.strictEqual(c.getAttribute('data-node'), 'c');
      assert.strictEqual(find(nodes, byAttr('data-graph-node', 'input:q'))[0].getAttribute('data-action'), null);
    });

    it('shows each node’s live status and duration during a run, and what never ran after it', () => {
      const during = renderGraph(
        graph,
        undefined,
        run('Running', [
          { node: 'a', status: 'Completed', durationMs: 12, log: '' },
          { node: 'b', status: 'Running', log: '' },
        ]),
      );
      const status = (nodes: Node[], id: string) => find(nodes, byAttr('data-graph-node', id))[0].getAttribute('data-status');
      assert.deepStrictEqual(
        ['node:a', 'node:b', 'node:c'].map((id) => status(during, id)),
        ['completed', 'running', 'pending'],
      );
      assert.match(find(during, byAttr('data-graph-node', 'node:a'))[0].textContent, /completed · 12 ms/);
      const after = renderGraph(
        graph,
        undefined,
        run('Failed', [
          { node: 'a', status: 'Bypassed', log: '' },
          { node: 'b', status: 'Failed', log: '' },
        ]),
      );
      assert.deepStrictEqual(
        ['node:a', 'node:b', 'node:c'].map((id) => status(after, id)),
        ['bypassed', 'failed', 'canceled'],
      );
    });

    it('draws a large flow at its natural size to scroll, or fitted to the panel’s width', () => {
      const natural = renderGraph(graph, undefined, null);
      const fitted = renderGraph(graph, undefined, null, true);
      const scroller = (nodes: Node[]) => find(nodes, (e) => (e.getAttribute('class') ?? '').startsWith('graph-scroll'))[0];
      assert.strictEqual(scroller(natural).getAttribute('class'), 'graph-scroll');
      assert.strictEqual(scroller(fitted).getAttribute('class'), 'graph-scroll graph-fit-width');
      assert.strictEqual(find(fitted, byAttr('data-action', 'toggleGraphFit'))[0].textContent, 'Natural size');
      const svgRoot = find(fitted, byAttr('data-testid', 'flow-graph'))[0];
      assert.match(svgRoot.getAttribute('viewBox') ?? '', /^0 0 \d+ \d+$/, 'the drawing scales by its viewBox');
    });

    it('says why when the flow cannot be read, keeping the last graph', () => {
      const nodes = renderGraph(graph, 'flow.dag.yaml: bad (line 3)', null);
      assert.match((nodes[0] as unknown as MiniElement).textContent, /bad \(line 3\)/);
      assert.strictEqual(find(nodes, byAttr('data-graph-node')).length, 5);
    });
  });

  it('draws a trace as a timeline with token totals per run and per node', () => {
    const s = (
      spanId: string,
      name: string,
      kind: TraceSpan['kind'],
      start: number,
      end: number,
      parentSpanId?: string,
      attributes = {},
    ): TraceSpan => ({
      traceId: 't'.repeat(32),
      spanId,
      ...(parentSpanId ? { parentSpanId } : {}),
      name,
      kind,
      start: String(1_000_000_000n + BigInt(start) * 1_000_000n),
      end: String(1_000_000_000n + BigInt(end) * 1_000_000n),
      status: 'Ok',
      attributes,
    });
    const tl = timeline([
      s('f', 'flow', 'flow', 0, 100),
      s('n', 'ask', 'node', 10, 90, 'f', { 'flowsession.node.name': 'ask' }),
      s('l', 'chat gpt-4o', 'llm', 20, 80, 'n', { 'gen_ai.usage.input_tokens': 30, 'gen_ai.usage.output_tokens': 12 }),
    ]);
    const view = renderTimeline(tl);
    assert.deepStrictEqual(
      find(view, byAttr('data-span')).map((e) => e.getAttribute('data-span')),
      ['flow', 'ask', 'chat gpt-4o'],
    );
    assert.strictEqual(find(view, byAttr('data-testid', 'trace-totals'))[0].textContent, '1 LLM call, 42 tokens (30 in, 12 out) in 100 ms');
    assert.match(view.textContent ?? '', /Per node: ask 42 tokens/);
    const rect = find(view, (e) => e.tagName === 'rect')[2];
    assert.deepStrictEqual([rect.getAttribute('x'), rect.getAttribute('width')], ['200.0', '600.0']);
  });

  it('lets runs of the history be ticked and compared, and shows them side by side line by line', () => {
    const history = [
      { runId: 'b2', kind: 'batch' as const, status: 'Completed', time: '2026-01-02T00:00:00Z', files: [] },
      { runId: 'b1', kind: 'batch' as const, status: 'Completed', time: '2026-01-01T00:00:00Z', files: [] },
    ];
    const none = renderHistory(history);
    assert.ok(find(none, byAttr('data-testid', 'compare-button'))[0].hasAttribute('disabled'));
    const both = renderHistory(history, new Set(['b1', 'b2']));
    assert.ok(!find(both, byAttr('data-testid', 'compare-button'))[0].hasAttribute('disabled'));
    assert.strictEqual(find(both, byAttr('data-select')).length, 2);
    const view = renderComparison({
      runs: ['b2', 'b1'].map((runId, k) => ({
        runId,
        kind: 'batch' as const,
        status: 'Completed',
        durationMs: 1000 * (k + 1),
        tokens: { input: 10 * (k + 1), output: 1, total: 10 * (k + 1) + 1 },
        metrics: k ? { accuracy: 0.5 } : { accuracy: 0.75 },
        variants: { summarize: `variant_${k}` },
        lines: [
          { index: 0, inputs: { q: 'x' }, outputs: { a: `answer ${k}` } },
          { index: 1, inputs: { q: 'y' }, ...(k ? { error: 'boom' } : { outputs: { a: 'same' } }) },
        ],
        linesOmitted: 0,
      })),
    });
    const summary = find(view, byAttr('data-testid', 'compare-summary'))[0];
    assert.match(
      summary.textContent,
      /Tokens21 tokens \(20 in, 1 out\)11 tokens \(10 in, 1 out\)|Tokens11 tokens \(10 in, 1 out\)21 tokens \(20 in, 1 out\)/,
    );
    assert.match(summary.textContent, /metric accuracy0\.750\.5/);
    assert.match(summary.textContent, /summarize: variant_0summarize: variant_1/);
    const lines = find(view, byAttr('data-testid', 'compare-lines'))[0];
    assert.match(lines.textContent, /Line 0Inputs \(same\)q: xq: xOutputsa: answer 0a: answer 1Line 1/);
    assert.match(lines.textContent, /boom/);
  });
});
