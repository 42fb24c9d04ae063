import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import {
  expandHome,
  gitRootOf,
  includeScopeFor,
  judgeInclude,
  rootsFromList,
  type IncludeRootsConfig,
} from '../../../../src/core/flow/includeScope';
import { fsProbe } from '../../../../src/core/flow/sources';
import { checkFlowText } from '../../../../src/core/flow/staticChecks';
import { listFlowFiles } from '../../../../src/core/fs/flowArchive';
import { makeFlow } from '../../../support/flows/fixtures';

/** A machine in a temp folder: a home with dot folders, a git repository holding a flow and a shared folder, and a folder outside. */
function machine() {
  const top = makeFlow({
    'home/.ssh/id_rsa': 'PRIVATE KEY',
    'home/.aws/credentials': 'aws secret',
    'home/notes/n.txt': 'home notes',
    'repo/.git/HEAD': 'ref: refs/heads/main',
    'repo/shared/util.py': 'u',
    'repo/shared/common.py': 'c',
    'repo/flows/f/flow.dag.yaml': 'nodes: []\n',
    'repo/flows/f/a.py': 'a',
    'outside/secret.txt': 'outside',
  });
  const at = (p: string) => path.join(top, p);
  const flow = at('repo/flows/f');
  const scope = (c: IncludeRootsConfig = {}) => includeScopeFor(flow, { home: at('home'), ...c });
  const names = (includes: string[] = [], c?: IncludeRootsConfig) =>
    listFlowFiles(flow, includes, scope(c))
      .map((f) => f.name)
      .sort();
  return { top, at, flow, scope, names };
}

describe('the include scope', () => {
  it('takes the git repository that holds the flow as its root, else the flow folder', () => {
    const m = machine();
    assert.strictEqual(gitRootOf(m.flow), m.at('repo'));
    assert.strictEqual(gitRootOf(m.at('outside')), gitRootOf(path.dirname(m.top)));
    assert.deepStrictEqual(
      m.scope().roots.map((r) => r.path),
      [m.flow, m.at('repo')],
    );
    const lone = makeFlow({ 'flow.dag.yaml': '' });
    assert.deepStrictEqual(
      includeScopeFor(lone, { containerOf: () => undefined, home: m.at('home') }).roots.map((r) => r.path),
      gitRootOf(lone) ? [lone, gitRootOf(lone)] : [lone],
    );
  });

  it('allows a sibling folder inside the repository, by include and by symlink', () => {
    const m = machine();
    assert.deepStrictEqual(judgeInclude(m.scope(), '../../shared'), { ok: true, real: m.at('repo/shared') });
    fs.symlinkSync(m.at('repo/shared'), path.join(m.flow, 'linked'));
    assert.deepStrictEqual(m.names(['../../shared/common.py']), [
      'a.py',
      'common.py',
      'flow.dag.yaml',
      'linked',
      'linked/common.py',
      'linked/util.py',
    ]);
  });

  it('refuses includes that climb out with .. or name an absolute path, and copies nothing of them', () => {
    const m = machine();
    for (const entry of ['../../../outside/secret.txt', '../../../outside', m.at('outside/secret.txt'), '/etc/passwd']) {
      const v = judgeInclude(m.scope(), entry);
      assert.ok(v && !v.ok && v.why !== 'contains-flow', `${entry}: ${JSON.stringify(v)}`);
    }
    assert.strictEqual((judgeInclude(m.scope(), '/etc/passwd') as { why: string }).why, 'protected');
    assert.deepStrictEqual(m.names(['../../../outside/secret.txt', '../../../outside', '/etc/passwd']), ['a.py', 'flow.dag.yaml']);
  });

  it('does not expand ~ in an include, as prompt flow does not: it is a missing path', () => {
    const m = machine();
    assert.strictEqual(judgeInclude(m.scope(), '~/.ssh'), undefined);
    assert.deepStrictEqual(m.names(['~/.ssh', '~']), ['a.py', 'flow.dag.yaml']);
  });

  it('refuses a symlinked include and a symlinked folder that lead out of the roots', () => {
    const m = machine();
    fs.symlinkSync(m.at('outside'), m.at('repo/shared/out'));
    fs.symlinkSync(m.at('home/.ssh'), m.at('repo/keys'));
    fs.symlinkSync(m.at('home/.aws'), path.join(m.flow, 'aws'));
    fs.symlinkSync(m.at('outside/secret.txt'), path.join(m.flow, 'secret.txt'));
    assert.strictEqual((judgeInclude(m.scope(), '../../keys') as { why: string }).why, 'protected');
    assert.deepStrictEqual(m.names(['../../keys', '../../shared']), [
      'a.py',
      'flow.dag.yaml',
      'shared',
      'shared/common.py',
      'shared/util.py',
    ]);
  });

  it('opens the roots the user lists, ~ expanded, but never a home dot folder through a wider root', () => {
    const m = machine();
    fs.symlinkSync(m.at('home/.ssh'), path.join(m.flow, 'ssh'));
    fs.symlinkSync(m.at('home/notes'), path.join(m.flow, 'notes'));
    assert.deepStrictEqual(m.names(['../../../outside'], { extraRoots: [m.at('outside')] }), [
      'a.py',
      'flow.dag.yaml',
      'outside',
      'outside/secret.txt',
    ]);
    for (const wide of ['~', m.top, '/']) {
      assert.deepStrictEqual(
        m.names(['../../../home/.aws'], { extraRoots: [wide] }),
        ['a.py', 'flow.dag.yaml', 'notes', 'notes/n.txt'],
        wide,
      );
      assert.strictEqual((judgeInclude(m.scope({ extraRoots: [wide] }), '../../../home/.aws') as { why: string }).why, 'protected');
    }
    // naming the dot folder itself is a deliberate choice, not an accident of a wide root
    assert.ok(judgeInclude(m.scope({ extraRoots: ['~/.aws'] }), '../../../home/.aws')?.ok);
  });

  it('refuses an include that contains the flow itself', () => {
    const m = machine();
    for (const entry of ['..', '../..', '/']) assert.strictEqual((judgeInclude(m.scope(), entry) as { why: string }).why, 'contains-flow');
  });

  it('does not follow a symlink back into a folder being listed', () => {
    const m = machine();
    fs.mkdirSync(path.join(m.flow, 'sub'));
    fs.symlinkSync(m.flow, path.join(m.flow, 'sub', 'loop'));
    fs.symlinkSync(m.at('repo/shared'), m.at('repo/shared/self'));
    assert.deepStrictEqual(m.names(['../../shared']), ['a.py', 'flow.dag.yaml', 'shared', 'shared/common.py', 'shared/util.py', 'sub']);
  });

  it('reads root lists and ~ as the CLI and the setting write them', () => {
    assert.deepStrictEqual(rootsFromList(` /a${path.delimiter}${path.delimiter}~/b `), ['/a', '~/b']);
    assert.strictEqual(expandHome('~/b', '/h'), path.join('/h', 'b'));
    assert.strictEqual(expandHome('~', '/h'), '/h');
  });
});

describe('refused includes in the static checks', () => {
  it('are an error on the entry, saying where it points and how to allow it', () => {
    const m = machine();
    fs.symlinkSync(m.at('home/.ssh'), m.at('repo/keys'));
    const yaml = 'nodes: []\nadditional_includes:\n- ../../shared\n- ../../../outside/secret.txt\n- ../../keys\n- ../../../home/.ssh\n';
    const ps = checkFlowText(yaml, fsProbe(m.flow, m.scope()));
    assert.deepStrictEqual(
      ps.map((p) => `${p.code}@${p.line}:${p.column}`),
      ['InvalidAdditionalInclude@4:3', 'InvalidAdditionalInclude@5:3', 'InvalidAdditionalInclude@6:3'],
    );
    assert.ok(ps[0].message.includes(m.at('outside/secret.txt')), ps[0].message);
    assert.match(ps[0].message, /flowsession\.allowedIncludeRoots.*FLOWSESSION_ALLOWED_INCLUDE_ROOTS/);
    assert.match(ps[2].message, /protected location/);
  });

  it('keep a node source reached through a refused include or a link out of the roots from counting as present', () => {
    const m = machine();
    fs.symlinkSync(m.at('outside'), path.join(m.flow, 'out'));
    const yaml =
      'nodes:\n- name: a\n  type: python\n  source: {type: code, path: secret.txt}\n' +
      '- name: b\n  type: python\n  source: {type: code, path: out/secret.txt}\nadditional_includes:\n- ../../../outside/secret.txt\n';
    const ps = checkFlowText(yaml, fsProbe(m.flow, m.scope()));
    assert.deepStrictEqual(
      ps.map((p) => `${p.code}@${p.line}`),
      ['InvalidSource@4', 'InvalidSource@7', 'InvalidAdditionalInclude@9'],
    );
  });
});
