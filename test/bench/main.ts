/**
 * `npm run bench`: the figures the issues name, each against a baseline measured in the same run.
 * Prints a table, or with --json one object {"<metric>": {value_ms, baseline_ms, ratio, goal}}.
 * It brings up the same world as the integration tests and removes what it made.
 */
import { mochaGlobalSetup, mochaGlobalTeardown } from '../support/world/world';
import { printReport, type Metric } from './report';
import { benchRuntime } from './runtimeBench';
import { benchFirstSession, benchSecondSession, benchSessionStart } from './sessionBench';
import { benchExtension } from './extensionBench';
import { benchPanel } from './panelBench';
import { benchRemote } from './remoteBench';
import { benchSaveToDiagnostics } from './editorBench';
import { benchLargeFolderValidate } from './syncBench';
import { benchLargeBatch, benchLlmBatch } from './batchBench';
import { benchDebugStart } from './debugBench';
import { benchSwarm } from './swarmBench';

/**
 * `--only a,b` runs just the groups named (extension, panel, session, sync, runtime, batch, debug, editor, remote, swarm,
 * reliability); the default is all.
 */
function groups(): (name: string) => boolean {
  const i = process.argv.indexOf('--only');
  const only = i >= 0 ? (process.argv[i + 1] ?? '').split(',') : undefined;
  return (name) => !only || only.includes(name);
}

async function main(): Promise<void> {
  const asJson = process.argv.includes('--json');
  const want = groups();
  const metrics: Metric[] = want('extension') ? [...benchExtension()] : [];
  if (want('panel')) metrics.push(...benchPanel());
  await mochaGlobalSetup();
  try {
    if (want('session')) metrics.push(await benchSessionStart(), await benchSecondSession(), await benchFirstSession());
    if (want('sync')) metrics.push(await benchLargeFolderValidate());
    if (want('runtime')) metrics.push(...(await benchRuntime()));
    if (want('batch')) metrics.push(await benchLlmBatch(), await benchLargeBatch());
    if (want('debug')) metrics.push(...(await benchDebugStart()));
    if (want('editor')) metrics.push(benchSaveToDiagnostics());
    if (want('remote')) metrics.push(...(await benchRemote()));
    if (want('swarm')) metrics.push(...(await benchSwarm()));
    if (want('reliability')) metrics.push(...(await (await import('./reliabilityBench')).benchReliability()));
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
