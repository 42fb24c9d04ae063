#!/usr/bin/env node
// `node scripts/e2e/serve.mjs <folder>`: the packaged extension in code-server (the VS Code the tests use) on
// the folder, served on loopback until Ctrl-C; prints the address. Needs a built extension (npm run build).
import { spawn } from 'child_process';
import * as path from 'path';
import { fileURLToPath } from 'url';
import { install } from './install.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const folder = path.resolve(process.argv[2] ?? path.join(root, 'samples', 'hello-flow'));
try {
  install();
} catch (e) {
  process.stderr.write(`${e.message}\n`);
  process.exit(1);
}
const child = spawn(
  process.execPath,
  ['-r', 'ts-node/register/transpile-only', path.join(root, 'test', 'e2e', 'harness', 'serve.ts'), folder],
  {
    cwd: root,
    stdio: 'inherit',
    env: { ...process.env, TS_NODE_PROJECT: path.join(root, 'tsconfig.json') },
  },
);
// forward Ctrl-C and SIGTERM (the child stops code-server once, however many signals arrive)
process.on('SIGTERM', () => child.kill('SIGTERM'));
process.on('SIGINT', () => child.kill('SIGINT'));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
