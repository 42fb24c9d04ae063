// `npm start`: the extension on the sample flow (samples/hello-flow). In desktop VS Code when its `code`
// command is on PATH (as an extension in development); otherwise in the code-server the tests use, served
// on loopback with its address printed. Run after `npm run build` (the npm script does that).
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { fileURLToPath } from 'url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const sample = path.join(root, 'samples', 'hello-flow');

function onPath(bin) {
  return (process.env.PATH ?? '').split(path.delimiter).some((d) => d && fs.existsSync(path.join(d, bin)));
}

const [cmd, args] = onPath('code') && !process.env.FLOWSESSION_START_IN_BROWSER
  ? ['code', ['--new-window', `--extensionDevelopmentPath=${root}`, sample]]
  : [process.execPath, [path.join(root, 'scripts', 'e2e', 'serve.mjs'), sample]];
process.stderr.write(`flowsession: opening ${path.relative(root, sample)} with ${path.basename(cmd)}…\n`);
const child = spawn(cmd, args, { stdio: 'inherit' });
process.on('SIGINT', () => child.kill('SIGINT'));
process.on('SIGTERM', () => child.kill('SIGTERM'));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
