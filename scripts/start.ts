/**
 * `npm start`: the extension on the sample flow (samples/hello-flow), on any machine the tests run on. In
 * desktop VS Code when its `code` command is on PATH (as an extension in development); otherwise in the
 * code-server the tests use, served on loopback with its address printed. Before that: a Docker engine that
 * answers (started as the tests start one when none does), and a base image the sample flow can use: when
 * the default base image can be neither found nor pulled (offline, a private mirror, a rate limit), the
 * Debian-based base the tests build is built and used, and this says so. A base image the user chose
 * (flowsession.baseImage, FLOWSESSION_BASE_IMAGE, environment.image) is never replaced.
 * Run after `npm run build` (the npm script does that).
 */
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { DockerEngine } from '../src/core/docker/dockerEngine';
import { DEFAULT_BASE_IMAGE } from '../src/core/settings';
import { BASE_IMAGE, ensureBaseImage } from '../test/support/world/baseImages';
import { ensureEngine, stopStartedEngine, type EngineHandle } from '../test/support/world/engine';
import { onPath } from '../test/support/world/machine';
import { makeRunDir, REPO_ROOT } from '../test/e2e/harness/paths';

const sample = path.join(REPO_ROOT, 'samples', 'hello-flow');
const say = (m: string) => process.stderr.write(`flowsession: ${m}\n`);

/** The base image to stand in for the default, or undefined when the default can be had. */
async function standInBase(engine: DockerEngine): Promise<string | undefined> {
  if (process.env.FLOWSESSION_BASE_IMAGE || process.env.FLOWSESSION_DEFAULT_BASE_IMAGE) return undefined;
  if (await engine.inspectImage(DEFAULT_BASE_IMAGE)) return undefined;
  say(`pulling the default base image ${DEFAULT_BASE_IMAGE}…`);
  let why: string;
  try {
    await engine.pullImage(DEFAULT_BASE_IMAGE);
    return undefined;
  } catch (e) {
    why = e instanceof Error ? e.message : String(e);
  }
  say(`${DEFAULT_BASE_IMAGE} cannot be pulled here (${why.split('\n')[0]}).`);
  if (await engine.inspectImage(BASE_IMAGE)) say(`using ${BASE_IMAGE} instead, the Debian-based base the tests use (built before).`);
  else say(`building ${BASE_IMAGE} from Debian's archive instead (the base the tests use; about a minute, once per engine)…`);
  await ensureBaseImage(engine, (l) => say(l));
  say(`the sample flow's sessions use ${BASE_IMAGE} as their default base image (a flowsession.baseImage you set still wins).`);
  return BASE_IMAGE;
}

async function main(): Promise<number> {
  const runDir = makeRunDir('start');
  let handle: EngineHandle | undefined;
  try {
    handle = await ensureEngine(runDir, (l) => say(l));
  } catch (e) {
    say(`${e instanceof Error ? e.message : String(e)}`);
    say('opening the extension anyway: it shows what is missing.');
  }
  const env: NodeJS.ProcessEnv = { ...process.env };
  if (handle) {
    const base = await standInBase(handle.engine);
    if (base) env.FLOWSESSION_DEFAULT_BASE_IMAGE = base;
  }
  const desktop = onPath('code') && !process.env.FLOWSESSION_START_IN_BROWSER;
  const [cmd, args] = desktop
    ? ['code', ['--new-window', `--extensionDevelopmentPath=${REPO_ROOT}`, sample]]
    : [process.execPath, [path.join(REPO_ROOT, 'scripts', 'e2e', 'serve.mjs'), sample]];
  say(`opening ${path.relative(REPO_ROOT, sample)} with ${path.basename(cmd)}…`);
  const child = spawn(cmd, args, { stdio: 'inherit', env });
  process.on('SIGINT', () => child.kill('SIGINT'));
  process.on('SIGTERM', () => child.kill('SIGTERM'));
  const code = await new Promise<number>((resolve) => child.on('exit', (c, signal) => resolve(c ?? (signal ? 1 : 0))));
  if (handle?.startedPid) {
    if (desktop) {
      // `code` hands the window to VS Code and returns: the engine stays for the session in it
      say(`the Docker engine started for this (dockerd, pid ${handle.startedPid}) keeps running; stop it with: kill ${handle.startedPid}`);
    } else {
      say('stopping the Docker engine started for this…');
      await stopStartedEngine(handle);
    }
  }
  if (code === 0) fs.rmSync(runDir, { recursive: true, force: true });
  return code;
}

main().then(
  (code) => process.exit(code),
  (e) => {
    say(e instanceof Error ? e.message : String(e));
    process.exit(1);
  },
);
