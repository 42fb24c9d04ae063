import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { json, runCli } from '../support/cli';
import { testServices } from '../support/world/manager';
import type { RunService } from '../../src/core/runs/runService';
import type { FlowValidator } from '../../src/core/validation/flowValidator';
import type { SessionManager } from '../../src/core/session/sessionManager';

interface Expected {
  code: string;
  file: string;
  line: number;
  column: number;
  severity: string;
}

const CORPUS = path.resolve(__dirname, '..', 'fixtures', 'flows');
const flowsIn = (kind: string) =>
  fs
    .readdirSync(path.join(CORPUS, kind))
    .filter((n) => fs.existsSync(path.join(CORPUS, kind, n, 'flow.dag.yaml')))
    .map((n) => path.join(CORPUS, kind, n));

describe('validation of the fixture corpus in a real session', function () {
  let manager: SessionManager;
  let validator: FlowValidator;
  let runs: RunService;
  const used: string[] = [];

  before(() => {
    ({ manager, validator, runs } = testServices());
  });

  after(async () => {
    for (const f of used) {
      await manager.remove(f).catch(() => undefined);
      fs.rmSync(path.join(f, '.promptflow'), { recursive: true, force: true });
    }
    manager.dispose();
  });

  for (const flow of flowsIn('valid')) {
    it(`accepts valid/${path.basename(flow)}`, async () => {
      used.push(flow);
      const report = await validator.validate(flow, { session: 'start' });
      assert.strictEqual(report.sessionChecked, true);
      assert.deepStrictEqual(
        report.problems.filter((p) => p.severity === 'error'),
        [],
      );
      const tools = JSON.parse(fs.readFileSync(path.join(flow, '.promptflow', 'flow.tools.json'), 'utf8'));
      assert.ok(tools.code && Object.keys(tools.code).length > 0, 'flow.tools.json lists the code tools');
    });
  }

  for (const flow of flowsIn('valid')) {
    // llm nodes need an endpoint: the llm tool has its own tests against a loopback stub
    if (/type:\s*llm/.test(fs.readFileSync(path.join(flow, 'flow.dag.yaml'), 'utf8'))) continue;
    it(`runs valid/${path.basename(flow)} to completion with its default inputs`, async () => {
      used.push(flow);
      const record = await runs.run(flow);
      assert.strictEqual(record.status, 'Completed', JSON.stringify(record.error));
      assert.ok(record.outputs && Object.keys(record.outputs).length > 0, 'the flow outputs are there');
    });
  }

  for (const flow of flowsIn('invalid')) {
    const expected = JSON.parse(fs.readFileSync(path.join(flow, 'expected.json'), 'utf8')) as { static: Expected[]; runtime?: Expected[] };
    if (!expected.runtime?.length) continue;
    it(`reports the session's errors of invalid/${path.basename(flow)} exactly`, async () => {
      used.push(flow);
      const report = await validator.validate(flow, { session: 'start' });
      assert.strictEqual(report.sessionChecked, true);
      const got = report.problems.map(({ code, file, line, column, severity }) => ({ code, file, line, column, severity }));
      const want = [...expected.static, ...expected.runtime!].map(({ code, file, line, column, severity }) => ({
        code,
        file,
        line,
        column,
        severity,
      }));
      assert.deepStrictEqual(got, want);
    });
  }

  it("prints prompt flow's validate shape from the CLI, with exit 1 on errors", async () => {
    const flow = path.join(CORPUS, 'invalid', 'python_import_error');
    used.push(flow);
    const r = await runCli(['validate', flow, '--json']);
    assert.strictEqual(r.code, 1, r.stderr);
    const doc = json<{ result: string; errors: Record<string, unknown>[] }>(r);
    assert.strictEqual(doc.result, 'Failed');
    assert.deepStrictEqual(Object.keys(doc.errors[0]).sort(), [
      'code',
      'column',
      'endColumn',
      'endLine',
      'file',
      'line',
      'message',
      'severity',
    ]);
    assert.strictEqual(doc.errors[0].code, 'PythonLoadError');
    const ok = await runCli(['validate', path.join(CORPUS, 'valid', 'python_basic'), '--json']);
    used.push(path.join(CORPUS, 'valid', 'python_basic'));
    assert.strictEqual(ok.code, 0, ok.stderr);
    assert.deepStrictEqual(json(ok), { result: 'Succeeded', errors: [] });
  });

  it('validates statically without an engine', async () => {
    const r = await runCli(['validate', path.join(CORPUS, 'invalid', 'duplicate_node_name'), '--static', '--json'], {
      DOCKER_HOST: 'unix:///nonexistent.sock',
    });
    assert.strictEqual(r.code, 1, r.stderr);
    assert.strictEqual(json<{ errors: { code: string }[] }>(r).errors[0].code, 'DuplicateNodeName');
  });
});
