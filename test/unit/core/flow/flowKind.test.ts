import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import {
  definitionFileIn,
  flowsInFolder,
  kindOfFileName,
  kindsLabel,
  locateFlow,
  sessionFolderOf,
} from '../../../../src/core/flow/flowKind';
import { readFlowEnvironment, resolveFlowDir } from '../../../../src/core/flow/environment';
import { FlowSessionError } from '../../../../src/core/errors';
import { flowInputsOf } from '../../../../src/core/flow/flowInputs';

describe('flowKind: what kind of flow a path is', () => {
  let root: string;
  const make = (files: Record<string, string>) => {
    const dir = fs.mkdtempSync(path.join(root, 'f-'));
    for (const [name, text] of Object.entries(files)) {
      fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
      fs.writeFileSync(path.join(dir, name), text);
    }
    return fs.realpathSync(dir);
  };
  before(() => (root = fs.mkdtempSync(path.join(os.tmpdir(), 'flowkind-'))));
  after(() => fs.rmSync(root, { recursive: true, force: true }));

  it('names the kind of each flow file name', () => {
    assert.strictEqual(kindOfFileName('flow.dag.yaml'), 'dag');
    assert.strictEqual(kindOfFileName('/x/flow.dag.yml'), 'dag');
    assert.strictEqual(kindOfFileName('flow.flex.yaml'), 'flex');
    assert.strictEqual(kindOfFileName('flow.flex.yml'), 'flex');
    assert.strictEqual(kindOfFileName('chat.prompty'), 'prompty');
    assert.strictEqual(kindOfFileName('.prompty'), undefined);
    assert.strictEqual(kindOfFileName('flow.yaml'), undefined);
    assert.strictEqual(kindOfFileName('tool.py'), undefined);
  });

  it("finds a folder's definition, a DAG before a flex flow", () => {
    assert.deepStrictEqual(definitionFileIn(make({ 'flow.flex.yml': 'entry: a:b\n' })), { kind: 'flex', file: 'flow.flex.yml' });
    assert.deepStrictEqual(definitionFileIn(make({ 'flow.flex.yaml': '', 'flow.dag.yaml': '' })), { kind: 'dag', file: 'flow.dag.yaml' });
    assert.strictEqual(definitionFileIn(make({ 'a.prompty': '' })), undefined);
  });

  it('locates a flow from its folder, its flow file or its .prompty, the folder being the session', () => {
    const flex = make({ 'flow.flex.yaml': 'entry: a:b\n', 'helper.prompty': '' });
    assert.deepStrictEqual(locateFlow(flex), { dir: flex, kind: 'flex', file: 'flow.flex.yaml' });
    assert.deepStrictEqual(locateFlow(path.join(flex, 'helper.prompty')), { dir: flex, kind: 'prompty', file: 'helper.prompty' });
    const one = make({ 'only.prompty': '' });
    assert.deepStrictEqual(locateFlow(one), { dir: one, kind: 'prompty', file: 'only.prompty' });
    const dag = make({ 'flow.dag.yml': '' });
    assert.deepStrictEqual(locateFlow(path.join(dag, 'flow.dag.yml')), { dir: dag, kind: 'dag', file: 'flow.dag.yml' });
    assert.strictEqual(resolveFlowDir(path.join(flex, 'helper.prompty')), flex);
  });

  it('lists the flows of a folder with their kinds, and labels them', () => {
    const mixed = make({ 'flow.dag.yaml': '', 'b.prompty': '', 'a.prompty': '', 'x.py': '' });
    assert.deepStrictEqual(flowsInFolder(mixed), [
      { kind: 'dag', file: 'flow.dag.yaml' },
      { kind: 'prompty', file: 'a.prompty' },
      { kind: 'prompty', file: 'b.prompty' },
    ]);
    assert.strictEqual(kindsLabel(flowsInFolder(mixed)), 'dag + 2 prompty');
    assert.strictEqual(kindsLabel([{ kind: 'flex' }]), 'flex');
    assert.strictEqual(kindsLabel([{ kind: 'prompty' }]), 'prompty');
  });

  it('refuses what is not a flow, and a folder of several .prompty files when one flow is meant', () => {
    const two = make({ 'a.prompty': '', 'b.prompty': '' });
    assert.throws(
      () => locateFlow(two),
      (e: unknown) => e instanceof FlowSessionError && /several \.prompty/.test(e.message),
    );
    assert.strictEqual(sessionFolderOf(two), two, 'still a session folder');
    const none = make({ 'tool.py': '' });
    assert.throws(
      () => locateFlow(none),
      (e: unknown) => e instanceof FlowSessionError && e.kind === 'bad-input',
    );
    assert.throws(() => locateFlow(path.join(none, 'tool.py')), /Not a flow file/);
    assert.throws(() => sessionFolderOf(none), /No flow in/);
    assert.throws(() => locateFlow(path.join(none, 'missing')), /No such folder/);
    assert.throws(() => locateFlow(path.join(none, 'gone.prompty')), /No such file/);
  });

  it('reads the inputs a run form asks for: flex YAML inputs and sample.inputs, prompty inputs and sample', async () => {
    const flex = make({ 'flow.flex.yaml': 'entry: a:b\ninputs:\n  q:\n    type: string\nsample:\n  inputs:\n    q: hi\n    n: 2\n' });
    assert.deepStrictEqual(await flowInputsOf(flex), { q: { type: 'string', default: 'hi' }, n: { default: 2 } });
    const p = make({
      'a.prompty':
        '---\nmodel:\n  configuration:\n    type: openai\n    model: m\ninputs:\n  question:\n    type: string\nsample:\n  question: why\n---\nuser:\n{{question}}\n',
    });
    assert.deepStrictEqual(await flowInputsOf(path.join(p, 'a.prompty')), { question: { type: 'string', default: 'why' } });
    const fromFile = make({
      'c.prompty': '---\nmodel:\n  configuration:\n    type: openai\n    model: m\nsample: ${file:s.json}\n---\nuser:\n{{q}}\n',
      's.json': '{"q": "from the file"}',
    });
    assert.deepStrictEqual(await flowInputsOf(path.join(fromFile, 'c.prompty')), { q: { default: 'from the file' } });
    const broken = make({ 'b.prompty': 'no front matter\n' });
    await assert.rejects(flowInputsOf(broken), (e: unknown) => e instanceof FlowSessionError && e.kind === 'flow-definition-error');
  });

  it("reads a flex flow's environment and includes as a DAG flow's, and a folder of .prompty files its requirements.txt", () => {
    const flex = make({
      'flow.flex.yaml':
        'entry: a:b\nenvironment:\n  image: my/base:1\n  python_requirements_txt: reqs.txt\nadditional_includes:\n- ../shared\n',
      'reqs.txt': 'wheel-a\n',
    });
    const env = readFlowEnvironment(flex);
    assert.deepStrictEqual(
      [env.image, env.requirementsFile, env.requirements, env.additionalIncludes],
      ['my/base:1', 'reqs.txt', 'wheel-a\n', ['../shared']],
    );
    const prompts = make({ 'a.prompty': '', 'requirements.txt': 'wheel-b\n' });
    const penv = readFlowEnvironment(path.join(prompts, 'a.prompty'));
    assert.deepStrictEqual([penv.flowDir, penv.image, penv.requirements], [prompts, undefined, 'wheel-b\n']);
  });

  it('takes a flex entry module:function of the current folder in place of a flow, as pf flow test --flow does', async () => {
    const dir = make({ 'programmer.py': 'def write(text: str) -> str:\n    return text\n', 'pkg/__init__.py': '', 'pkg/mod.py': '' });
    const cwd = process.cwd();
    try {
      process.chdir(dir);
      assert.deepStrictEqual(locateFlow('programmer:write'), { dir, kind: 'flex', file: 'flow.flex.yaml', entry: 'programmer:write' });
      assert.strictEqual(locateFlow('pkg.mod:Flow').entry, 'pkg.mod:Flow');
      // its session is the folder's, though the folder holds no flow file
      assert.strictEqual(sessionFolderOf('programmer:write'), dir);
      assert.strictEqual(resolveFlowDir(dir), dir);
      assert.throws(
        () => locateFlow('nomodule:write'),
        (e: FlowSessionError) => /neither a path nor the entry of a module in .* \(nomodule\.py\)/.test(e.message),
      );
      assert.deepStrictEqual(await flowInputsOf('programmer:write'), {});
    } finally {
      process.chdir(cwd);
    }
  });
});
