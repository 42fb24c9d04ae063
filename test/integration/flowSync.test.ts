import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { runCli, type CliResult } from '../support/cli';
import { HELLO_FLOW, toolFlow } from '../support/flows/fixtures';
import { FlowJar } from '../support/flows/flowJar';
import { peakRssEnv, peakRssMb } from '../support/peakRss';
import { testServices } from '../support/world/manager';
import { testEngine } from '../support/world/world';
import { median } from '../bench/report';
import { waitUntil } from '../support/waiting';
import type { CoreServices } from '../../src/core/services';

const MANIFEST = '/home/flowsession/.flowsession/flow-manifest.json';
const GIB = 1024 * 1024 * 1024;
/** what a copy of any size may add to the resident memory of the same command on a small folder */
const COPY_RSS_BUDGET_MB = 32;
/** the CLI's resident memory for any folder or data size (issue 15) */
const CLI_RSS_LIMIT_MB = 100;

/** A CLI call on big files kept its peak memory under the limit, and within the budget over the same on small ones. */
function assertBoundedMemory(r: CliResult, smallMb: number, what: string): void {
  const peak = peakRssMb(r.stderr);
  const message = `${what} kept ${peak.toFixed(0)} MB resident, ${smallMb.toFixed(0)} MB on small files`;
  assert.ok(peak < CLI_RSS_LIMIT_MB, message);
  assert.ok(peak - smallMb < COPY_RSS_BUDGET_MB, message);
}

const HELPER_TOOL = toolFlow(
  'import os\nimport helper\nhere = os.path.dirname(os.path.abspath(__file__))\nwith open(os.path.join(here, "greeting.jinja2")) as f:\n    return helper.shout(f.read())',
);
const INCLUDE = 'additional_includes:\n- shared/common.py\n';
const HELPER_FLOW = {
  ...HELPER_TOOL,
  // imported at module level: validation imports the tool's module, and so meets a missing helper
  'work.py': `import helper  # noqa: F401\n${HELPER_TOOL['work.py']}`,
  'flow.dag.yaml': HELPER_TOOL['flow.dag.yaml'] + INCLUDE,
  'helper.py': 'def shout(s):\n    return s.upper()\n',
  'greeting.jinja2': 'hello',
  'shared/common.py': 'X = 1\n',
};

describe('the session holds exactly the flow files, and a sync costs what changed', function () {
  const jar = new FlowJar({ prefix: 'flowsession-sync-' });
  let services: CoreServices;

  before(() => {
    services = testServices();
  });
  after(async () => {
    await jar.dispose([services.manager]);
  });

  async function sessionHas(flow: string, rel: string): Promise<boolean> {
    const status = await services.manager.status(flow);
    const r = await testEngine().exec(status.container!, ['test', '-e', `/flow/${rel}`]);
    return r.exitCode === 0;
  }

  async function manifestOf(flow: string): Promise<{ generation: number; entries: Record<string, unknown> }> {
    const status = await services.manager.status(flow);
    const r = await testEngine().exec(status.container!, ['cat', MANIFEST]);
    assert.strictEqual(r.exitCode, 0, r.stderr);
    return JSON.parse(r.stdout) as { generation: number; entries: Record<string, unknown> };
  }

  describe('deletions, renames and dropped includes reach the session', () => {
    const flow = jar.make(HELPER_FLOW);

    it('starts with the flow files, its include laid out by base name', async () => {
      const report = await services.validator.validate(flow, { session: 'start' });
      assert.ok(report.sessionChecked);
      assert.deepStrictEqual(
        report.problems.filter((p) => p.severity === 'error'),
        [],
      );
      assert.ok(await sessionHas(flow, 'common.py'), 'the include is in the session');
      const record = await services.runs.run(flow);
      assert.strictEqual(record.status, 'Completed', JSON.stringify(record.error));
      assert.deepStrictEqual(record.outputs, { out: 'HELLO' });
      assert.ok(Object.keys((await manifestOf(flow)).entries).includes('helper.py'), 'the manifest lists what the session holds');
    });

    it('a deleted helper module is gone from the session: the save of its importer shows the import error', async () => {
      fs.rmSync(path.join(flow, 'helper.py'));
      try {
        const report = await services.validator.validate(flow, { session: 'start', changedFiles: ['work.py'] });
        assert.ok(report.sessionChecked);
        const load = report.problems.find((p) => p.code === 'PythonLoadError');
        assert.ok(load, `an import error: ${JSON.stringify(report.problems)}`);
        assert.match(load.message, /helper/);
        assert.ok(!(await sessionHas(flow, 'helper.py')));
      } finally {
        fs.writeFileSync(path.join(flow, 'helper.py'), HELPER_FLOW['helper.py']);
      }
    });

    it('a renamed template is found under its new name only: the node that opens the old name fails', async () => {
      fs.renameSync(path.join(flow, 'greeting.jinja2'), path.join(flow, 'welcome.jinja2'));
      const record = await services.runs.run(flow);
      assert.strictEqual(record.status, 'Failed');
      assert.match(JSON.stringify(record.error), /greeting\.jinja2/);
      assert.ok(await sessionHas(flow, 'welcome.jinja2'));
      assert.ok(!(await sessionHas(flow, 'greeting.jinja2')));
      fs.renameSync(path.join(flow, 'welcome.jinja2'), path.join(flow, 'greeting.jinja2'));
    });

    it('a dropped include is gone from the session', async () => {
      const yaml = HELPER_TOOL['flow.dag.yaml'];
      fs.writeFileSync(path.join(flow, 'flow.dag.yaml'), yaml);
      const report = await services.validator.validate(flow, { session: 'start', changedFiles: ['flow.dag.yaml'] });
      assert.ok(report.sessionChecked);
      assert.ok(!(await sessionHas(flow, 'common.py')), 'the include left the session');
      assert.ok(await sessionHas(flow, 'shared/common.py'), 'the file itself stays where the flow folder has it');
      assert.ok(!Object.keys((await manifestOf(flow)).entries).includes('common.py'));
    });

    it('a file the flow writes into its folder while it runs is gone once the run is over', async () => {
      const writer = jar.make(
        toolFlow('with open("scratch.txt", "w") as f:\n    f.write("made")\nwith open("scratch.txt") as f:\n    return f.read()'),
      );
      const record = await services.runs.run(writer);
      assert.strictEqual(record.status, 'Completed', JSON.stringify(record.error));
      assert.deepStrictEqual(record.outputs, { out: 'made' }, 'the run itself reads what it wrote');
      await waitUntil('the written file to leave the session', 30_000, async () => !(await sessionHas(writer, 'scratch.txt')));
      assert.ok(await sessionHas(writer, 'work.py'), 'the flow files stay');
      assert.ok(!fs.existsSync(path.join(writer, 'scratch.txt')), 'nothing reached the local folder');
    });
  });

  describe('a new CLI process sends only the difference', () => {
    const flow = jar.make({ ...HELLO_FLOW, 'data/small.jsonl': '{"name": "a"}\n' });
    const big = path.join(flow, 'data', 'big.bin');
    const debug = { FLOWSESSION_DEBUG: '1', ...peakRssEnv() };
    const validate = async () => {
      const r = await runCli(['validate', flow], debug);
      assert.strictEqual(r.code, 0, r.stderr);
      return r;
    };
    after(() => fs.rmSync(big, { force: true }));

    it('copies a change, and only it, from a second process', async () => {
      await validate();
      fs.appendFileSync(path.join(flow, 'hello.py'), '\n# changed\n');
      const r = await validate();
      assert.match(r.stderr, /the difference: sent 1 files \(\d+ bytes\), removed 0/, r.stderr);
    });

    it('a 1 GB file is copied once with bounded memory, then costs nothing when unchanged', async () => {
      const small: number[] = [];
      const smallRss: number[] = [];
      for (let i = 0; i < 3; i++) {
        const r = await validate();
        small.push(r.ms);
        smallRss.push(peakRssMb(r.stderr));
      }
      // a copy of any size adds little to the same command on a small folder (measured in the same run), and both
      // stay under the limit
      const baseRss = Math.max(...smallRss);
      assert.ok(baseRss < CLI_RSS_LIMIT_MB, `a validate of a small folder kept ${baseRss.toFixed(0)} MB resident`);

      fs.writeFileSync(big, '');
      fs.truncateSync(big, GIB); // sparse: fast to make, read as 1 GB of zeros
      const first = await validate();
      assert.match(first.stderr, /sent 1 files \(1073741824 bytes\)/, first.stderr);
      assert.match(first.stderr, /Copying the flow files into the session: .* of 1024 MB/);
      assertBoundedMemory(first, baseRss, 'the first copy of 1 GB');

      const unchanged: number[] = [];
      for (let i = 0; i < 3; i++) {
        const r = await validate();
        assert.match(r.stderr, /nothing sent/, r.stderr);
        assertBoundedMemory(r, baseRss, 'a no-change validate of a folder with 1 GB');
        unchanged.push(r.ms);
      }
      // the bench holds the 1.2 goal; a shared test machine gets some slack
      assert.ok(median(unchanged) < median(small) * 1.5 + 200, `with 1 GB: ${unchanged.join(', ')} ms; without: ${small.join(', ')} ms`);

      fs.rmSync(big);
      await validate();
      assert.ok(!(await sessionHas(flow, 'data/big.bin')), 'the deleted data file left the session');
    });
  });

  it('a batch data file outside the flow folder is streamed into the session, not read into memory', async () => {
    const flow = jar.make(HELLO_FLOW);
    const data = path.join(jar.make({}), 'lines.jsonl');
    // 30 lines of 10 MB each: a field the flow does not read
    const pad = 'x'.repeat(10 * 1024 * 1024);
    fs.writeFileSync(data, '');
    for (let i = 0; i < 30; i++) fs.appendFileSync(data, `{"name": "n${i}", "pad": "${pad}"}\n`);
    const small = path.join(jar.make({}), 'small.jsonl');
    fs.writeFileSync(small, '{"name": "a"}\n');
    const smallRun = await runCli(['batch', flow, '--data', small, '--column-mapping', 'name=${data.name}', '--json'], peakRssEnv());
    assert.strictEqual(smallRun.code, 0, smallRun.stderr);
    const r = await runCli(['batch', flow, '--data', data, '--column-mapping', 'name=${data.name}', '--json'], peakRssEnv());
    assert.strictEqual(r.code, 0, r.stderr);
    const doc = JSON.parse(r.stdout) as { total: number; failed: number; output: string };
    assert.deepStrictEqual([doc.total, doc.failed], [30, 0], fs.readFileSync(doc.output, 'utf8').slice(0, 2000));
    const outputs = fs
      .readFileSync(doc.output, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.strictEqual(outputs.length, 30);
    assertBoundedMemory(r, peakRssMb(smallRun.stderr), 'the batch of a 300 MB data file');
  });
});
