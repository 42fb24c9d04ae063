import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { nodeSource as findSource, toolFunctionLine, type NodeSource } from '../../../../src/core/flow/nodeSource';

const problem = (s: NodeSource) => ('problem' in s ? s.problem : '');

describe('node source (where a graph node opens)', () => {
  it('finds the @tool function line, else the first def', () => {
    assert.strictEqual(toolFunctionLine('import x\n\n\ndef helper():\n    pass\n\n\n@tool\ndef main(a):\n    return a\n'), 9);
    assert.strictEqual(toolFunctionLine('@promptflow.tool(name="x")\n# why\nasync def go():\n    pass\n'), 3);
    assert.strictEqual(toolFunctionLine('x = 1\ndef only():\n    pass\n'), 2);
    assert.strictEqual(toolFunctionLine(''), 1);
  });

  it('opens files of the flow only: its own or its default variant’s; says why otherwise', async () => {
    const dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'fs-nodesrc-')));
    const outside = fs.mkdtempSync(path.join(os.tmpdir(), 'fs-nodesrc-out-'));
    try {
      fs.writeFileSync(path.join(dir, 'a.py'), 'from promptflow import tool\n\n@tool\ndef a(x):\n    return x\n');
      fs.writeFileSync(path.join(dir, 'v1.jinja2'), '{{x}}');
      fs.writeFileSync(path.join(outside, 'secret.py'), 'def s(): pass\n');
      fs.symlinkSync(path.join(outside, 'secret.py'), path.join(dir, 'link.py'));
      const flow = {
        nodes: [
          { name: 'a', type: 'python', source: { type: 'code', path: 'a.py' } },
          { name: 'v', use_variants: true },
          { name: 'pkg', type: 'python', source: { type: 'package', tool: 'my.tool' } },
          { name: 'climb', type: 'python', source: { type: 'code', path: '../x.py' } },
          { name: 'link', type: 'python', source: { type: 'code', path: 'link.py' } },
        ],
        node_variants: {
          v: { default_variant_id: 'v1', variants: { v1: { node: { type: 'prompt', source: { type: 'code', path: 'v1.jinja2' } } } } },
        },
      };
      assert.deepStrictEqual(await findSource(dir, flow, 'a'), { file: path.join(dir, 'a.py'), line: 4 });
      assert.deepStrictEqual(await findSource(dir, flow, 'v'), { file: path.join(dir, 'v1.jinja2'), line: 1 });
      assert.match(problem(await findSource(dir, flow, 'pkg')), /package tool \(my\.tool\)/);
      assert.match(problem(await findSource(dir, flow, 'climb')), /does not exist|outside the flow folder/);
      assert.match(problem(await findSource(dir, flow, 'link')), /outside the flow folder/);
      assert.match(problem(await findSource(dir, flow, 'nope')), /no node named/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
      fs.rmSync(outside, { recursive: true, force: true });
    }
  });
});
