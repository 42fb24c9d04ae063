import * as assert from 'assert';
import * as path from 'path';
import { debuggableNodes, nodesUsingFile } from '../../../../src/core/debug/nodeSources';

describe('the nodes Debug Node offers', () => {
  const flow = {
    nodes: [
      { name: 'prompt', type: 'prompt', source: { type: 'code', path: 'p.jinja2' } },
      { name: 'fetch', type: 'python', source: { type: 'code', path: 'tools/fetch.py' } },
      { name: 'again', type: 'python', source: { type: 'code', path: './tools/fetch.py' } },
      { name: 'pkg', type: 'python', source: { type: 'package', tool: 'x.y.z' } },
      { type: 'python' },
      'junk',
    ],
  };

  it('lists named nodes, python nodes first', () => {
    assert.deepStrictEqual(
      debuggableNodes(flow).map((n) => n.name),
      ['fetch', 'again', 'pkg', 'prompt'],
    );
    assert.deepStrictEqual(debuggableNodes({}), []);
    assert.deepStrictEqual(debuggableNodes(null), []);
  });

  it('finds the nodes whose source is the file in the editor', () => {
    const dir = path.resolve('/w/flow');
    assert.deepStrictEqual(nodesUsingFile(flow, dir, path.join(dir, 'tools', 'fetch.py')), ['fetch', 'again']);
    assert.deepStrictEqual(nodesUsingFile(flow, dir, path.join(dir, 'p.jinja2')), ['prompt']);
    assert.deepStrictEqual(nodesUsingFile(flow, dir, path.join(dir, 'other.py')), []);
  });
});
