import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { readFlowEnvironment } from '../../../../src/core/flow/environment';
import { listFlowFiles, SyncedFiles } from '../../../../src/core/fs/flowArchive';
import { classifyPackages } from '../../../../src/core/session/packages';
import { readConnectionsFile } from '../../../../src/core/runs/connectionsFile';
import { FlowSessionError } from '../../../../src/core/errors';

function tree(files: Record<string, string>): string {
  const dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'fs-unit-')));
  for (const [rel, content] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    fs.writeFileSync(path.join(dir, rel), content);
  }
  return dir;
}

describe('the flow folder as the session sees it', () => {
  it('skips results, caches, VCS data and virtual environments, and links out of the folder', () => {
    const outside = tree({ 'secret.txt': 'do not copy' });
    const dir = tree({
      'flow.dag.yaml': 'nodes: []',
      'a.py': 'x',
      'data/d.jsonl': '{}',
      '.promptflow/flow.output.json': '{}',
      '__pycache__/a.pyc': '',
      '.git/HEAD': '',
      'env1/pyvenv.cfg': '',
      'env1/lib/x.py': '',
    });
    fs.symlinkSync(path.join(outside, 'secret.txt'), path.join(dir, 'leak.txt'));
    fs.symlinkSync(outside, path.join(dir, 'leakdir'));
    fs.symlinkSync(path.join(dir, 'a.py'), path.join(dir, 'alias.py'));
    const names = listFlowFiles(dir)
      .map((f) => f.name)
      .sort();
    assert.deepStrictEqual(names, ['a.py', 'alias.py', 'data', 'data/d.jsonl', 'flow.dag.yaml']);
  });

  it('lays additional_includes out by base name, as prompt flow does', () => {
    const shared = tree({ 'tools/util.py': 'u', 'common.py': 'c' });
    const dir = tree({ 'flow.dag.yaml': '' });
    const names = listFlowFiles(dir, [path.join(shared, 'tools'), path.join(shared, 'common.py'), 'missing.py'])
      .map((f) => f.name)
      .sort();
    assert.deepStrictEqual(names, ['common.py', 'flow.dag.yaml', 'tools', 'tools/util.py']);
  });

  it('copies only what changed since the last sync, with the folders of changed files', () => {
    const dir = tree({ 'flow.dag.yaml': '', 'sub/a.py': 'a', 'b.py': 'b' });
    const synced = new SyncedFiles();
    const first = listFlowFiles(dir);
    assert.strictEqual(synced.changed(first).length, first.length);
    synced.record(first);
    assert.deepStrictEqual(synced.changed(listFlowFiles(dir)), []);
    fs.writeFileSync(path.join(dir, 'sub', 'a.py'), 'a changed');
    assert.deepStrictEqual(
      synced
        .changed(listFlowFiles(dir))
        .map((f) => f.name)
        .sort(),
      ['sub', 'sub/a.py'],
    );
  });

  it('reads environment.image, the requirements and includes, naming the file on bad input', () => {
    const dir = tree({
      'flow.dag.yaml':
        'environment:\n  image: team/base:1\n  python_requirements_txt: reqs/r.txt\nadditional_includes:\n- ../shared\nnodes: []\n',
      'reqs/r.txt': 'pkg==1\n',
    });
    assert.deepStrictEqual(readFlowEnvironment(dir), {
      flowDir: dir,
      image: 'team/base:1',
      requirementsFile: 'reqs/r.txt',
      requirements: 'pkg==1\n',
      additionalIncludes: ['../shared'],
    });
    const plain = tree({ 'flow.dag.yaml': 'nodes: []\n', 'requirements.txt': 'x\n' });
    assert.strictEqual(readFlowEnvironment(plain).requirementsFile, 'requirements.txt');
    const escaping = tree({ 'flow.dag.yaml': 'environment:\n  python_requirements_txt: ../../etc/passwd\n' });
    assert.throws(() => readFlowEnvironment(escaping), /outside the flow folder/);
    const broken = tree({ 'flow.dag.yaml': 'a: [\n' });
    assert.throws(
      () => readFlowEnvironment(broken),
      (e: unknown) => e instanceof FlowSessionError && /flow\.dag\.yaml:\d+:\d+: malformed YAML/.test(e.message),
    );
  });

  it('tells where each installed package came from', () => {
    const base = [
      { name: 'Jinja2', version: '3.1.2' },
      { name: 'pip', version: '23.0' },
    ];
    const env = [...base, { name: 'fs-greeting', version: '1.0.0' }];
    const current = [...env, { name: 'fs_extra', version: '0.3.0' }, { name: 'pip', version: '24.0' }];
    assert.deepStrictEqual(
      classifyPackages(current, base, env).map((p) => `${p.name}:${p.origin}`),
      ['Jinja2:base', 'pip:base', 'fs-greeting:requirements', 'fs_extra:by-hand', 'pip:by-hand'],
    );
    assert.ok(
      classifyPackages(current, base, null).filter((p) => p.origin === 'requirements').length === 0,
      'without requirements nothing is attributed to them',
    );
  });

  it('reads a connections file with secrets from the environment only', () => {
    const dir = tree({
      'c.yaml':
        '- name: aoai\n  type: azure_open_ai\n  api_base: https://x.example\n  api_key: ${env:MY_KEY}\n- name: raw\n  type: custom\n  secrets:\n    token: ${env:MY_KEY}\n',
    });
    const c = readConnectionsFile(path.join(dir, 'c.yaml'), { MY_KEY: 'k-123' });
    assert.deepStrictEqual(c.aoai, { type: 'AzureOpenAIConnection', api_base: 'https://x.example', api_key: 'k-123' });
    assert.deepStrictEqual(c.raw, { type: 'CustomConnection', secrets: { token: 'k-123' } });
    assert.throws(() => readConnectionsFile(path.join(dir, 'c.yaml'), {}), /needs the environment variable MY_KEY/);
  });
});

describe('reading a flow environment again', () => {
  it('sees every change to flow.dag.yaml and the requirements, even one of the same size', () => {
    const dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'fs-env-')));
    fs.writeFileSync(path.join(dir, 'flow.dag.yaml'), 'environment:\n  image: team/base:1\nnodes: []\n');
    fs.writeFileSync(path.join(dir, 'requirements.txt'), 'pkg==1.0.0\n');
    assert.strictEqual(readFlowEnvironment(dir).image, 'team/base:1');
    fs.writeFileSync(path.join(dir, 'flow.dag.yaml'), 'environment:\n  image: team/base:2\nnodes: []\n');
    fs.writeFileSync(path.join(dir, 'requirements.txt'), 'pkg==2.0.0\n');
    const again = readFlowEnvironment(dir);
    assert.strictEqual(again.image, 'team/base:2');
    assert.strictEqual(again.requirements, 'pkg==2.0.0\n');
    again.additionalIncludes.push('x');
    assert.deepStrictEqual(readFlowEnvironment(dir).additionalIncludes, [], 'a caller cannot change what is cached');
    fs.rmSync(path.join(dir, 'requirements.txt'));
    assert.strictEqual(readFlowEnvironment(dir).requirementsFile, undefined);
  });
});
