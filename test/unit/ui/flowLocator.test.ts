import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { flowDirOf, savedFileOfFlow, shallowFlowDirs } from '../../../src/ui/flowLocator';

describe('flowLocator', () => {
  let root: string;
  before(() => {
    root = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'fs-loc-')));
    fs.mkdirSync(path.join(root, 'flow', 'lib'), { recursive: true });
    fs.writeFileSync(path.join(root, 'flow', 'flow.dag.yaml'), 'nodes: []\n');
    fs.mkdirSync(path.join(root, 'flex', 'pkg'), { recursive: true });
    fs.writeFileSync(path.join(root, 'flex', 'flow.flex.yml'), 'entry: pkg.m:f\n');
    fs.mkdirSync(path.join(root, 'prompts', 'helpers'), { recursive: true });
    fs.writeFileSync(path.join(root, 'prompts', 'a.prompty'), '---\n---\n');
  });
  after(() => fs.rmSync(root, { recursive: true, force: true }));

  it('finds the nearest flow folder up from a file', () => {
    assert.strictEqual(flowDirOf(path.join(root, 'flow', 'lib', 'x.py')), path.join(root, 'flow'));
    assert.strictEqual(flowDirOf(path.join(root, 'flow', 'flow.dag.yaml')), path.join(root, 'flow'));
    assert.strictEqual(flowDirOf(path.join(root, 'other.py'), root), undefined);
  });
  it('finds flex flow folders and folders of .prompty files, and lists them as flows', () => {
    assert.strictEqual(flowDirOf(path.join(root, 'flex', 'pkg', 'm.py')), path.join(root, 'flex'));
    assert.strictEqual(flowDirOf(path.join(root, 'prompts', 'a.prompty'), root), path.join(root, 'prompts'));
    assert.strictEqual(flowDirOf(path.join(root, 'prompts', 'helpers', 'h.py'), root), path.join(root, 'prompts'));
    assert.deepStrictEqual(
      shallowFlowDirs(root).sort(),
      ['flex', 'flow', 'prompts'].map((d) => path.join(root, d)),
    );
  });
  it('re-validates on flow definitions and .prompty files too', () => {
    assert.strictEqual(savedFileOfFlow(path.join(root, 'flex', 'flow.flex.yml'), path.join(root, 'flex')), 'flow.flex.yml');
    assert.strictEqual(savedFileOfFlow(path.join(root, 'prompts', 'a.prompty'), path.join(root, 'prompts')), 'a.prompty');
  });
  it('re-validates on flow.dag.yaml, python and jinja sources only', () => {
    const f = path.join(root, 'flow');
    assert.strictEqual(savedFileOfFlow(path.join(f, 'flow.dag.yaml'), f), 'flow.dag.yaml');
    assert.strictEqual(savedFileOfFlow(path.join(f, 'lib', 'x.py'), f), 'lib/x.py');
    assert.strictEqual(savedFileOfFlow(path.join(f, 'p.jinja2'), f), 'p.jinja2');
    assert.strictEqual(savedFileOfFlow(path.join(f, 'README.md'), f), undefined);
    assert.strictEqual(savedFileOfFlow(path.join(f, '.promptflow', 'x.py'), f), undefined);
    assert.strictEqual(savedFileOfFlow(path.join(root, 'x.py'), f), undefined);
  });
});
