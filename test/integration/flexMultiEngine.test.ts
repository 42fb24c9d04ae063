import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { resolveEndpoint } from '../../src/core/docker/endpoint';
import { DockerEngine } from '../../src/core/docker/dockerEngine';
import { runMultiEngineBatch, type BatchEngine } from '../../src/core/runs/multiEngineBatch';
import type { SessionManager } from '../../src/core/session/sessionManager';
import { json, runCli } from '../support/cli';
import { askPrompty, outputRows, scorerBatchArgs, scorerFlow } from '../support/flows/flexFixtures';
import { FlowJar } from '../support/flows/flowJar';
import { startLineGate } from '../support/lineGate';
import { startStubWithConnections, type OpenAiStub } from '../support/openaiStub';
import { assertSecretNotInSession } from '../support/secretChecks';
import { testServices } from '../support/world/manager';
import { startSecondEngine, type SecondEngine } from '../support/world/secondEngine';
import { cleanUp, testEngine, world } from '../support/world/world';

const log = (l: string) => process.stderr.write(`[flex engines] ${l}\n`);
const SECRET = 'sk-flexmulti-51c0e8a2d4';

describe('a batch of a flex flow or a prompty over two engines', function () {
  this.timeout(600_000);
  let e2: SecondEngine;
  let stub: OpenAiStub;
  let connectionsFile: string;
  const jar = new FlowJar();
  const managers: SessionManager[] = [];
  const managerOn = (engine: DockerEngine) => {
    const m = testServices({}, { engine }).manager;
    managers.push(m);
    return m;
  };

  before(async () => {
    e2 = await startSecondEngine(world().runDir, testEngine(), log);
    ({ stub, connectionsFile } = await startStubWithConnections(SECRET, jar));
  });

  after(async () => {
    await jar.dispose(managers);
    for (const m of managers) m.dispose();
    await stub?.close();
    if (e2) await cleanUp(e2.engine, world().runId).catch((e) => log(`clean-up of the second engine failed: ${(e as Error).message}`));
    await e2?.stop();
  });

  it('runs a class flex flow from the CLI: --init with a connection, lines on both engines in input order, __aggregate__ once as metrics', async () => {
    const words = ['a', 'abc', 'boom', 'ab', 'abcd', 'x', 'xyz', 'boom2', 'hello', 'hi', 'hey', 'abcdef', 'q', 'qq', 'qqq', 'qqqq'];
    // the first share's lines wait until a line of the second share has started: both engines take lines
    const secondHalf = new Set(words.slice(8).map((w) => `/line/${w}`));
    const gate = await startLineGate((p) => secondHalf.has(p));
    const dir = jar.make(scorerFlow(words, { GATE: gate.url }));
    const r = await runCli([...scorerBatchArgs(dir, connectionsFile), '--engines', `default,${e2.tcpHost}`, '--workers', '2', '--json'], {
      TEST_LLM_KEY: SECRET,
      DOCKER_TLS_VERIFY: '1',
      DOCKER_CERT_PATH: e2.tls.clientDir,
    }).finally(() => gate.close());
    assert.strictEqual(r.code, 0, r.stderr);
    assert.ok(gate.opened, 'a line of the second share started while the first share waited');
    type Doc = {
      total: number;
      failed: number;
      summary: string;
      metrics: Record<string, number>;
      output: string;
      engines: { name: string; lines: number; failedLines: number }[];
      aggregationEngine: string | null;
    };
    const doc = json<Doc>(r);
    assert.strictEqual(doc.total, 16);
    assert.strictEqual(doc.failed, 2);
    assert.strictEqual(doc.summary, '2 out of 16 runs failed');
    assert.ok(
      doc.engines.every((e) => e.lines > 0),
      `both engines ran lines: ${JSON.stringify(doc.engines)}`,
    );
    const scores = words.filter((w) => !w.startsWith('boom')).map((w) => w.length * 10);
    // one __aggregate__ over the completed lines of both engines, not one per engine
    assert.deepStrictEqual(doc.metrics, { total: scores.reduce((a, b) => a + b, 0), lines: 14 });
    assert.ok(doc.aggregationEngine, 'an engine ran __aggregate__');
    const out = outputRows(doc.output);
    assert.deepStrictEqual(
      out.map((l) => l.line_number),
      words.map((_w, i) => i),
    );
    assert.deepStrictEqual(
      out.map((l) => l.score),
      words.map((w) => (w.startsWith('boom') ? undefined : w.length * 10)),
    );
    assert.ok(out.every((l) => l.base_ok !== false));
    assert.match((out[2].error as { message: string }).message, /\(ValueError\) no boom words/);
    const metricsFile = path.join(path.dirname(doc.output), 'metrics.json');
    assert.deepStrictEqual(JSON.parse(fs.readFileSync(metricsFile, 'utf8')), doc.metrics);
  });

  it('runs a prompty over both engines: its ${env:VAR} key passed per request, kept out of both sessions and the results', async () => {
    // the model's requests pass a gate that holds the first share's until a line of the second share asks
    const gate = await startLineGate((_p, body) => /question [5-9]/.test(body), stub.url);
    const dir = jar.make({
      'ask.prompty': askPrompty(gate.url, 'PROMPTY_MULTI_KEY'),
      'data.jsonl': Array.from({ length: 10 }, (_v, i) => JSON.stringify({ q: `question ${i}` })).join('\n') + '\n',
    });
    const local = managerOn(testEngine());
    const remote = managerOn(new DockerEngine(resolveEndpoint({ env: e2.env })));
    const engines: BatchEngine[] = [
      { name: 'local', manager: local },
      { name: 'tcp', manager: remote },
    ];
    const before = stub.requests.length;
    const record = await runMultiEngineBatch(path.join(dir, 'ask.prompty'), engines, {
      dataFile: path.join(dir, 'data.jsonl'),
      columnMapping: { question: '${data.q}' },
      workers: 2,
      minChunkLines: 2,
      env: { PROMPTY_MULTI_KEY: SECRET },
    }).finally(() => gate.close());
    assert.ok(gate.opened, 'a line of the second share started while the first share waited');
    assert.strictEqual(record.status, 'Completed', JSON.stringify(record.error));
    assert.deepStrictEqual([record.total, record.failed], [10, 0]);
    assert.ok(
      record.engines.every((e) => e.lines > 0),
      `both engines ran lines: ${JSON.stringify(record.engines)}`,
    );
    assert.strictEqual(record.aggregation, null);
    assert.strictEqual(record.aggregationEngine, undefined);
    assert.deepStrictEqual(
      outputRows(record.outputFile).map((l) => [l.line_number, l.output]),
      Array.from({ length: 10 }, (_v, i) => [i, `echo: question ${i}`]),
    );
    const sent = stub.requests.slice(before);
    assert.strictEqual(sent.length, 10);
    assert.ok(sent.every((q) => q.headers.authorization === `Bearer ${SECRET}`));
    for (const m of [local, remote]) await assertSecretNotInSession(m, dir, SECRET);
    for (const f of record.files) assert.ok(!fs.readFileSync(f, 'utf8').includes(SECRET), f);
  });

  it('runs a function flex flow whose every line fails: the failed lines recorded, no aggregation', async () => {
    const dir = jar.make({
      'flow.flex.yaml': 'entry: main:run\n',
      'main.py': 'def run(n: int) -> int:\n    raise RuntimeError("line %d refused" % n)\n',
      'data.jsonl': Array.from({ length: 6 }, (_v, i) => JSON.stringify({ n: i })).join('\n') + '\n',
    });
    const engines: BatchEngine[] = [
      { name: 'local', manager: managerOn(testEngine()) },
      { name: 'tcp', manager: managerOn(new DockerEngine(resolveEndpoint({ env: e2.env }))) },
    ];
    const record = await runMultiEngineBatch(path.join(dir, 'flow.flex.yaml'), engines, {
      dataFile: path.join(dir, 'data.jsonl'),
      workers: 1,
      minChunkLines: 1,
    });
    assert.strictEqual(record.status, 'Completed', JSON.stringify(record.error));
    assert.deepStrictEqual([record.total, record.failed, record.summary], [6, 6, '6 out of 6 runs failed']);
    assert.strictEqual(record.aggregation, null);
    assert.strictEqual(record.aggregationEngine, undefined);
    const out = outputRows(record.outputFile);
    assert.deepStrictEqual(
      out.map((l) => [l.line_number, (l.error as { code: string }).code]),
      Array.from({ length: 6 }, (_v, i) => [i, 'ToolExecutionError']),
    );
    assert.match((out[4].error as { message: string }).message, /line 4 refused/);
  });
});
