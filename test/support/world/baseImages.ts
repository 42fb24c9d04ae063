import { spawn } from 'child_process';
import * as crypto from 'crypto';
import Docker from 'dockerode';
import { Readable } from 'stream';
import type { DockerEngine } from '../../../src/core/docker/dockerEngine';
import { ensureDebianPackage } from './machine';

/**
 * What the test base is made of: Python with pip, venv and jinja2, and debugpy for debugging flows in the session
 * (Debian's build, as PyPI is out of reach). The tags carry a digest of this list, so a changed recipe is a new
 * cached image rather than a stale one found by its old tag.
 */
const BASE_PACKAGES = ['python3', 'python3-pip', 'python3-venv', 'python3-jinja2', 'python3-debugpy'];
const RECIPE_TAG = `bookworm-${crypto.createHash('sha256').update(BASE_PACKAGES.join(',')).digest('hex').slice(0, 8)}`;

/** Test base images, cached in the engine by tag: built from Debian's archive because no registry is reachable. */
export const BASE_IMAGE = `flowsession-test/base:${RECIPE_TAG}`;
export const ALT_BASE_IMAGE = `flowsession-test/base-alt:${RECIPE_TAG}`;
export const BASE_LABEL = { 'flowsession.test': 'base' };

function docker(engine: DockerEngine): Docker {
  return new Docker(engine.endpoint.options);
}

async function importRootfs(engine: DockerEngine, ref: string, log: (l: string) => void): Promise<void> {
  await ensureDebianPackage('mmdebstrap', 'mmdebstrap', log);
  log(`building ${ref} from Debian's archive (about a minute, once per machine)…`);
  const [repo, tag] = ref.split(':');
  const proc = spawn(
    'mmdebstrap',
    [
      '--variant=apt',
      `--include=${BASE_PACKAGES.join(',')}`,
      '--dpkgopt=path-exclude=/usr/share/doc/*',
      '--dpkgopt=path-exclude=/usr/share/man/*',
      'bookworm',
      '-',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let err = '';
  proc.stderr.on('data', (d) => (err = (err + d).slice(-4000)));
  const exited = new Promise<number>((resolve) => proc.on('exit', (c) => resolve(c ?? 1)));
  const stream = (await docker(engine).importImage(
    proc.stdout as unknown as NodeJS.ReadableStream,
    { repo, tag, changes: ['LABEL flowsession.test=base'] } as never,
  )) as unknown as Readable;
  await new Promise<void>((resolve, reject) => {
    let out = '';
    stream.on('data', (d) => (out += d));
    stream.on('end', () => (/"error"/.test(out) ? reject(new Error(out)) : resolve()));
    stream.on('error', reject);
  });
  const code = await exited;
  if (code !== 0) throw new Error(`mmdebstrap failed (${code}): ${err.trim()}`);
}

/** The Debian-based Python base, built once per engine: the tests' default base, and `npm start`'s when no other can be had. */
export async function ensureBaseImage(engine: DockerEngine, log: (l: string) => void): Promise<void> {
  if (!(await engine.inspectImage(BASE_IMAGE))) await importRootfs(engine, BASE_IMAGE, log);
}

/** The default test base and a second, different one (for base image changes and layering). */
export async function ensureBaseImages(engine: DockerEngine, log: (l: string) => void): Promise<void> {
  await ensureBaseImage(engine, log);
  if (!(await engine.inspectImage(ALT_BASE_IMAGE))) {
    log(`building ${ALT_BASE_IMAGE}…`);
    const { packEntries } = await import('../../../src/core/docker/archive');
    const dockerfile = `FROM ${BASE_IMAGE}\nRUN ["python3", "-c", "open('/etc/flowsession-alt-base', 'w').write('alt')"]\n`;
    const context = await packEntries([{ name: 'Dockerfile', content: Buffer.from(dockerfile) }]);
    await engine.buildImage(Readable.from(context), { tag: ALT_BASE_IMAGE, labels: BASE_LABEL });
  }
}
