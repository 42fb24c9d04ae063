import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { listFlowFiles, SyncedFiles } from '../../../../src/core/fs/flowArchive';
import { includeScopeFor } from '../../../../src/core/flow/includeScope';
import { makeFlow } from '../../../support/flows/fixtures';

describe('the flow folder as the session sees it', () => {
  it('skips results, caches, VCS data and virtual environments, and links out of the folder', () => {
    const outside = makeFlow({ 'secret.txt': 'do not copy' });
    const dir = makeFlow({
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
    const shared = makeFlow({ 'tools/util.py': 'u', 'common.py': 'c' });
    const dir = makeFlow({ 'flow.dag.yaml': '' });
    const names = listFlowFiles(
      dir,
      [path.join(shared, 'tools'), path.join(shared, 'common.py'), 'missing.py'],
      includeScopeFor(dir, { extraRoots: [shared] }),
    )
      .map((f) => f.name)
      .sort();
    assert.deepStrictEqual(names, ['common.py', 'flow.dag.yaml', 'tools', 'tools/util.py']);
  });

  it('copies only what changed since the last sync, with the folders of changed files', () => {
    const dir = makeFlow({ 'flow.dag.yaml': '', 'sub/a.py': 'a', 'b.py': 'b' });
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
});
