import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { json, runCli } from '../support/cli';
import { FlowJar } from '../support/flows/flowJar';
import { testServices } from '../support/world/manager';
import type { RuntimeEvent } from '../../src/core/runtime/protocol';
import type { RunService } from '../../src/core/runs/runService';
import type { SessionManager } from '../../src/core/session/sessionManager';

const DAG_FLOW = {
  'flow.dag.yaml': `inputs:
  text:
    type: string
  times:
    type: int
    default: 2
  shout:
    type: bool
    default: false
outputs:
  repeated:
    type: string
    reference: \${repeat.output.text}
  length:
    type: int
    reference: \${repeat.output.meta.length}
  loud:
    type: string
    reference: \${loud.output}
nodes:
- name: repeat
  type: python
  source: {type: code, path: repeat.py}
  inputs:
    text: \${inputs.text}
    times: \${inputs.times}
- name: loud
  type: python
  source: {type: code, path: loud.py}
  inputs:
    text: \${repeat.output.text}
  activate:
    when: \${inputs.shout}
    is: true
`,
  'repeat.py': `from promptflow import tool


@tool
def repeat(text: str, times: int) -> dict:
    print("repeating", times, "times")
    out = " ".join([text] * times)
    return {"text": out, "meta": {"length": len(out)}}
`,
  'loud.py': `from promptflow.core import tool


@tool
def loud(text: str) -> str:
    return text.upper()
`,
};

describe('runs and batch runs in a real session', function () {
  let manager: SessionManager;
  let runs: RunService;
  const jar = new FlowJar();
  const flow = (files: Record<string, string>) => jar.make(files);

  before(() => {
    ({ manager, runs } = testServices());
  });

  after(async () => {
    await jar.dispose([manager]);
    manager.dispose();
  });

  it("runs a DAG with nested output references, streams node events and writes prompt flow's files", async () => {
    const dir = flow(DAG_FLOW);
    const events: RuntimeEvent[] = [];
    const record = await runs.run(dir, { inputs: { text: 'ab', times: '3' }, onEvent: (e) => events.push(e) });
    assert.strictEqual(record.status, 'Completed', JSON.stringify(record.error));
    assert.deepStrictEqual(record.outputs, { repeated: 'ab ab ab', length: 8, loud: null });
    const kinds = events.map((e) => `${e.event}:${'node' in e ? e.node : ''}`);
    assert.ok(kinds.includes('nodeStart:repeat') && kinds.includes('nodeEnd:repeat'));
    assert.ok(
      events.some((e) => e.event === 'nodeLog' && e.node === 'repeat' && /repeating 3 times/.test(e.text)),
      'stdout is captured per node',
    );
    const loudEnd = events.find((e) => e.event === 'nodeEnd' && e.node === 'loud');
    assert.strictEqual(loudEnd && 'status' in loudEnd ? loudEnd.status : undefined, 'Bypassed');
    const outDir = path.join(dir, '.promptflow');
    assert.deepStrictEqual(JSON.parse(fs.readFileSync(path.join(outDir, 'flow.output.json'), 'utf8')), record.outputs);
    const detail = JSON.parse(fs.readFileSync(path.join(outDir, 'flow.detail.json'), 'utf8'));
    assert.deepStrictEqual(detail.node_runs.map((n: { node: string; status: string }) => [n.node, n.status]).sort(), [
      ['loud', 'Bypassed'],
      ['repeat', 'Completed'],
    ]);
    assert.ok(fs.statSync(path.join(outDir, 'flow.log')).size > 0);
    assert.ok(fs.existsSync(path.join(outDir, 'runs', record.runId, 'flow.output.json')), 'a copy for the run history');

    const active = await runs.run(dir, { inputs: { text: 'x', shout: 'true' } });
    assert.deepStrictEqual(active.outputs, { repeated: 'x x', length: 3, loud: 'X X' });
  });

  it('reports input errors as prompt flow does', async () => {
    const dir = flow(DAG_FLOW);
    const missing = await runs.run(dir, { inputs: {} });
    assert.strictEqual(missing.status, 'Failed');
    assert.strictEqual(missing.error?.code, 'InputNotFound');
    const badType = await runs.run(dir, { inputs: { text: 'a', times: 'many' } });
    assert.strictEqual(badType.error?.code, 'InputTypeError');
  });

  it('fails the CLI run with the failing node and its error, exit 1', async () => {
    const dir = flow({
      'flow.dag.yaml':
        'inputs:\n  x:\n    type: int\n    default: 0\noutputs:\n  y:\n    type: int\n    reference: ${div.output}\nnodes:\n- name: div\n  type: python\n  source: {type: code, path: div.py}\n  inputs:\n    x: ${inputs.x}\n',
      'div.py': 'from promptflow import tool\n\n\n@tool\ndef div(x: int) -> float:\n    return 1 / x\n',
    });
    const r = await runCli(['run', dir, '--json']);
    assert.strictEqual(r.code, 1, r.stderr);
    assert.match(r.stderr, /in node 'div': ToolExecutionError Execution failure in 'div': \(ZeroDivisionError\) division by zero/);
    const ok = await runCli(['run', dir, '--inputs', 'x=4']);
    assert.strictEqual(ok.code, 0, ok.stderr);
    assert.deepStrictEqual(JSON.parse(ok.stdout), { y: 0.25 });
  });

  it('cancels a running flow', async () => {
    const dir = flow({
      'flow.dag.yaml':
        'outputs:\n  y:\n    type: string\n    reference: ${sleepy.output}\nnodes:\n- name: sleepy\n  type: python\n  source: {type: code, path: sleepy.py}\n  inputs: {}\n',
      'sleepy.py': 'import time\nfrom promptflow import tool\n\n\n@tool\ndef sleepy() -> str:\n    time.sleep(60)\n    return "late"\n',
    });
    const controller = new AbortController();
    const started = Date.now();
    const pending = runs.run(dir, { signal: controller.signal, onEvent: (e) => e.event === 'nodeStart' && controller.abort() });
    const record = await pending;
    assert.strictEqual(record.status, 'Canceled');
    assert.ok(Date.now() - started < 30_000);
    const again = await manager.runtime(dir);
    assert.ok(again, 'the session stays usable');
  });

  it('runs a batch in parallel, writes output.jsonl in input order, records failing lines and runs aggregation once', async () => {
    const dir = flow({
      'flow.dag.yaml': `inputs:
  n:
    type: int
outputs:
  square:
    type: int
    reference: \${square.output}
nodes:
- name: square
  type: python
  source: {type: code, path: square.py}
  inputs:
    n: \${inputs.n}
- name: total
  type: python
  source: {type: code, path: total.py}
  inputs:
    values: \${square.output}
  aggregation: true
`,
      'square.py':
        'import random, time\nfrom promptflow import tool\n\n\n@tool\ndef square(n: int) -> int:\n    time.sleep(random.random() / 20)\n    if n == 7:\n        raise ValueError("seven is not welcome")\n    return n * n\n',
      'total.py':
        'from promptflow import tool\n\n\n@tool\ndef total(values: list) -> dict:\n    return {"sum": sum(values), "count": len(values)}\n',
    });
    const data = path.join(dir, 'lines.jsonl');
    fs.writeFileSync(data, Array.from({ length: 40 }, (_, i) => JSON.stringify({ number: i })).join('\n') + '\n');
    const r = await runCli(['batch', dir, '--data', data, '--column-mapping', 'n=${data.number}', '--workers', '4', '--json']);
    assert.strictEqual(r.code, 0, r.stderr);
    const doc = json<{ total: number; failed: number; summary: string; output: string; aggregation: Record<string, unknown> }>(r);
    assert.strictEqual(doc.total, 40);
    assert.strictEqual(doc.failed, 1);
    assert.strictEqual(doc.summary, '1 out of 40 runs failed');
    const lines = fs
      .readFileSync(doc.output, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.deepStrictEqual(
      lines.map((l) => l.line_number),
      Array.from({ length: 40 }, (_, i) => i),
      'input order',
    );
    assert.strictEqual(lines[5].square, 25);
    assert.match(lines[7].error.message, /seven is not welcome/);
    const expectedSum = Array.from({ length: 40 }, (_, i) => i * i).reduce((a, b) => a + b, 0) - 49;
    assert.deepStrictEqual(doc.aggregation, { total: { sum: expectedSum, count: 39 } });
  });
});
