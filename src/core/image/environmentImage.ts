import * as crypto from 'crypto';
import { packEntries } from '../docker/archive';
import type { Engine } from '../docker/engine';
import type { ProgressListener } from '../docker/progress';
import { FlowSessionError } from '../errors';
import type { PipSettings } from '../settings';
import { ENV_REPO, IMAGE_LABELS } from './labels';
import { pipInstallArgv } from './pipOptions';
import { buildFromRecipe, labelChange, outputTail } from './recipe';
import { IMAGE_PATHS, SESSION_IMAGE_CHANGES, SESSION_USER } from './runtimeFiles';
import type { RuntimeImage } from './runtimeImage';

export interface EnvironmentImage {
  ref: string;
  id: string;
  envHash: string;
  /** false when an image with this environment already existed */
  built: boolean;
}

/** Identity of an environment: the base image, the requirements and the runtime that runs them. */
export function environmentHash(baseId: string, requirements: string, runtimeVersion: string): string {
  return crypto
    .createHash('sha256')
    .update(baseId)
    .update('\0')
    .update(requirements.replace(/\r\n/g, '\n'))
    .update('\0')
    .update(runtimeVersion)
    .digest('hex')
    .slice(0, 16);
}

export function hasRequirements(requirements: string): boolean {
  return requirements.split('\n').some((l) => l.trim() && !l.trim().startsWith('#'));
}

/** The runtime image plus the flow's requirements, built once per environment hash and reused after. */
export async function ensureEnvironmentImage(
  engine: Engine,
  runtime: RuntimeImage,
  requirements: string,
  options: { pip: PipSettings; networkMode?: string; labels?: Record<string, string>; onProgress?: ProgressListener },
): Promise<EnvironmentImage> {
  const envHash = environmentHash(runtime.baseId, requirements, runtime.runtimeVersion);
  if (!hasRequirements(requirements)) return { ref: runtime.ref, id: runtime.id, envHash, built: false };
  const ref = `${ENV_REPO}:${envHash}`;
  const existing = await engine.inspectImage(ref);
  if (existing && existing.labels[IMAGE_LABELS.env] === envHash) return { ref, id: existing.id, envHash, built: false };

  const reqPath = '/tmp/flowsession-requirements.txt';
  // the helper runs pip with `-r <file>`, again without prompt flow's own packages when the index lacks them
  const pipInstall = [
    IMAGE_PATHS.python,
    `${IMAGE_PATHS.runtime}/image/install_requirements.py`,
    reqPath,
    ...pipInstallArgv(options.pip, []),
  ];
  options.onProgress?.({ phase: 'installing', message: 'Installing requirements' });
  const id = await buildFromRecipe(
    engine,
    {
      fromImage: runtime.ref,
      keepAlive: ['python3', '-c', 'import signal; signal.pause()'],
      user: SESSION_USER,
      hardened: true,
      networkMode: options.networkMode,
      labels: { ...options.labels, [IMAGE_LABELS.kind]: 'builder' },
      archives: [
        {
          destination: '/tmp',
          tar: await packEntries([{ name: 'flowsession-requirements.txt', content: Buffer.from(requirements) }], 10001, 10001),
        },
      ],
      steps: [
        {
          title: 'pip install -r requirements.txt',
          argv: pipInstall,
          onFailure: (r) =>
            new FlowSessionError(
              'requirements-failed',
              `Installing the requirements failed:\n${outputTail(r)}`,
              'Fix requirements.txt or the pip settings (flowsession.pip.*), then start the session again.',
            ),
        },
        {
          title: 'Recording the installed packages',
          argv: [IMAGE_PATHS.python, `${IMAGE_PATHS.runtime}/image/list_packages.py`, IMAGE_PATHS.envPackages],
          onFailure: (r) =>
            new FlowSessionError(
              'requirements-failed',
              `Listing the installed packages failed: ${outputTail(r, 5)}`,
              'Check that the requirements do not break the Python environment.',
            ),
        },
        {
          title: 'Cleaning up',
          argv: [IMAGE_PATHS.python, '-c', `import os; os.remove(${JSON.stringify(reqPath)})`],
          onFailure: (r) => new FlowSessionError('requirements-failed', `Cleaning up failed: ${outputTail(r, 3)}`, 'Retry.'),
        },
      ],
      changes: [
        ...SESSION_IMAGE_CHANGES,
        labelChange({ ...options.labels, [IMAGE_LABELS.kind]: 'environment', [IMAGE_LABELS.env]: envHash }),
      ],
      repo: ENV_REPO,
      tag: envHash,
      phase: 'installing',
    },
    options.onProgress,
  );
  return { ref, id, envHash, built: true };
}
