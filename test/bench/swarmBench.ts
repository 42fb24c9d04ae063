/**
 * A batch on Docker Swarm in `npm run bench`: the swarm of the integration tests (three dockerd nodes in network
 * namespaces, test/support/world/swarm.ts), one worker replica per node, against one session on the main engine with
 * the same total workers, on an I/O-bound flow. Two lines: the speed-up with the goal (0.8 × the node count),
 * which nodes sharing one machine's cores cannot reach and which says nothing of separate machines here, and the
 * per-line cost of the orchestrated path (service, image pull check, TLS leases) against the session on the same cores.
 */
import * as fs from 'fs';
import { json, runCli } from '../support/cli';
import { makeFlow, SLOW_FLOW, writeData } from '../support/flows/fixtures';
import { testServices } from '../support/world/manager';
import { startSwarm, swarmBatchArgs } from '../support/world/swarm';
import { testEngine, world } from '../support/world/world';
import { BENCH_SETTINGS, type Metric } from './report';

const NODES = 3;
const LINES = 2000;
const TOOL_MS = 100;
const WORKERS_PER_REPLICA = 8;

export async function benchSwarm(): Promise<Metric[]> {
  const log = (l: string) => process.stderr.write(`[bench swarm] ${l}\n`);
  const swarm = await startSwarm(world().runDir, NODES, testEngine(), world().registry, log);
  const local = testServices(BENCH_SETTINGS);
  const flow = makeFlow(SLOW_FLOW(TOOL_MS));
  try {
    const args = (data: string) => swarmBatchArgs(swarm, flow, data, NODES, WORKERS_PER_REPLICA);
    const env = { ...BENCH_SETTINGS, DOCKER_HOST: swarm.manager.host };
    // image built on the manager, pushed and pulled by every node, the local session up: before anything is timed
    const warm = await runCli(args(writeData(makeFlow({}), 3 * NODES * WORKERS_PER_REPLICA)), env);
    if (warm.code !== 0) throw new Error(`swarm warm-up failed: ${warm.stderr.slice(-2000)}`);
    const data = writeData(flow, LINES);
    await local.runs.batch(flow, { dataFile: writeData(makeFlow({}), 16), workers: NODES * WORKERS_PER_REPLICA });
    const one = await local.runs.batch(flow, { dataFile: data, workers: NODES * WORKERS_PER_REPLICA });
    const r = await runCli(args(data), env);
    const doc = json<{ total: number; failed: number; durationMs: number; summary: string; workers: { lines: number }[] }>(r);
    if (r.code !== 0 || doc.total !== LINES || doc.failed || one.total !== LINES || one.failed)
      throw new Error(`swarm bench: ${doc.summary} / ${one.summary}: ${r.stderr.slice(-2000)}`);
    const single = one.durationMs ?? 0;
    const onSwarm = doc.durationMs;
    const perLine = `${(onSwarm / LINES).toFixed(2)} ms per line on the swarm vs ${(single / LINES).toFixed(2)} ms in one session`;
    const setup =
      `${LINES} lines, tool ${TOOL_MS} ms (I/O-bound); ${NODES} swarm nodes (dockerd in network namespaces of this one ` +
      `machine), ${NODES} replicas × ${WORKERS_PER_REPLICA} workers, against one session with ${NODES * WORKERS_PER_REPLICA} workers`;
    return [
      {
        // the figure and goal, as measured: nodes that share one machine's cores cannot show a speed-up
        name: 'batch_swarm_speedup',
        value_ms: onSwarm,
        baseline_ms: single,
        ratio: single / onSwarm,
        goal: `>= ${(0.8 * NODES).toFixed(1)}`,
        note:
          `${setup}. Goal: 0.8 × the node count (the issue's). The nodes here share this machine's cores, so no ` +
          `speed-up can show: the ratio is the orchestrated path against one session on the same cores. Separate ` +
          `machines were not measured.`,
      },
      {
        // what one machine can say: the orchestrated path's cost per line (service start, pulls checked, TLS leases)
        name: 'batch_swarm_line_overhead',
        value_ms: onSwarm / LINES,
        baseline_ms: single / LINES,
        ratio: onSwarm / single,
        goal: '<= 1.25',
        note:
          `${setup}; ${perLine}, service start and worker connections included; lines per worker ` +
          `${doc.workers.map((w) => w.lines).join('/')}. Goal: ours (the 0.8 of the issue as a cost on the same cores).`,
      },
    ];
  } finally {
    local.dispose();
    fs.rmSync(flow, { recursive: true, force: true });
    await swarm.stop();
  }
}
