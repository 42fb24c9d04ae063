/**
 * Serves the packaged extension in code-server on a folder until Ctrl-C (what `npm start` uses when the
 * `code` command is not on PATH): node -r ts-node/register/transpile-only test/e2e/harness/serve.ts <folder>
 * The folder is opened in place (not copied). $FLOWSESSION_SERVE_PORT picks the port (default a free one).
 */
import * as path from 'path';
import { makeRunDir } from './paths';
import { startCodeServer } from './server';
import { installVsix, packageExtension } from './vsix';

async function main(): Promise<void> {
  const folder = path.resolve(process.argv[2] ?? '.');
  const runDir = makeRunDir('serve');
  const extensionsDir = path.join(runDir, 'server', 'extensions');
  installVsix(packageExtension(runDir), extensionsDir, runDir);
  const port = process.env.FLOWSESSION_SERVE_PORT ? Number(process.env.FLOWSESSION_SERVE_PORT) : undefined;
  const server = await startCodeServer({ runDir, extensionsDir, port });
  const url = `${server.url}/?folder=${encodeURIComponent(folder)}`;
  process.stdout.write(`\nFlow Session is served in VS Code (code-server) on loopback:\n\n  ${url}\n\nlogs: ${runDir}\nCtrl-C stops it.\n`);
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    await server.stop();
    process.exit(0);
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  const code = await server.exited;
  if (!stopping) {
    process.stderr.write(`code-server exited (code ${code}); see ${server.logFile}\n`);
    process.exit(1);
  }
}

main().catch((e) => {
  process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
