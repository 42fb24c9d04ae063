import * as assert from 'assert';
import { nodeAtLine, nodeLines, nodesWithSource } from '../../../../src/core/flow/nodeLocator';

const FLOW = `inputs:
  q: {type: string}
nodes:
- name: fetch
  type: python
  source: {type: code, path: fetch.py}
  inputs:
    q: \${inputs.q}
- name: summarize
  use_variants: true
- name: shared
  type: python
  source: {type: code, path: ./fetch.py}
node_variants:
  summarize:
    default_variant_id: v0
    variants:
      v0:
        node:
          type: llm
          source: {type: code, path: sum.jinja2}
      v1:
        node:
          type: llm
          source: {type: code, path: sum_v1.jinja2}
`;

describe('node locator (Run Node)', () => {
  it('gives each node the lines of its entry and of its variants', () => {
    assert.deepStrictEqual(nodeLines(FLOW), [
      { name: 'fetch', line: 4, endLine: 8 },
      { name: 'summarize', line: 9, endLine: 10, variantLines: { line: 15, endLine: 25 } },
      { name: 'shared', line: 11, endLine: 13 },
    ]);
    assert.deepStrictEqual(nodeLines('nodes: [\n'), []);
  });

  it('finds the node under the cursor, in its entry or in its variants, and none elsewhere', () => {
    assert.strictEqual(nodeAtLine(FLOW, 4), 'fetch');
    assert.strictEqual(nodeAtLine(FLOW, 8), 'fetch');
    assert.strictEqual(nodeAtLine(FLOW, 10), 'summarize');
    assert.strictEqual(nodeAtLine(FLOW, 22), 'summarize');
    assert.strictEqual(nodeAtLine(FLOW, 1), undefined);
  });

  it('finds the nodes whose source is a file, through variants and ./ prefixes', () => {
    assert.deepStrictEqual(nodesWithSource(FLOW, 'fetch.py'), ['fetch', 'shared']);
    assert.deepStrictEqual(nodesWithSource(FLOW, 'sum_v1.jinja2'), ['summarize']);
    assert.deepStrictEqual(nodesWithSource(FLOW, 'other.py'), []);
  });
});
