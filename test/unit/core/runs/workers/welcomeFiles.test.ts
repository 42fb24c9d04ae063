import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { FlowSessionError } from '../../../../../src/core/errors';
import { welcomeFiles } from '../../../../../src/core/runs/workers/welcomeFiles';

describe('welcomeFiles: the flow folder as batch workers get it', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'fs-welcome-')));
    fs.writeFileSync(path.join(dir, 'flow.dag.yaml'), 'inputs:\n  x:\n    type: int\noutputs: {}\nnodes: []\n');
    fs.mkdirSync(path.join(dir, 'lib'));
    fs.writeFileSync(path.join(dir, 'lib', 'tool.py'), 'X = 1\n');
    fs.mkdirSync(path.join(dir, '.promptflow', 'runs', 'old'), { recursive: true });
    fs.writeFileSync(path.join(dir, '.promptflow', 'runs', 'old', 'output.jsonl'), '{}\n');
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("sends the flow's files base64, without the batch's data file in the folder and without run results", () => {
    const data = path.join(dir, 'data.jsonl');
    fs.writeFileSync(data, '{"x": 1}\n');
    fs.writeFileSync(path.join(dir, 'other.jsonl'), '{"x": 2}\n');
    const files = welcomeFiles(dir, data);
    assert.deepStrictEqual(files.map((f) => f.path).sort(), ['flow.dag.yaml', 'lib/tool.py', 'other.jsonl']);
    assert.strictEqual(Buffer.from(files.find((f) => f.path === 'lib/tool.py')!.content, 'base64').toString(), 'X = 1\n');
  });

  it('refuses a folder larger than a worker reads, naming its largest files, before any worker starts', () => {
    const data = path.join(os.tmpdir(), `fs-welcome-data-${process.pid}.jsonl`);
    fs.writeFileSync(data, '{"x": 1}\n');
    fs.writeFileSync(path.join(dir, 'model.bin'), Buffer.alloc(300 * 1024));
    try {
      assert.strictEqual(welcomeFiles(dir, data, 2 * 1024 * 1024).length, 3);
      assert.throws(
        () => welcomeFiles(dir, data, 1024 * 1024 + 200 * 1024),
        (e: unknown) =>
          e instanceof FlowSessionError &&
          /too large to send to batch workers/.test(e.message) &&
          /Largest files: model\.bin \(0\.3 MB\)/.test(e.message) &&
          /Move large files/.test(e.remedy),
      );
    } finally {
      fs.rmSync(data, { force: true });
    }
  });
});
