import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import * as tar from 'tar-stream';
import { hashBuffer, hashFile } from '../../../../src/core/fs/fileHash';
import { listFlowFiles, streamFlowFiles } from '../../../../src/core/fs/flowArchive';
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

  it('streams the listed files into a tar with their hashes, a file that shrank meanwhile padded to its listed size', async () => {
    const dir = makeFlow({ 'flow.dag.yaml': 'nodes: []', 'sub/a.py': 'abc' });
    const files = listFlowFiles(dir).filter((f) => !f.dir);
    const shrunk = files.find((f) => f.name === 'sub/a.py')!;
    fs.writeFileSync(shrunk.abs, 'a');
    let bytes = 0;
    const { tar, hashes } = streamFlowFiles(files, (n) => (bytes += n));
    const read = readTar(tar);
    const [got, contents] = await Promise.all([hashes, read]);
    assert.strictEqual(bytes, 'nodes: []'.length + 3);
    assert.deepStrictEqual(contents.get('sub/a.py'), Buffer.from('a\0\0'));
    assert.strictEqual(got.get('sub/a.py'), hashBuffer(Buffer.from('a\0\0')));
    assert.strictEqual(got.get('flow.dag.yaml'), await hashFile(path.join(dir, 'flow.dag.yaml')));
  });
});

async function readTar(stream: NodeJS.ReadableStream): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  const extract = tar.extract();
  extract.on('entry', (header, body, next) => {
    const chunks: Buffer[] = [];
    body.on('data', (c: unknown) => chunks.push(c as Buffer));
    body.on('end', () => {
      out.set(header.name, Buffer.concat(chunks));
      next();
    });
  });
  const done = new Promise<void>((resolve, reject) => {
    extract.on('finish', resolve);
    extract.on('error', reject);
  });
  stream.pipe(extract as unknown as NodeJS.WritableStream);
  await done;
  return out;
}
