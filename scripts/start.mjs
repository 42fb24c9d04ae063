// `npm start`: brings up a session for the sample flow with the bundled CLI and shows it.
import { spawnSync } from 'child_process';
import * as path from 'path';
import { fileURLToPath } from 'url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const sample = path.join(root, 'samples', 'hello-flow');
const cli = (args) => spawnSync(process.execPath, [path.join(root, 'dist', 'cli.js'), ...args], { stdio: 'inherit' }).status ?? 1;

let code = cli(['doctor']);
if (code === 0) code = cli(['session', 'up', sample]);
if (code === 0) code = cli(['session', 'packages', sample]);
process.exit(code);
