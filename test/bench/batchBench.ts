import * as fs from 'fs';
import * as path from 'path';
import { makeFlow } from '../support/flows/fixtures';
import { startOpenAiStub, stubConnectionsYaml } from '../support/openaiStub';
import { testServices } from '../support/world/manager';
import { readConnectionsFile } from '../../src/core/runs/connectionsFile';
import { BENCH_SETTINGS, type Metric } from './report';

const LINES = 1000;
const WORKERS = 32;
const LATENCY_MS = 100;
const KEY = 'bench-llm-key';

const LLM_FLOW: Record<string, string> = {
  'flow.dag.yaml': `inputs:
  question:
    type: string
outputs:
  answer:
    type: string
    reference: \${ask.output}
nodes:
- name: ask
  type: llm
  source: {type: code, path: ask.jinja2}
  connection: oai
  api: chat
  inputs:
    model: gpt-bench
    question: \${inputs.question}
`,
  'ask.jinja2': '# system:\nYou answer briefly.\n\n# user:\n{{question}}\n',
};

/**
 * An LLM-bound batch: 1,000 lines whose llm node waits 100 ms for the loopback OpenAI-compatible stub, on 32
 * workers, against the ideal of 1,000 × 100 ms / 32; the session's memory is in the note.
 */
export async function benchLlmBatch(): Promise<Metric> {
  const stub = await startOpenAiStub(KEY, { delayMs: LATENCY_MS });
  const { manager, runs } = testServices(BENCH_SETTINGS);
  const flow = makeFlow(LLM_FLOW);
  try {
    const connectionsFile = path.join(flow, '..', 'bench-connections.yaml');
    fs.writeFileSync(connectionsFile, stubConnectionsYaml(stub.url));
    const connections = readConnectionsFile(connectionsFile, { ...process.env, TEST_LLM_KEY: KEY });
    const data = path.join(flow, 'lines.jsonl');
    fs.writeFileSync(data, Array.from({ length: LINES }, (_, i) => JSON.stringify({ question: `q${i}` })).join('\n') + '\n');
    const status = await manager.up(flow);
    // a first, small batch warms the session (runtime, imports) as a user's earlier runs would
    const warm = path.join(flow, 'warm.jsonl');
    fs.writeFileSync(warm, '{"question": "warm"}\n');
    await runs.batch(flow, { dataFile: warm, workers: WORKERS, connections, columnMapping: { question: '${data.question}' } });
    const t = performance.now();
    const batch = await runs.batch(flow, {
      dataFile: data,
      workers: WORKERS,
      connections,
      columnMapping: { question: '${data.question}' },
    });
    const ms = performance.now() - t;
    if (batch.failed !== 0) throw new Error(`LLM batch lines failed: ${batch.summary}`);
    const stats = await manager.engine.containerStats(status.container!);
    const memory = (stats.memoryPeakBytes ?? stats.memoryBytes) / 1024 / 1024;
    const memoryKind = stats.memoryPeakBytes ? 'peak' : 'after the batch';
    const ideal = (LINES * LATENCY_MS) / WORKERS;
    return {
      name: 'batch_llm_1000_lines_32_workers',
      value_ms: ms,
      baseline_ms: ideal,
      ratio: ideal / ms,
      goal: '>= 0.85',
      note: `fraction of the ideal (1000 × ${LATENCY_MS} ms / ${WORKERS}); session memory ${memory.toFixed(0)} MB ${memoryKind}`,
    };
  } finally {
    await manager.remove(flow).catch(() => undefined);
    await stub.close();
  }
}
