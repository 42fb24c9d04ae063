import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { hashFile } from '../../../../src/core/fs/fileHash';
import { includeScopeFor } from '../../../../src/core/flow/includeScope';
import { listFlowFiles } from '../../../../src/core/fs/flowArchive';
import { isEmptyPlan, nextEntries, planSync, type SyncPlan } from '../../../../src/core/fs/syncPlan';
import type { ManifestEntry } from '../../../../src/core/runtime/protocol';
import { makeFlow } from '../../../support/flows/fixtures';

/** The manifest a session holds after a full copy of the folder as it is now. */
async function manifestOf(dir: string): Promise<Record<string, ManifestEntry>> {
  const entries: Record<string, ManifestEntry> = {};
  for (const f of listFlowFiles(dir))
    entries[f.name] = f.dir ? { dir: true } : { size: f.size, mtimeMs: f.mtimeMs, hash: await hashFile(f.abs) };
  return entries;
}

function summary(plan: SyncPlan): { send: string[]; remove: string[]; restamp: string[] } {
  return { send: plan.send.map((f) => f.name).sort(), remove: plan.remove, restamp: Object.keys(plan.restamp).sort() };
}

describe('the plan of a sync: the difference between the session manifest and the flow files', () => {
  it('sends everything to a session that proves nothing', async () => {
    const dir = makeFlow({ 'flow.dag.yaml': '', 'sub/a.py': 'a' });
    const plan = await planSync(listFlowFiles(dir), {}, hashFile);
    assert.deepStrictEqual(summary(plan).send, ['flow.dag.yaml', 'sub', 'sub/a.py']);
  });

  it('sends nothing and reads nothing when sizes and mtimes match', async () => {
    const dir = makeFlow({ 'flow.dag.yaml': '', 'big.bin': 'x'.repeat(1000) });
    const held = await manifestOf(dir);
    const plan = await planSync(listFlowFiles(dir), held, () => assert.fail('nothing is hashed'));
    assert.ok(isEmptyPlan(plan));
  });

  it('removes deleted files and folders (the top of each removed tree), and renamed files go and come', async () => {
    const dir = makeFlow({ 'flow.dag.yaml': '', 'helper.py': 'h', 'old/deep/x.py': 'x', 'prompt.jinja2': 'p' });
    const held = await manifestOf(dir);
    fs.rmSync(path.join(dir, 'helper.py'));
    fs.rmSync(path.join(dir, 'old'), { recursive: true });
    fs.renameSync(path.join(dir, 'prompt.jinja2'), path.join(dir, 'renamed.jinja2'));
    const plan = await planSync(listFlowFiles(dir), held, hashFile);
    assert.deepStrictEqual(summary(plan), { send: ['renamed.jinja2'], remove: ['helper.py', 'old', 'prompt.jinja2'], restamp: [] });
  });

  it('hashes a file whose mtime changed but not its size: same content is only restamped, other content is sent', async () => {
    const dir = makeFlow({ 'flow.dag.yaml': '', 'same.txt': 'abc', 'edited.txt': 'abc' });
    const held = await manifestOf(dir);
    const later = new Date(Date.now() + 5000);
    fs.utimesSync(path.join(dir, 'same.txt'), later, later);
    fs.writeFileSync(path.join(dir, 'edited.txt'), 'xyz');
    fs.utimesSync(path.join(dir, 'edited.txt'), later, later);
    const hashed: string[] = [];
    const plan = await planSync(listFlowFiles(dir), held, (abs) => (hashed.push(path.basename(abs)), hashFile(abs)));
    assert.deepStrictEqual(summary(plan), { send: ['edited.txt'], remove: [], restamp: ['same.txt'] });
    assert.deepStrictEqual(hashed.sort(), ['edited.txt', 'same.txt']);
  });

  it('a size change sends without hashing; a saved file named for a recheck is compared by content', async () => {
    const dir = makeFlow({ 'flow.dag.yaml': '', 'a.py': 'a', 'b.py': 'b' });
    const held = await manifestOf(dir);
    fs.writeFileSync(path.join(dir, 'a.py'), 'longer');
    held['b.py'] = { ...(held['b.py'] as { size: number; mtimeMs: number; hash: string }), hash: 'stale' };
    const plan = await planSync(listFlowFiles(dir), held, hashFile, new Set(['b.py']));
    assert.deepStrictEqual(summary(plan).send, ['a.py', 'b.py']);
  });

  it('a file that became a folder is removed, then sent as a folder', async () => {
    const dir = makeFlow({ 'flow.dag.yaml': '', x: 'file' });
    const held = await manifestOf(dir);
    fs.rmSync(path.join(dir, 'x'));
    fs.mkdirSync(path.join(dir, 'x'));
    fs.writeFileSync(path.join(dir, 'x', 'y.py'), 'y');
    const plan = await planSync(listFlowFiles(dir), held, hashFile);
    assert.deepStrictEqual(summary(plan), { send: ['x', 'x/y.py'], remove: ['x'], restamp: [] });
  });

  it('a dropped include is removed', async () => {
    const shared = makeFlow({ 'common.py': 'c' });
    const dir = makeFlow({ 'flow.dag.yaml': '' });
    const held = await manifestOf(dir);
    // the include lies in another folder: allowed as a root the user lists
    const withInclude = listFlowFiles(dir, [path.join(shared, 'common.py')], includeScopeFor(dir, { extraRoots: [shared] }));
    held['common.py'] = { size: 1, mtimeMs: withInclude.find((f) => f.name === 'common.py')!.mtimeMs, hash: 'h' };
    const plan = await planSync(listFlowFiles(dir, []), held, hashFile);
    assert.deepStrictEqual(plan.remove, ['common.py']);
  });

  it('the next manifest drops removed trees and takes recorded entries, as the runtime does', () => {
    const e = { size: 1, mtimeMs: 1, hash: 'h' };
    const next = nextEntries({ a: { dir: true }, 'a/b.py': e, 'ab.py': e, 'c.py': e }, ['a'], { 'd.py': e });
    assert.deepStrictEqual(Object.keys(next).sort(), ['ab.py', 'c.py', 'd.py']);
  });
});
