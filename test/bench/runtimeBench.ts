import * as fs from 'fs';
import * as path from 'path';
import { makeFlow } from '../support/flows/fixtures';
import { testServices } from '../support/world/manager';
import { BENCH_SETTINGS } from './report';
import { Methods } from '../../src/core/runtime/protocol';
import type { SessionManager } from '../../src/core/session/sessionManager';
import { median, percentile, type Metric } from './report';

/** A flow of 5 python and 5 prompt nodes, chained, as the validation figure asks. */
function tenNodeFlow(): Record<string, string> {
  const files: Record<string, string> = {};
  const nodes: string[] = [];
  let previous = '${inputs.text}';
  for (let i = 0; i < 5; i++) {
    files[`step_${i}.py`] =
      `from promptflow import tool\n\n\n@tool\ndef step_${i}(text: str, weight: int = ${i}) -> str:\n    return text + "-${i}"\n`;
    files[`prompt_${i}.jinja2`] = `# system:\nYou are step ${i}.\n\n# user:\n{{text}} and {{extra}}\n`;
    nodes.push(`- name: step_${i}\n  type: python\n  source: {type: code, path: step_${i}.py}\n  inputs:\n    text: ${previous}\n`);
    nodes.push(
      `- name: prompt_${i}\n  type: prompt\n  source: {type: code, path: prompt_${i}.jinja2}\n  inputs:\n    text: \${step_${i}.output}\n    extra: fixed\n`,
    );
    previous = `\${prompt_${i}.output}`;
  }
  files['flow.dag.yaml'] =
    `inputs:\n  text:\n    type: string\n    default: hi\noutputs:\n  out:\n    type: string\n    reference: ${previous}\nnodes:\n${nodes.join('')}`;
  return files;
}

const THREE_NODE_FLOW: Record<string, string> = {
  'flow.dag.yaml':
    'inputs:\n  x:\n    type: int\n    default: 2\noutputs:\n  y:\n    type: int\n    reference: ${c.output}\nnodes:\n- name: a\n  type: python\n  source: {type: code, path: a.py}\n  inputs: {x: "${inputs.x}"}\n- name: b\n  type: python\n  source: {type: code, path: b.py}\n  inputs: {x: "${a.output}"}\n- name: c\n  type: python\n  source: {type: code, path: c.py}\n  inputs: {x: "${b.output}"}\n',
  'a.py': 'from promptflow import tool\n\n\n@tool\ndef a(x: int) -> int:\n    return x + 1\n',
  'b.py': 'from promptflow import tool\n\n\n@tool\ndef b(x: int) -> int:\n    return x * 2\n',
  'c.py': 'from promptflow import tool\n\n\n@tool\ndef c(x: int) -> int:\n    return x - 3\n',
};

const WAIT_TOOL = 'import time\nfrom promptflow import tool\n\n\n@tool\ndef wait(n: int) -> int:\n    time.sleep(0.02)\n    return n\n';
const WAIT_FLOW: Record<string, string> = {
  'flow.dag.yaml':
    'inputs:\n  n:\n    type: int\noutputs:\n  n:\n    type: int\n    reference: ${wait.output}\nnodes:\n- name: wait\n  type: python\n  source: {type: code, path: wait_tool.py}\n  inputs: {n: "${inputs.n}"}\n',
  'wait_tool.py': WAIT_TOOL,
};

async function execPassTimes(manager: SessionManager, container: string, n: number): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await manager.engine.exec(container, ['python3', '-c', 'pass']);
    times.push(performance.now() - t);
  }
  return times;
}

export async function benchRuntime(): Promise<Metric[]> {
  const { manager, validator, runs } = testServices(BENCH_SETTINGS);
  const flows: string[] = [];
  const flow = (files: Record<string, string>) => {
    const d = makeFlow(files);
    flows.push(d);
    return d;
  };
  try {
    const metrics: Metric[] = [];
    const iterations = 60;

    // validation of one saved file in a warm session
    const vflow = flow(tenNodeFlow());
    const status = await manager.up(vflow);
    await validator.validate(vflow, { session: 'if-running' });
    const baseline = await execPassTimes(manager, status.container!, iterations);
    const saves: number[] = [];
    for (let i = 0; i < iterations; i++) {
      const file = i % 2 ? `step_${i % 5}.py` : `prompt_${i % 5}.jinja2`;
      fs.appendFileSync(path.join(vflow, file), i % 2 ? `# edit ${i}\n` : `{# edit ${i} #}\n`);
      const t = performance.now();
      const report = await validator.validate(vflow, { session: 'if-running', changedFiles: [file] });
      saves.push(performance.now() - t);
      if (!report.sessionChecked || report.problems.some((p) => p.severity === 'error'))
        throw new Error(`validation went wrong: ${JSON.stringify(report.problems)}`);
    }
    const base50 = median(baseline);
    metrics.push({
      name: 'validate_on_save_p50',
      value_ms: median(saves),
      baseline_ms: base50,
      ratio: median(saves) / base50,
      goal: '<= 0.5',
      note: `${iterations} saves, 10-node flow; baseline exec python3 -c pass`,
    });
    metrics.push({
      name: 'validate_on_save_p95',
      value_ms: percentile(saves, 95),
      baseline_ms: percentile(baseline, 95),
      ratio: percentile(saves, 95) / percentile(baseline, 95),
      goal: '<= 1.0',
      note: 'p95 against p95',
    });

    // a 3-node python flow run
    const rflow = flow(THREE_NODE_FLOW);
    const rstatus = await manager.up(rflow);
    await runs.run(rflow);
    const runBaseline = await execPassTimes(manager, rstatus.container!, 20);
    const runTimes: number[] = [];
    for (let i = 0; i < 20; i++) {
      const t = performance.now();
      const r = await runs.run(rflow, { inputs: { x: i } });
      runTimes.push(performance.now() - t);
      if (r.status !== 'Completed') throw new Error(`run failed: ${JSON.stringify(r.error)}`);
    }
    metrics.push({
      name: 'run_3_node_flow',
      value_ms: median(runTimes),
      baseline_ms: median(runBaseline),
      ratio: median(runTimes) / median(runBaseline),
      goal: '<= 1.0',
      note: 'median of 20 runs; baseline exec python3 -c pass',
    });

    // the cost of tracing a run: the same 3-node run with and without spans, interleaved so drift hits both alike
    const untraced: number[] = [];
    const traced: number[] = [];
    for (let i = 0; i < 30; i++) {
      for (const trace of i % 2 ? [true, false] : [false, true]) {
        const t = performance.now();
        const r = await runs.run(rflow, { inputs: { x: i }, trace });
        (trace ? traced : untraced).push(performance.now() - t);
        if (r.status !== 'Completed' || !!r.trace !== trace) throw new Error(`run (trace ${trace}) went wrong: ${JSON.stringify(r.error)}`);
      }
    }
    metrics.push({
      name: 'trace_overhead_run_3_node_flow',
      value_ms: median(traced),
      baseline_ms: median(untraced),
      ratio: median(traced) / median(untraced),
      goal: '<= 1.05',
      note: 'median of 30 traced runs (trace.json written) against 30 untraced, interleaved',
    });

    // batch throughput: 200 lines of a 20 ms tool on 8 workers, against a serial loop in the same container
    const bflow = flow(WAIT_FLOW);
    const data = path.join(bflow, 'lines.jsonl');
    fs.writeFileSync(data, Array.from({ length: 200 }, (_, i) => JSON.stringify({ n: i })).join('\n') + '\n');
    const bstatus = await manager.up(bflow);
    const loop = await manager.engine.exec(bstatus.container!, [
      'python3',
      '-c',
      'import sys, time\nsys.path.insert(0, "/opt/flowsession/runtime/shim")\nsys.path.insert(0, "/flow")\nimport wait_tool\nt = time.perf_counter()\nfor i in range(200):\n    wait_tool.wait(i)\nprint((time.perf_counter() - t) * 1000)',
    ]);
    const loopMs = Number(loop.stdout.trim());
    if (!Number.isFinite(loopMs)) throw new Error(`the serial loop failed: ${loop.stderr}`);
    await runs.batch(bflow, { dataFile: data, workers: 8 });
    const t = performance.now();
    const batch = await runs.batch(bflow, { dataFile: data, workers: 8 });
    const batchMs = performance.now() - t;
    if (batch.failed !== 0) throw new Error(`batch lines failed: ${batch.summary}`);
    metrics.push({
      name: 'batch_200_lines_8_workers',
      value_ms: batchMs,
      baseline_ms: loopMs,
      ratio: loopMs / batchMs,
      goal: '>= 7.5',
      note: 'speed-up in lines per second over a serial loop',
    });

    const rt = await manager.runtime(vflow);
    await rt.request(Methods.ping, {});
    return metrics;
  } finally {
    for (const f of flows) {
      await manager.remove(f).catch(() => undefined);
      fs.rmSync(f, { recursive: true, force: true });
    }
    manager.dispose();
  }
}
