import * as fs from 'fs';
import * as path from 'path';
import { runCli, type CliResult } from '../support/cli';
import { HELLO_FLOW, makeFlow } from '../support/flows/fixtures';
import { peakRssEnv, peakRssMb } from '../support/peakRss';
import { testManager } from '../support/world/manager';
import { BENCH_SETTINGS, median, type Metric } from './report';

const ITERATIONS = 5;
const GIB = 1024 * 1024 * 1024;

/**
 * A no-change `flowsession validate` from the CLI (a new process each time, as a user or CI calls it) on a flow folder
 * holding a 1 GB data file, against the same on the folder without it; the CLI's peak resident memory in the note.
 */
export async function benchLargeFolderValidate(): Promise<Metric> {
  const flow = makeFlow(HELLO_FLOW);
  const big = path.join(flow, 'data', 'big.bin');
  const manager = testManager(BENCH_SETTINGS);
  const env = { ...BENCH_SETTINGS, ...peakRssEnv() };
  const validate = async (): Promise<CliResult> => {
    const r = await runCli(['validate', flow], env);
    if (r.code !== 0) throw new Error(`flowsession validate failed (${r.code}): ${r.stderr.slice(-1000)}`);
    return r;
  };
  const series = async (): Promise<{ ms: number; rssMb: number }> => {
    const runs: CliResult[] = [];
    for (let i = 0; i < ITERATIONS; i++) runs.push(await validate());
    return { ms: median(runs.map((r) => r.ms)), rssMb: Math.max(...runs.map((r) => peakRssMb(r.stderr))) };
  };
  try {
    await validate(); // the session and its first copy
    const small = await series();
    fs.mkdirSync(path.dirname(big), { recursive: true });
    fs.writeFileSync(big, '');
    fs.truncateSync(big, GIB); // sparse: made at once, read as 1 GB of zeros
    const first = await validate();
    const large = await series();
    return {
      name: 'validate_cli_1gb_folder_no_change',
      value_ms: large.ms,
      baseline_ms: small.ms,
      ratio: large.ms / small.ms,
      goal: '<= 1.2',
      note:
        `median of ${ITERATIONS}; CLI peak RSS ${large.rssMb.toFixed(0)} MB (small folder ${small.rssMb.toFixed(0)} MB); ` +
        `first copy of the 1 GB file ${(first.ms / 1000).toFixed(1)} s at ${peakRssMb(first.stderr).toFixed(0)} MB`,
    };
  } finally {
    await manager.remove(flow).catch(() => undefined);
    manager.dispose();
    fs.rmSync(flow, { recursive: true, force: true });
  }
}
