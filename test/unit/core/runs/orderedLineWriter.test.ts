import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { OrderedLineWriter } from '../../../../src/core/runs/orderedLineWriter';

describe('ordered batch lines', () => {
  it('writes batch lines in input order whatever order they finish in, and atomically', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fs-lines-'));
    const file = path.join(dir, 'output.jsonl');
    const w = new OrderedLineWriter(file);
    for (const i of [2, 0, 3, 1, 5, 4]) w.add(i, `{"i":${i}}`);
    assert.ok(!fs.existsSync(file), 'nothing under the final name before the end');
    await w.finish();
    assert.deepStrictEqual(
      fs
        .readFileSync(file, 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l).i),
      [0, 1, 2, 3, 4, 5],
    );
    assert.ok(w.maxHeld <= 3);
    const aborted = new OrderedLineWriter(path.join(dir, 'other.jsonl'));
    aborted.add(0, '{}');
    await aborted.abort();
    assert.deepStrictEqual(fs.readdirSync(dir), ['output.jsonl']);
  });
});
