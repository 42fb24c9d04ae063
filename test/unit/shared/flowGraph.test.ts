import * as assert from 'assert';
import { flowGraph, referenceTarget } from '../../../src/shared/flowGraph';

describe('flow graph model', () => {
  it('reads references: flow inputs and node outputs (with paths), nothing else', () => {
    assert.strictEqual(referenceTarget('${inputs.question}'), 'input:question');
    assert.strictEqual(referenceTarget('${fetch.output}'), 'node:fetch');
    assert.strictEqual(referenceTarget(' ${fetch.output.data[0].text} '), 'node:fetch');
    assert.strictEqual(referenceTarget('${fetch.input}'), undefined);
    assert.strictEqual(referenceTarget('plain ${inputs.x} text'), undefined);
    assert.strictEqual(referenceTarget(42), undefined);
  });

  it('makes inputs, nodes and outputs with edges from references, activate conditions and aggregation marked', () => {
    const g = flowGraph({
      inputs: { url: { type: 'string' }, n: { type: 'int' } },
      outputs: { category: { type: 'string', reference: '${convert.output.category}' } },
      nodes: [
        { name: 'fetch', type: 'python', source: { type: 'code', path: 'fetch.py' }, inputs: { url: '${inputs.url}' } },
        {
          name: 'classify',
          type: 'llm',
          source: { type: 'code', path: 'classify.jinja2' },
          inputs: { text: '${fetch.output}', n: '${inputs.n}', temperature: 0.2 },
          activate: { when: '${fetch.output}', is: 'ok' },
        },
        {
          name: 'convert',
          type: 'python',
          source: { type: 'code', path: 'convert.py' },
          inputs: { x: '${classify.output}', again: '${classify.output}' },
        },
        {
          name: 'grade',
          type: 'python',
          source: { type: 'code', path: 'grade.py' },
          aggregation: true,
          inputs: { all: '${convert.output}' },
        },
        { name: 'pkg', type: 'python', source: { type: 'package', tool: 'my_pkg.tools.echo' }, inputs: { v: '${missing.output}' } },
      ],
    });
    assert.deepStrictEqual(
      g.nodes.map((n) => [n.id, n.type]),
      [
        ['input:url', 'string'],
        ['input:n', 'int'],
        ['node:fetch', 'python'],
        ['node:classify', 'llm'],
        ['node:convert', 'python'],
        ['node:grade', 'python'],
        ['node:pkg', 'python'],
        ['output:category', 'string'],
      ],
    );
    assert.deepStrictEqual(
      g.edges.map((e) => `${e.from}->${e.to}${e.kind === 'activate' ? ' (activate)' : ''}`),
      [
        'input:url->node:fetch',
        'node:fetch->node:classify',
        'input:n->node:classify',
        'node:fetch->node:classify (activate)',
        'node:classify->node:convert',
        'node:convert->node:grade',
        'node:convert->output:category',
      ],
      'one edge per pair and kind; a reference to a node that does not exist draws none',
    );
    const byId = new Map(g.nodes.map((n) => [n.id, n]));
    assert.strictEqual(byId.get('node:grade')?.aggregation, true);
    assert.strictEqual(byId.get('node:classify')?.activate, 'when ${fetch.output} is "ok"');
    assert.strictEqual(byId.get('node:pkg')?.source, 'my_pkg.tools.echo');
    assert.strictEqual(byId.get('node:fetch')?.source, 'fetch.py');
  });

  it('shows variants on their node, with edges from every variant’s inputs', () => {
    const g = flowGraph({
      inputs: { text: { type: 'string' }, style: { type: 'string' } },
      nodes: [{ name: 'summarize', use_variants: true }],
      node_variants: {
        summarize: {
          default_variant_id: 'variant_1',
          variants: {
            variant_0: { node: { type: 'llm', source: { type: 'code', path: 'a.jinja2' }, inputs: { text: '${inputs.text}' } } },
            variant_1: {
              node: { type: 'llm', source: { type: 'code', path: 'b.jinja2' }, inputs: { text: '${inputs.text}', s: '${inputs.style}' } },
            },
          },
        },
      },
    });
    const node = g.nodes.find((n) => n.id === 'node:summarize');
    assert.deepStrictEqual(node?.variants, { ids: ['variant_0', 'variant_1'], default: 'variant_1' });
    assert.strictEqual(node?.type, 'llm');
    assert.deepStrictEqual(
      g.edges.map((e) => e.from),
      ['input:text', 'input:style'],
    );
  });

  it('draws what it can of a half-written or hostile flow', () => {
    assert.deepStrictEqual(flowGraph(undefined), { nodes: [], edges: [] });
    assert.deepStrictEqual(flowGraph('nodes'), { nodes: [], edges: [] });
    const g = flowGraph({
      inputs: [],
      nodes: [null, { name: 7 }, { name: 'a', inputs: 'x' }, { name: 'a' }, { name: 'self', inputs: { me: '${self.output}' } }],
      outputs: { o: 'x' },
    });
    assert.deepStrictEqual(
      g.nodes.map((n) => n.id),
      ['node:a', 'node:self', 'output:o'],
    );
    assert.deepStrictEqual(g.edges, [], 'no self edge');
  });
});
