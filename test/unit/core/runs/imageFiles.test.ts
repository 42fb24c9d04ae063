import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { inlineDataImages } from '../../../../src/core/runs/dataImages';
import { holdsImages, loadImages, storeImages } from '../../../../src/core/runs/imageFiles';

describe('images in run results and batch data', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fs-images-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('stores each base64 image once, by content, and refers to it from the folder of the file', () => {
    const png = Buffer.from('\x89PNG fake', 'latin1');
    const image = { 'data:image/png;base64': png.toString('base64') };
    const runDir = path.join(dir, 'runs', 'r1');
    const out = storeImages({ a: image, list: [image, 'text'], n: 1 }, runDir, dir) as Record<string, unknown>;
    const ref = out.a as Record<string, string>;
    assert.match(ref['data:image/png;path'], /^runs\/r1\/images\/[0-9a-f]{32}\.png$/);
    assert.deepStrictEqual(out.list, [ref, 'text']);
    assert.strictEqual(out.n, 1);
    assert.deepStrictEqual(fs.readFileSync(path.join(dir, ref['data:image/png;path'])), png);
    assert.deepStrictEqual(fs.readdirSync(path.join(runDir, 'images')).length, 1);
    const fromRun = storeImages(image, runDir, runDir) as Record<string, string>;
    assert.match(fromRun['data:image/png;path'], /^images\/[0-9a-f]{32}\.png$/);
  });

  it('leaves values that are no image as they are, and never names a file after an odd mime type', () => {
    const plain = { x: { 'data:image/png;base64': 'not base64!' }, y: { a: 1, b: 2 } };
    assert.strictEqual(holdsImages(plain), false);
    assert.strictEqual(storeImages(plain, dir, dir), plain);
    const odd = { 'data:image/../../x;base64': 'AAAA' };
    assert.strictEqual(storeImages(odd, dir, dir), odd);
    const unknown = storeImages({ 'data:image/*;base64': 'AAAA' }, dir, dir) as Record<string, string>;
    assert.match(unknown['data:image/*;path'], /^images\/[0-9a-f]{32}$/);
  });

  it("reads a run's stored images back for the next run, and nothing outside the runs' image folders", () => {
    const runs = path.join(dir, 'runs');
    const image = { 'data:image/png;base64': Buffer.from('PNG').toString('base64') };
    const stored = storeImages({ out: image }, path.join(runs, 'r1'), dir);
    assert.deepStrictEqual(loadImages(stored, dir, runs), { out: image });
    fs.writeFileSync(path.join(dir, 'secret.png'), 'SECRET');
    for (const ref of [
      { 'data:image/png;path': 'secret.png' },
      { 'data:image/png;path': '../etc/passwd' },
      { 'data:image/png;path': 'runs/r1/images/none.png' },
    ])
      assert.deepStrictEqual(loadImages({ out: ref }, dir, runs), { out: ref });
  });

  it('carries the images a data file names from its own folder, and nothing from outside it', () => {
    fs.mkdirSync(path.join(dir, 'data', 'shots'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'data', 'shots', 'a.jpg'), 'JPEG');
    fs.writeFileSync(path.join(dir, 'secret.png'), 'SECRET');
    const lines = [
      { img: { 'data:image/jpeg;path': 'shots/a.jpg' } },
      { img: 'shots/a.jpg', other: 'shots/a.txt' },
      { img: { 'data:image/png;path': '../secret.png' } },
      { img: '../secret.png' },
    ];
    const out = inlineDataImages(Buffer.from(lines.map((l) => JSON.stringify(l)).join('\n')), path.join(dir, 'data'))
      .toString()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.deepStrictEqual(out, [
      { img: { 'data:image/jpeg;base64': Buffer.from('JPEG').toString('base64') } },
      { img: `data:image/jpeg;base64,${Buffer.from('JPEG').toString('base64')}`, other: 'shots/a.txt' },
      lines[2],
      lines[3],
    ]);
    const noImages = Buffer.from('{"q": "x"}\n\xff', 'latin1');
    assert.strictEqual(inlineDataImages(noImages, dir), noImages);
  });
});
