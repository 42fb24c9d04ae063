import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';

/** Paths inside every runtime image. */
export const IMAGE_PATHS = {
  root: '/opt/flowsession',
  runtime: '/opt/flowsession/runtime',
  venv: '/opt/flowsession/venv',
  python: '/opt/flowsession/venv/bin/python',
  flow: '/flow',
  home: '/home/flowsession',
  basePackages: '/opt/flowsession/packages.base.json',
  envPackages: '/opt/flowsession/packages.env.json',
  activityFile: '/tmp/flowsession-activity',
} as const;

export const SESSION_USER = '10001:10001';

const SKIP = new Set(['tests', '__pycache__', '.pytest_cache']);

/** The runtime folder shipped with the extension: next to dist/ when bundled, at the repo root in tests. */
export function runtimeDir(): string {
  const candidates = [path.resolve(__dirname, '..', 'runtime'), path.resolve(__dirname, '..', '..', '..', 'runtime')];
  for (const c of candidates) {
    if (fs.existsSync(path.join(c, 'flowsession_runtime'))) return c;
  }
  throw new Error(`The flowsession runtime folder is missing (looked in ${candidates.join(', ')}); reinstall the extension.`);
}

/** Files of the runtime that go into images, relative to runtimeDir(), in a stable order. */
export function runtimeFiles(dir = runtimeDir()): string[] {
  const out: string[] = [];
  const walk = (rel: string) => {
    for (const entry of fs.readdirSync(path.join(dir, rel), { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      if (SKIP.has(entry.name) || entry.name.endsWith('.pyc')) continue;
      const child = rel ? `${rel}/${entry.name}` : entry.name;
      if (entry.isDirectory()) walk(child);
      else if (entry.isFile()) out.push(child);
    }
  };
  walk('');
  return out;
}

let cachedVersion: string | undefined;

/** The package version plus a digest of the runtime's files: a changed runtime never reuses an old image. */
export function runtimeVersion(): string {
  if (cachedVersion) return cachedVersion;
  const dir = runtimeDir();
  const hash = crypto.createHash('sha256');
  for (const f of runtimeFiles(dir)) {
    hash
      .update(f)
      .update('\0')
      .update(fs.readFileSync(path.join(dir, f)))
      .update('\0');
  }
  cachedVersion = `${packageVersion()}-${hash.digest('hex').slice(0, 10)}`;
  return cachedVersion;
}

function packageVersion(): string {
  for (const p of [path.resolve(__dirname, '..', 'package.json'), path.resolve(__dirname, '..', '..', '..', 'package.json')]) {
    try {
      const pkg = JSON.parse(fs.readFileSync(p, 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'flowsession' && pkg.version) return pkg.version;
    } catch {
      // try the next place
    }
  }
  return '0.0.0';
}

/** The image config every session image ends with: the idle-aware keep-alive as main process, the session user. */
export const SESSION_IMAGE_CHANGES = [
  `ENTRYPOINT ["python3", "${IMAGE_PATHS.runtime}/flowsession_runtime/keepalive.py"]`,
  'CMD ["--idle-minutes", "0"]',
  `USER ${SESSION_USER}`,
  `WORKDIR ${IMAGE_PATHS.flow}`,
];
