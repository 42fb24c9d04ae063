import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import {
  DOCKERFILE_TEMPLATE,
  defaultCustomTag,
  publishTarget,
  recordCustomImage,
  scaffoldCustomImage,
} from '../../../../src/core/image/customImage';

describe('custom base images', () => {
  let dir: string;
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fs-custom-'))));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('scaffolds image_build with a Dockerfile FROM the RUNTIME_IMAGE build argument', () => {
    const { folder, written } = scaffoldCustomImage(dir);
    assert.strictEqual(folder, path.join(dir, 'image_build'));
    assert.deepStrictEqual(
      written.map((f) => path.basename(f)),
      ['Dockerfile', 'requirements.txt'],
    );
    const dockerfile = fs.readFileSync(path.join(folder, 'Dockerfile'), 'utf8');
    assert.match(dockerfile, /^ARG RUNTIME_IMAGE$/m);
    assert.match(dockerfile, /^FROM \$\{RUNTIME_IMAGE\}$/m);
    assert.strictEqual(dockerfile, DOCKERFILE_TEMPLATE);
  });

  it('never overwrites an existing Dockerfile', () => {
    fs.mkdirSync(path.join(dir, 'image_build'));
    fs.writeFileSync(path.join(dir, 'image_build', 'Dockerfile'), 'FROM mine\n');
    const { written } = scaffoldCustomImage(dir);
    assert.deepStrictEqual(
      written.map((f) => path.basename(f)),
      ['requirements.txt'],
    );
    assert.strictEqual(fs.readFileSync(path.join(dir, 'image_build', 'Dockerfile'), 'utf8'), 'FROM mine\n');
  });

  it('names images after the folder holding image_build', () => {
    assert.strictEqual(defaultCustomTag('/home/me/My Flow/image_build'), 'flowsession-custom/my-flow:latest');
    assert.strictEqual(defaultCustomTag('/x/__/image_build'), 'flowsession-custom/image:latest');
  });

  it('publishes to the registry when one is set, else keeps the local repository', () => {
    assert.strictEqual(
      publishTarget('flowsession-custom/my-flow:latest', 'myreg.azurecr.io/flows/', '20250101'),
      'myreg.azurecr.io/flows/my-flow:20250101',
    );
    assert.strictEqual(publishTarget('flowsession-custom/my-flow:latest', '', '1.0'), 'flowsession-custom/my-flow:1.0');
    assert.strictEqual(publishTarget('localhost:5000/x:dev', 'reg.io', '2'), 'reg.io/x:2');
  });

  it('records published images newest first without duplicates', () => {
    const a = { ref: 'r/a:1', pushed: true, publishedAt: '1' };
    const b = { ref: 'r/b:1', pushed: false, publishedAt: '2' };
    const list = recordCustomImage(recordCustomImage([], a), b);
    assert.deepStrictEqual(
      list.map((r) => r.ref),
      ['r/b:1', 'r/a:1'],
    );
    assert.deepStrictEqual(
      recordCustomImage(list, { ...a, publishedAt: '3' }).map((r) => r.ref),
      ['r/a:1', 'r/b:1'],
    );
  });
});
