import * as fs from 'fs';
import * as path from 'path';
import { packEntries, type ArchiveEntry } from '../docker/archive';
import type { Engine, ImageSummary } from '../docker/engine';
import type { ProgressListener } from '../docker/progress';
import { FlowSessionError } from '../errors';
import type { PipSettings } from '../settings';
import { pipOptionArgs } from './pipOptions';
import { buildFromRecipe, labelChange, outputTail } from './recipe';
import { IMAGE_PATHS, runtimeDir, runtimeFiles, runtimeVersion, SESSION_IMAGE_CHANGES } from './runtimeFiles';
import { IMAGE_LABELS, RUNTIME_REPO } from './labels';

const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export interface RuntimeImage {
  ref: string;
  id: string;
  baseRef: string;
  baseId: string;
  runtimeVersion: string;
}

/** Makes sure the base image is present locally, pulling it with progress when it is not. */
export async function ensureBaseImage(engine: Engine, baseRef: string, onProgress?: ProgressListener): Promise<ImageSummary> {
  const present = await engine.inspectImage(baseRef);
  if (present) return present;
  onProgress?.({ phase: 'pulling', message: `Pulling ${baseRef}` });
  try {
    await engine.pullImage(baseRef, onProgress);
  } catch (e) {
    if (e instanceof FlowSessionError && e.kind === 'pull-failed') {
      throw new FlowSessionError(
        'image-not-found',
        `The base image ${baseRef} is not on the engine and could not be pulled: ${e.message.replace(/^Pulling \S+ failed: /, '')}`,
        'Check the image name (environment.image in flow.dag.yaml or flowsession.baseImage), or pull or build it first.',
      );
    }
    throw e;
  }
  const pulled = await engine.inspectImage(baseRef);
  if (!pulled)
    throw new FlowSessionError(
      'image-not-found',
      `The base image ${baseRef} is still missing after the pull.`,
      'Pull it by hand and retry.',
    );
  return pulled;
}

/** The folders of the runtime, so the archive creates them before their files. */
function runtimeDirs(): ArchiveEntry[] {
  const dirs = new Set<string>(['opt/flowsession/runtime']);
  for (const f of runtimeFiles()) {
    const parts = f.split('/');
    for (let i = 1; i < parts.length; i++) dirs.add(`opt/flowsession/runtime/${parts.slice(0, i).join('/')}`);
  }
  return [...dirs].sort().map((name) => ({ name }));
}

function runtimeArchive(): ArchiveEntry[] {
  const dir = runtimeDir();
  const entries: ArchiveEntry[] = [];
  for (const f of runtimeFiles(dir)) entries.push({ name: `opt/flowsession/runtime/${f}`, content: fs.readFileSync(path.join(dir, f)) });
  return entries;
}

/** The runtime image for a base: base + runtime + built-in tools + session user, built once per base and runtime version. */
export async function ensureRuntimeImage(
  engine: Engine,
  baseRef: string,
  options: { pip: PipSettings; networkMode?: string; labels?: Record<string, string>; onProgress?: ProgressListener },
): Promise<RuntimeImage> {
  const base = await ensureBaseImage(engine, baseRef, options.onProgress);
  const version = runtimeVersion();
  const tag = `${version}-${base.id.replace(/^sha256:/, '').slice(0, 12)}`;
  const ref = `${RUNTIME_REPO}:${tag}`;
  const existing = await engine.inspectImage(ref);
  if (existing && existing.labels[IMAGE_LABELS.runtimeVersion] === version) {
    return { ref, id: existing.id, baseRef, baseId: base.id, runtimeVersion: version };
  }
  options.onProgress?.({ phase: 'building', message: `Building the runtime image on ${baseRef}` });
  const labels = {
    ...options.labels,
    [IMAGE_LABELS.kind]: 'runtime',
    [IMAGE_LABELS.runtimeVersion]: version,
    [IMAGE_LABELS.base]: baseRef,
    [IMAGE_LABELS.baseId]: base.id,
  };
  const basePath = base.env.find((e) => e.startsWith('PATH='))?.slice(5) || DEFAULT_PATH;
  const id = await buildFromRecipe(
    engine,
    {
      fromImage: base.id,
      keepAlive: ['python3', '-c', 'import signal; signal.pause()'],
      user: '0:0',
      hardened: false,
      networkMode: options.networkMode,
      labels: { ...options.labels, [IMAGE_LABELS.kind]: 'builder' },
      archives: [
        { destination: '/', tar: await packEntries([{ name: 'opt' }, { name: 'opt/flowsession' }, ...runtimeDirs(), ...runtimeArchive()]) },
      ],
      steps: [
        {
          title: 'Preparing the session user and environment',
          argv: ['python3', `${IMAGE_PATHS.runtime}/image/setup_image.py`, ...pipOptionArgs(options.pip)],
          onFailure: (r) =>
            new FlowSessionError(
              'build-failed',
              `The base image ${baseRef} cannot host a session: ${outputTail(r, 5)}`,
              'Use a base image with Python 3.9 or newer (python3 on PATH).',
            ),
        },
        {
          title: 'Recording the base packages',
          argv: [IMAGE_PATHS.python, `${IMAGE_PATHS.runtime}/image/list_packages.py`, IMAGE_PATHS.basePackages],
          user: '10001:10001',
          onFailure: (r) =>
            new FlowSessionError(
              'build-failed',
              `Listing the packages of ${baseRef} failed: ${outputTail(r, 5)}`,
              'Check that the base image has a working Python.',
            ),
        },
      ],
      changes: [
        ...SESSION_IMAGE_CHANGES,
        `ENV PATH=${IMAGE_PATHS.venv}/bin:${basePath} PYTHONPATH=${IMAGE_PATHS.runtime} PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 VIRTUAL_ENV=${IMAGE_PATHS.venv}`,
        labelChange(labels),
      ],
      repo: RUNTIME_REPO,
      tag,
      phase: 'building',
    },
    options.onProgress,
  );
  return { ref, id, baseRef, baseId: base.id, runtimeVersion: version };
}
