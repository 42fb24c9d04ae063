/**
 * Issue 11's leftovers against the real engine: a batch of several variants (one run per variant, each saying which
 * variant made its lines), an evaluation batch (`--run`) spread with `--engines`, a custom_llm node whose connection
 * is given at node level, and a retired tool id that a package maps to its successor (`deprecated_tools`).
 */
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import type { SessionManager } from '../../src/core/session/sessionManager';
import { json, runCli } from '../support/cli';
import { EVAL_FLOW, MAIN_FLOW } from '../support/flows/evaluationFlows';
import { FlowJar } from '../support/flows/flowJar';
import { startOpenAiStub, stubConnectionsYaml, type OpenAiStub } from '../support/openaiStub';
import { testServices } from '../support/world/manager';
import { world } from '../support/world/world';

const SECRET = 'sk-test-variants-77aa10';

const WORDS = ['ant', 'bee', 'cat', 'boom', 'dog', 'eel', 'fox', 'gnu', 'boom', 'hen', 'ibis', 'jay'];

interface BatchDoc {
  runId: string;
  variant?: string;
  total: number;
  failed: number;
  output: string;
  variants: Record<string, string>;
  metrics: Record<string, number>;
}

describe('variant batches, evaluations across engines, node-level connections and retired tool ids', function () {
  this.timeout(300_000);
  let manager: SessionManager;
  let stub: OpenAiStub;
  let connectionsFile: string;
  const jar = new FlowJar({ prefix: 'flowsession-variants-' });

  before(async () => {
    ({ manager } = testServices());
    stub = await startOpenAiStub(SECRET);
    connectionsFile = path.join(jar.make({}), 'connections.yaml');
    fs.writeFileSync(connectionsFile, stubConnectionsYaml(stub.url));
  });

  after(async () => {
    await jar.dispose([manager]);
    manager.dispose();
    await stub.close();
  });

  function dataFile(dir: string): string {
    const file = path.join(dir, 'data.jsonl');
    // the answers match the upper-case variant on every line but the last
    const rows = WORDS.map((w, i) => ({ text: `${w} is here`, answer: i === WORDS.length - 1 ? 'nope' : w.toUpperCase() }));
    fs.writeFileSync(file, rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
    return file;
  }

  const lines = (file: string) =>
    fs
      .readFileSync(file, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);

  it('runs a batch once per --variant, each run saying which variant made its lines', async () => {
    const main = jar.make(MAIN_FLOW);
    const data = dataFile(main);
    const r = await runCli([
      'batch',
      main,
      '--data',
      data,
      '--variant',
      '${classify.variant_0}',
      '--variant',
      '${classify.variant_1}',
      '--json',
    ]);
    assert.strictEqual(r.code, 0, r.stderr);
    const runs = json<{ runs: BatchDoc[] }>(r).runs;
    assert.deepStrictEqual(
      runs.map((x) => [x.variant, x.variants, x.total, x.failed]),
      [
        ['${classify.variant_0}', { classify: 'variant_0' }, 12, 2],
        ['${classify.variant_1}', { classify: 'variant_1' }, 12, 2],
      ],
    );
    assert.notStrictEqual(runs[0].runId, runs[1].runId);
    assert.deepStrictEqual(lines(runs[0].output)[0], { line_number: 0, category: 'ant' });
    assert.deepStrictEqual(lines(runs[1].output)[0], { line_number: 0, category: 'ANT' });
    for (const run of runs) {
      const summary = JSON.parse(fs.readFileSync(path.join(path.dirname(run.output), 'summary.json'), 'utf8')) as { variants: unknown };
      assert.deepStrictEqual(summary.variants, run.variants, 'the run folder records its variant');
    }
    assert.match(r.stderr, /variant \$\{classify\.variant_1\}: 2 out of 12 runs failed/);
    const twice = await runCli([
      'run',
      main,
      '--inputs',
      'text=x y',
      '--variant',
      '${classify.variant_0}',
      '--variant',
      '${classify.variant_1}',
    ]);
    assert.strictEqual(twice.code, 2, 'a run takes one variant per node');
    assert.match(twice.stderr, /names node 'classify' twice/);
  });

  it('evaluates a batch with --run across --engines: the lines the base run has, by their line numbers', async () => {
    const main = jar.make(MAIN_FLOW);
    const data = dataFile(main);
    const base = await runCli(['batch', main, '--data', data, '--variant', '${classify.variant_1}', '--json']);
    assert.strictEqual(base.code, 0, base.stderr);
    const baseDoc = json<BatchDoc>(base);
    const evalFlow = jar.make(EVAL_FLOW);
    const mapping = ['answer=${data.answer}', 'prediction=${run.outputs.category}', 'text=${run.inputs.text}'];
    const args = ['batch', evalFlow, '--data', data, '--run', baseDoc.runId, ...mapping.flatMap((m) => ['--column-mapping', m])];
    const spread = await runCli([...args, '--engines', 'default', '--workers', '1', '--json']);
    assert.strictEqual(spread.code, 0, spread.stderr);
    const doc = json<BatchDoc & { engines: { name: string; lines: number }[] }>(spread);
    // the share's lines are numbered from 0 in the session; the results keep the data file's numbers
    assert.strictEqual(doc.total, 10, 'the two lines the base run failed are not evaluated');
    assert.strictEqual(doc.engines[0].lines, 10);
    assert.deepStrictEqual(doc.metrics, { accuracy: 0.9 });
    const graded = lines(doc.output);
    assert.deepStrictEqual(
      graded.map((l) => l.line_number),
      [0, 1, 2, 4, 5, 6, 7, 9, 10, 11],
    );
    assert.deepStrictEqual(graded[3], { line_number: 4, grade: 'Correct dog is here' });
    assert.deepStrictEqual(graded[9], { line_number: 11, grade: 'Incorrect jay is here' });

    // the same evaluation on one engine, without --engines, gives the same lines
    const single = await runCli([...args, '--json']);
    assert.strictEqual(single.code, 0, single.stderr);
    assert.deepStrictEqual(lines(json<BatchDoc>(single).output), graded);
  });

  it("passes a custom_llm node's node-level connection to its tool, and runs a retired tool id as its successor", async () => {
    const dir = jar.make({
      'requirements.txt': `fs-tools==1.0.0\n# run ${world().runId}\n`,
      'flow.dag.yaml': `inputs:
  who: {type: string, default: ada}
outputs:
  seen:
    type: string
    reference: \${look.output}
  greeting:
    type: string
    reference: \${greet.output}
nodes:
- name: look
  type: custom_llm
  source:
    type: package_with_prompt
    tool: promptflow.tools.openai_gpt4v.OpenAI.chat
    path: look.jinja2
  connection: oai
  api: chat
  inputs:
    model: gpt-4o
    max_tokens: 16
    who: \${inputs.who}
- name: greet
  type: python
  source: {type: package, tool: fs_old_tools.greeter.greet}
  inputs:
    name: \${inputs.who}
`,
      'look.jinja2': '# user:\nWho is {{who}}?\n',
    });
    const env = { TEST_LLM_KEY: SECRET };
    const checked = await runCli(['validate', dir, '--json'], env);
    assert.strictEqual(checked.code, 0, checked.stderr + checked.stdout);
    const r = await runCli(['run', dir, '--connections', connectionsFile, '--json'], env);
    assert.strictEqual(r.code, 0, r.stderr);
    assert.deepStrictEqual(json<{ outputs: unknown }>(r).outputs, { seen: 'echo: Who is ada?', greeting: 'Hello, ada' });
    const req = stub.requests[stub.requests.length - 1];
    assert.strictEqual(req.path, '/v1/chat/completions');
    assert.strictEqual(req.headers.authorization, `Bearer ${SECRET}`);
  });
});
