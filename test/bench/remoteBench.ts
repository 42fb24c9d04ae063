/**
 * Remote engines in `npm run bench`: a batch spread over two engines against the same batch on one (same
 * workers per engine), and a session on a TCP+TLS engine against the same on the local socket. The second
 * engine is the test set-up's second dockerd on loopback (see test/support/world/secondEngine.ts).
 */
import * as fs from 'fs';
import { resolveEndpoint } from '../../src/core/docker/endpoint';
import { runMultiEngineBatch } from '../../src/core/runs/multiEngineBatch';
import type { CoreServices } from '../../src/core/services';
import { HELLO_FLOW, makeFlow, SLOW_FLOW, writeData } from '../support/flows/fixtures';
import { testServices } from '../support/world/manager';
import { startSecondEngine, type SecondEngine } from '../support/world/secondEngine';
import { cleanUp, testEngine, world } from '../support/world/world';
import { BENCH_SETTINGS, median, type Metric } from './report';

const LINES = 400;
const TOOL_MS = 20;
const WORKERS = 4;
const ITERATIONS = 5;

async function batchMetric(local: CoreServices, remote: CoreServices): Promise<Metric> {
  const flow = makeFlow(SLOW_FLOW(TOOL_MS));
  const data = writeData(flow, LINES);
  try {
    const engines = [
      { name: 'local', manager: local.manager },
      { name: 'tcp', manager: remote.manager },
    ];
    // both sessions up and warm before anything is timed
    const warmData = writeData(makeFlow({}), 16);
    await runMultiEngineBatch(flow, engines, { dataFile: warmData, workers: WORKERS });
    let t = performance.now();
    const one = await local.runs.batch(flow, { dataFile: data, workers: WORKERS });
    const single = performance.now() - t;
    t = performance.now();
    const two = await runMultiEngineBatch(flow, engines, { dataFile: data, workers: WORKERS });
    const spread = performance.now() - t;
    if (one.total !== LINES || two.total !== LINES || two.failed || one.failed)
      throw new Error(`batch bench: ${one.summary} / ${two.summary}`);
    const shares = two.engines.map((s) => `${s.name} ${s.lines}`).join(', ');
    return {
      name: 'batch_two_engines_speedup',
      value_ms: spread,
      baseline_ms: single,
      ratio: single / spread,
      goal: '>= 1.8',
      note: `${LINES} lines, tool ${TOOL_MS} ms, ${WORKERS} workers per engine; lines/s ${(LINES / (spread / 1000)).toFixed(0)} vs ${(LINES / (single / 1000)).toFixed(0)}; ${shares}`,
    };
  } finally {
    fs.rmSync(flow, { recursive: true, force: true });
  }
}

async function sessionTimes({ manager, runs, validator }: CoreServices): Promise<{ start: number; validate: number; run: number }> {
  const warm = makeFlow(HELLO_FLOW);
  await manager.up(warm); // images built or found before timing
  await manager.remove(warm);
  const start: number[] = [];
  const validate: number[] = [];
  const run: number[] = [];
  for (let i = 0; i < ITERATIONS; i++) {
    const flow = makeFlow(HELLO_FLOW);
    try {
      let t = performance.now();
      await manager.up(flow);
      start.push(performance.now() - t);
      t = performance.now();
      await validator.validate(flow, { session: 'start' });
      validate.push(performance.now() - t);
      t = performance.now();
      const r = await runs.run(flow, { inputs: { name: 'bench' } });
      run.push(performance.now() - t);
      if (r.status !== 'Completed') throw new Error(`run failed: ${JSON.stringify(r.error)}`);
      await manager.remove(flow);
    } finally {
      fs.rmSync(flow, { recursive: true, force: true });
    }
  }
  return { start: median(start), validate: median(validate), run: median(run) };
}

export async function benchRemote(): Promise<Metric[]> {
  const log = (l: string) => process.stderr.write(`[bench remote] ${l}\n`);
  let e2: SecondEngine | undefined;
  const services: CoreServices[] = [];
  try {
    e2 = await startSecondEngine(world().runDir, testEngine(), log);
    const local = testServices(BENCH_SETTINGS);
    const remote = testServices(BENCH_SETTINGS, { endpoint: resolveEndpoint({ env: e2.env }) });
    services.push(local, remote);
    const metrics: Metric[] = [await batchMetric(local, remote)];
    const l = await sessionTimes(local);
    const r = await sessionTimes(remote);
    const note = `median of ${ITERATIONS}; TCP+TLS engine on loopback against the local unix socket`;
    metrics.push(
      { name: 'remote_tcp_session_start', value_ms: r.start, baseline_ms: l.start, ratio: r.start / l.start, goal: '<= 1.2', note },
      { name: 'remote_tcp_validate', value_ms: r.validate, baseline_ms: l.validate, ratio: r.validate / l.validate, goal: '<= 1.2', note },
      { name: 'remote_tcp_run', value_ms: r.run, baseline_ms: l.run, ratio: r.run / l.run, goal: '<= 1.2', note },
    );
    return metrics;
  } finally {
    for (const s of services) s.dispose();
    if (e2) {
      await cleanUp(e2.engine, world().runId).catch(() => undefined);
      await e2.stop();
    }
  }
}
