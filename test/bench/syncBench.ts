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
  const small = makeFlow(HELLO_FLOW);
  const large = makeFlow(HELLO_FLOW);
  const big = path.join(large, 'data', 'big.bin');
  const manager = testManager(BENCH_SETTINGS);
  const env = { ...BENCH_SETTINGS, ...peakRssEnv() };
  const validate = async (flow: string): Promise<CliResult> => {
    const r = await runCli(['validate', flow], env);
    if (r.code !== 0) throw new Error(`flowsession validate failed (${r.code}): ${r.stderr.slice(-1000)}`);
    return r;
  };
  try {
    fs.mkdirSync(path.dirname(big), { recursive: true });
    fs.writeFileSync(big, '');
    fs.truncateSync(big, GIB); // sparse: made at once, read as 1 GB of zeros
    await validate(small); // the session and its first copy
    const first = await validate(large);
    // in turns, so that a shared machine's drift weighs on both alike
    const runs: { small: CliResult[]; large: CliResult[] } = { small: [], large: [] };
    for (let i = 0; i < ITERATIONS; i++) {
      runs.small.push(await validate(small));
      runs.large.push(await validate(large));
    }
    const ms = (rs: CliResult[]) => median(rs.map((r) => r.ms));
    const rss = (rs: CliResult[]) => Math.max(...rs.map((r) => peakRssMb(r.stderr))).toFixed(0);
    return {
      name: 'validate_cli_1gb_folder_no_change',
      value_ms: ms(runs.large),
      baseline_ms: ms(runs.small),
      ratio: ms(runs.large) / ms(runs.small),
      goal: '<= 1.2',
      note:
        `median of ${ITERATIONS}; CLI peak RSS ${rss(runs.large)} MB (small folder ${rss(runs.small)} MB); ` +
        `first copy of the 1 GB file ${(first.ms / 1000).toFixed(1)} s at ${peakRssMb(first.stderr).toFixed(0)} MB`,
    };
  } finally {
    for (const flow of [small, large]) {
      await manager.remove(flow).catch(() => undefined);
      fs.rmSync(flow, { recursive: true, force: true });
    }
    manager.dispose();
  }
}
