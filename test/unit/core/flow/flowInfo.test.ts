import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { parseFlowDocument } from '../../../../src/core/flow/dagDocument';
import { flowSourceFiles, flowToJson, listFlowSources, resolveIncludes } from '../../../../src/core/flow/flowInfo';

const FLOWS = path.join(__dirname, '../../../fixtures/flows');

describe('flow info helpers', () => {
  const dir = path.join(FLOWS, 'valid/additional_includes');
  const parsed = parseFlowDocument(fs.readFileSync(path.join(dir, 'flow.dag.yaml')));
  const shared = fs.realpathSync(path.join(FLOWS, '_shared'));

  it('gives the flow as plain JSON', () => {
    const json = flowToJson(parsed) as { nodes: Array<{ name: string }> };
    assert.deepStrictEqual(
      json.nodes.map((n) => n.name),
      ['summarize', 'shout', 'local'],
    );
    assert.strictEqual(flowToJson(parseFlowDocument('a: [')), undefined);
  });

  it('resolves additional includes, outside the folder included', () => {
    const inc = resolveIncludes(dir, parsed);
    assert.deepStrictEqual(
      inc.map((i) => [i.baseName, i.info.kind, i.absPath]),
      [
        ['summarize.py', 'file', path.join(shared, 'summarize.py')],
        ['common', 'dir', path.join(shared, 'common')],
      ],
    );
  });

  it('lists node source files where they really are', async () => {
    const real = fs.realpathSync(dir);
    const expected = [
      { node: 'summarize', path: 'summarize.py', absPath: path.join(shared, 'summarize.py'), exists: true },
      { node: 'shout', path: 'common/shout.py', absPath: path.join(shared, 'common', 'shout.py'), exists: true },
      { node: 'local', path: 'local.py', absPath: path.join(real, 'local.py'), exists: true },
    ];
    assert.deepStrictEqual(listFlowSources(dir, parsed), expected);
    assert.deepStrictEqual(await flowSourceFiles(dir), expected);
  });

  it('lists every variant template', async () => {
    const files = await flowSourceFiles(path.join(FLOWS, 'valid/variants'));
    assert.deepStrictEqual(
      files.map((f) => path.basename(f.absPath)),
      ['write.jinja2', 'write__variant_1.jinja2'],
    );
  });
});
