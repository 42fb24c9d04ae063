import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { json, runCli } from '../support/cli';
import { EVAL_FLOW, MAIN_FLOW } from '../support/flows/evaluationFlows';
import { FlowJar } from '../support/flows/flowJar';
import { testServices } from '../support/world/manager';
import type { SessionManager } from '../../src/core/session/sessionManager';

describe('variants, single nodes and evaluation runs from the CLI', function () {
  let manager: SessionManager;
  const jar = new FlowJar();

  before(() => {
    ({ manager } = testServices());
  });

  after(async () => {
    await jar.dispose([manager]);
    manager.dispose();
  });

  it('evaluates a batch with --run: ${run.outputs.x} and ${run.inputs.x} by line number, log_metric into metrics.json', async () => {
    const main = jar.make(MAIN_FLOW);
    const data = path.join(main, 'data.jsonl');
    const rows = [
      { text: 'cat meows', answer: 'CAT' },
      { text: 'dog barks', answer: 'cow' },
      { text: 'boom', answer: 'x' },
      { text: 'eel swims', answer: 'EEL' },
    ];
    fs.writeFileSync(data, rows.map((r) => JSON.stringify(r)).join('\n') + '\n');

    const base = await runCli(['batch', main, '--data', data, '--variant', '${classify.variant_1}', '--json']);
    assert.strictEqual(base.code, 0, base.stderr);
    const baseDoc = json<{ runId: string; failed: number; variants: Record<string, string>; output: string }>(base);
    assert.strictEqual(baseDoc.failed, 1);
    assert.deepStrictEqual(baseDoc.variants, { classify: 'variant_1' }, 'the results say which variant made the outputs');
    const baseDir = path.dirname(baseDoc.output);
    const summary = JSON.parse(fs.readFileSync(path.join(baseDir, 'summary.json'), 'utf8')) as { variants: unknown };
    assert.deepStrictEqual(summary.variants, { classify: 'variant_1' });
    assert.ok(fs.existsSync(path.join(baseDir, 'inputs.jsonl')), 'a batch keeps its inputs for evaluations of it');

    const evalFlow = jar.make(EVAL_FLOW);
    const evaluation = await runCli([
      'batch',
      evalFlow,
      '--data',
      data,
      '--run',
      baseDoc.runId,
      '--column-mapping',
      'answer=${data.answer}',
      '--column-mapping',
      'prediction=${run.outputs.category}',
      '--column-mapping',
      'text=${run.inputs.text}',
    ]);
    assert.strictEqual(evaluation.code, 0, evaluation.stderr);
    assert.match(evaluation.stdout, /All 3 runs completed/, 'the line the base run failed is not evaluated');
    assert.match(evaluation.stdout, /metrics:\naccuracy: 0\.67/, 'batch prints the metrics');
    const output = /output: (.+)/.exec(evaluation.stdout)![1].trim();
    const grades = fs
      .readFileSync(output, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { line_number: number; grade: string });
    assert.deepStrictEqual(grades, [
      { line_number: 0, grade: 'Correct cat meows' },
      { line_number: 1, grade: 'Incorrect dog barks' },
      { line_number: 3, grade: 'Correct eel swims' },
    ]);
    const runDir = path.dirname(output);
    assert.deepStrictEqual(JSON.parse(fs.readFileSync(path.join(runDir, 'metrics.json'), 'utf8')), { accuracy: 0.67 });

    const shown = await runCli(['run', 'show-metrics', runDir, '--json']);
    assert.strictEqual(shown.code, 0, shown.stderr);
    assert.deepStrictEqual(json(shown), { accuracy: 0.67 });
  });

  it('runs the variant asked for, and refuses one the node does not have', async () => {
    const main = jar.make(MAIN_FLOW);
    const chosen = await runCli(['run', main, '--inputs', 'text=Hello there', '--variant', '${classify.variant_1}', '--json']);
    assert.strictEqual(chosen.code, 0, chosen.stderr);
    assert.deepStrictEqual(json<{ outputs: unknown }>(chosen).outputs, { category: 'HELLO' });
    const byDefault = await runCli(['run', main, '--inputs', 'text=Hello there', '--json']);
    assert.deepStrictEqual(json<{ outputs: unknown }>(byDefault).outputs, { category: 'hello' });
    const unknown = await runCli(['run', main, '--inputs', 'text=Hello', '--variant', '${classify.variant_7}', '--json']);
    assert.strictEqual(unknown.code, 1);
    assert.strictEqual(json<{ error: { code: string } }>(unknown).error.code, 'InvalidVariant');
  });

  it("runs one node with --node: inputs given by name or reference, else the last run's upstream outputs", async () => {
    const dir = jar.make({
      'flow.dag.yaml': `inputs:
  url:
    type: string
  words:
    type: int
    default: 2
outputs:
  summary:
    type: string
    reference: \${summarize.output}
nodes:
- name: fetch
  type: python
  source: {type: code, path: fetch.py}
  inputs:
    url: \${inputs.url}
- name: summarize
  type: python
  source: {type: code, path: summarize.py}
  inputs:
    text: \${fetch.output.text}
    words: \${inputs.words}
`,
      'fetch.py': `from promptflow import tool


@tool
def fetch(url: str) -> dict:
    return {"text": "page of " + url + " with many words"}
`,
      'summarize.py': `from promptflow import tool


@tool
def summarize(text: str, words: int) -> str:
    return " ".join(text.split()[:words])
`,
    });
    const given = await runCli([
      'run',
      dir,
      '--node',
      'summarize',
      '--inputs',
      'fetch.output.text=alpha beta gamma',
      '--inputs',
      'words=3',
    ]);
    assert.strictEqual(given.code, 0, given.stderr);
    assert.strictEqual(JSON.parse(given.stdout), 'alpha beta gamma');
    assert.ok(fs.existsSync(path.join(dir, '.promptflow', 'summarize.node.detail.json')));

    const missing = await runCli(['run', dir, '--node', 'summarize', '--json']);
    assert.strictEqual(missing.code, 1);
    assert.strictEqual(json<{ error: { code: string } }>(missing).error.code, 'InputNotFound');

    const full = await runCli(['run', dir, '--inputs', 'url=x.org']);
    assert.strictEqual(full.code, 0, full.stderr);
    const fromLast = await runCli(['run', dir, '--node', 'summarize', '--inputs', 'words=4', '--json']);
    assert.strictEqual(fromLast.code, 0, fromLast.stderr);
    assert.deepStrictEqual(json(fromLast), {
      runId: json<{ runId: string }>(fromLast).runId,
      status: 'Completed',
      node: 'summarize',
      output: 'page of x.org with',
      // a traced run: a python node calls no LLM
      tokens: { input: 0, output: 0, total: 0 },
    });
  });
});
