import * as assert from 'assert';
import * as fs from 'fs';
import { mergeToolsJson, recordToolsJson, toolsJsonPath } from '../../../../src/core/validation/toolsJson';
import type { CodeToolMeta, FlowToolsJson } from '../../../../src/core/runtime/protocol';
import { makeFlow } from '../../../support/flows/fixtures';

const meta = (fn: string) => ({ type: 'python', function: fn, inputs: {} }) as unknown as CodeToolMeta;
const flow = {
  nodes: [
    { name: 'a', type: 'python', source: { type: 'code', path: './a.py' } },
    { name: 'p', type: 'prompt', source: { type: 'code', path: 'p.jinja2' } },
  ],
  node_variants: { v: { variants: { v1: { node: { type: 'llm', source: { type: 'code', path: 'v1.jinja2' } } } } } },
};

describe('flow.tools.json', () => {
  it('keeps the entries of the sources a narrowed check did not look at, and drops those the flow no longer uses', () => {
    const previous: FlowToolsJson = {
      code: { 'a.py': meta('old_a'), 'p.jinja2': meta('p'), 'v1.jinja2': meta('v1'), 'gone.py': meta('gone') },
      package: { 'old.pkg': {} },
    };
    const merged = mergeToolsJson(previous, { code: { 'a.py': meta('new_a') }, package: {} }, flow, ['./a.py']);
    assert.deepStrictEqual(Object.keys(merged.code), ['a.py', 'p.jinja2', 'v1.jinja2']);
    assert.strictEqual((merged.code['a.py'] as unknown as { function: string }).function, 'new_a');
    assert.deepStrictEqual(merged.package, {}, 'package tools are checked on every validation');
  });

  it('takes a full check as it is', () => {
    const previous: FlowToolsJson = { code: { 'p.jinja2': meta('p') }, package: {} };
    const tools: FlowToolsJson = { code: { 'a.py': meta('a') }, package: {} };
    assert.strictEqual(mergeToolsJson(previous, tools, flow, undefined), tools);
    assert.strictEqual(mergeToolsJson(undefined, tools, flow, ['a.py']), tools);
  });

  it('writes the file only when its content changes', async () => {
    const dir = makeFlow({ 'flow.dag.yaml': 'nodes: []' });
    const tools: FlowToolsJson = { code: { 'a.py': meta('a') }, package: {} };
    await recordToolsJson(dir, flow, tools, undefined);
    const first = fs.statSync(toolsJsonPath(dir));
    await recordToolsJson(dir, flow, tools, ['a.py']);
    const second = fs.statSync(toolsJsonPath(dir));
    assert.strictEqual(second.ino, first.ino, 'the same content is not written again');
    await recordToolsJson(dir, flow, { code: { 'p.jinja2': meta('p') }, package: {} }, ['p.jinja2']);
    const written = JSON.parse(fs.readFileSync(toolsJsonPath(dir), 'utf8')) as FlowToolsJson;
    assert.deepStrictEqual(Object.keys(written.code), ['a.py', 'p.jinja2']);
  });
});
