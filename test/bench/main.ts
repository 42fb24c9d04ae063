/**
 * `npm run bench`: the figures the issues name, each against a baseline measured in the same run.
 * Prints a table, or with --json one object {"<metric>": {value_ms, baseline_ms, ratio, goal}}.
 * It brings up the same world as the integration tests and removes what it made.
 */
import { mochaGlobalSetup, mochaGlobalTeardown } from '../support/world';
import { printReport, type Metric } from './report';
import { benchRuntime } from './runtimeBench';
import { benchSecondSession, benchSessionStart } from './sessionBench';
import { benchExtension } from './extensionBench';
import { benchRemote } from './remoteBench';
import { benchSaveToDiagnostics } from './editorBench';

async function main(): Promise<void> {
  const asJson = process.argv.includes('--json');
  const metrics: Metric[] = [...benchExtension()];
  await mochaGlobalSetup();
  try {
    metrics.push(await benchSessionStart());
    metrics.push(await benchSecondSession());
    metrics.push(...(await benchRuntime()));
    metrics.push(benchSaveToDiagnostics());
    metrics.push(...(await benchRemote()));
  } finally {
    await mochaGlobalTeardown();
  }
  printReport(metrics, asJson);
}

main().then(
  () => process.exit(0),
  (e) => {
    process.stderr.write(`bench failed: ${e instanceof Error ? e.stack : String(e)}\n`);
    process.exit(1);
  },
);
