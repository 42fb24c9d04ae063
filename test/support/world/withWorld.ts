/**
 * Runs a command inside the test world: `node -r ts-node/register/transpile-only test/support/world/withWorld.ts <cmd> [args…]`.
 * The command (and what it starts: code-server, the extension host) gets the world's FLOWSESSION_* variables,
 * and the world is torn down afterwards whatever the command's result.
 */
import { spawn } from 'child_process';
import { mochaGlobalSetup, mochaGlobalTeardown, world } from './world';

async function main(): Promise<number> {
  const [cmd, ...args] = process.argv.slice(2);
  if (!cmd) throw new Error('usage: withWorld.ts <command> [args…]');
  await mochaGlobalSetup();
  try {
    const env = { ...process.env, ...world().env };
    return await new Promise<number>((resolve, reject) => {
      const child = spawn(cmd, args, { env, stdio: 'inherit' });
      const forward = (signal: NodeJS.Signals) => child.kill(signal);
      process.on('SIGINT', forward);
      process.on('SIGTERM', forward);
      child.on('error', reject);
      child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
    });
  } finally {
    await mochaGlobalTeardown();
  }
}

main().then(
  (code) => process.exit(code),
  (e) => {
    process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  },
);
