import * as fs from 'fs';
import * as path from 'path';
import { Readable } from 'stream';
import type { Engine } from '../docker/engine';
import { isValidImageRef, splitImageRef } from '../imageRef';
import type { ProgressListener } from '../docker/progress';
import { FlowSessionError } from '../errors';
import { flowArchive } from '../fs/flowArchive';
import { IMAGE_LABELS } from './labels';

/** The folder a custom base image is built from, as prompt flow's docs name it. */
export const IMAGE_BUILD_DIR = 'image_build';
export const CUSTOM_IMAGE_KIND = 'custom';
/** which image_build folder an image was built from */
export const CUSTOM_SOURCE_LABEL = 'flowsession.custom.source';

export const DOCKERFILE_TEMPLATE = `# A custom base image for flowsession sessions.
# RUNTIME_IMAGE is the session runtime image of your current base image (Python, the flow runtime and
# its built-in tools); "Flow Session: Build Custom Base Image" passes it in.
ARG RUNTIME_IMAGE
FROM \${RUNTIME_IMAGE}

USER root
# System packages, e.g.:
# RUN apt-get update && apt-get install -y --no-install-recommends graphviz && rm -rf /var/lib/apt/lists/*

# Python packages for every flow that uses this image.
COPY requirements.txt /tmp/image_build/requirements.txt
RUN python -m pip install --no-cache-dir --disable-pip-version-check -r /tmp/image_build/requirements.txt
`;

export const REQUIREMENTS_TEMPLATE = `# Python packages baked into the custom base image, one per line, e.g.:
# requests==2.32.3
`;

/** Creates `<dir>/image_build/{Dockerfile,requirements.txt}`, leaving files that exist alone. Returns the files written. */
export function scaffoldCustomImage(dir: string): { folder: string; written: string[] } {
  const folder = path.join(dir, IMAGE_BUILD_DIR);
  fs.mkdirSync(folder, { recursive: true });
  const written: string[] = [];
  for (const [name, content] of [
    ['Dockerfile', DOCKERFILE_TEMPLATE],
    ['requirements.txt', REQUIREMENTS_TEMPLATE],
  ] as const) {
    const file = path.join(folder, name);
    if (fs.existsSync(file)) continue;
    fs.writeFileSync(file, content, { flag: 'wx' });
    written.push(file);
  }
  return { folder, written };
}

/** A local tag for an image_build folder: flowsession-custom/<name of the folder that holds it>:latest. */
export function defaultCustomTag(imageBuildDir: string): string {
  const owner = path.basename(path.dirname(path.resolve(imageBuildDir)));
  const name =
    owner
      .toLowerCase()
      .replace(/[^a-z0-9._-]+/g, '-')
      .replace(/^[._-]+|[._-]+$/g, '') || 'image';
  return `flowsession-custom/${name}:latest`;
}

export interface BuildCustomImageOptions {
  /** the image_build folder (with its Dockerfile) */
  contextDir: string;
  tag: string;
  /** the runtime image of the current base, passed as the RUNTIME_IMAGE build argument */
  runtimeImage: string;
  labels?: Record<string, string>;
  networkMode?: string;
  onProgress?: ProgressListener;
}

/** Builds a custom base image from an image_build folder, labelled flowsession.image=custom. */
export async function buildCustomImage(engine: Engine, o: BuildCustomImageOptions): Promise<string> {
  if (!isValidImageRef(o.tag))
    throw new FlowSessionError('bad-input', `Not a valid image name: ${o.tag}`, 'Use a name like my-registry.io/team/flow-base:1.0.');
  if (!fs.existsSync(path.join(o.contextDir, 'Dockerfile'))) {
    throw new FlowSessionError(
      'bad-input',
      `No Dockerfile in ${o.contextDir}.`,
      'Run "Flow Session: New Custom Base Image…" to create one.',
    );
  }
  const context = await flowArchive(o.contextDir, [], 0, 0);
  o.onProgress?.({ phase: 'building', message: `Building ${o.tag} from ${o.contextDir}` });
  return engine.buildImage(Readable.from([context]), {
    tag: o.tag,
    buildArgs: { RUNTIME_IMAGE: o.runtimeImage },
    labels: { ...o.labels, [IMAGE_LABELS.kind]: CUSTOM_IMAGE_KIND, [CUSTOM_SOURCE_LABEL]: path.resolve(o.contextDir) },
    networkMode: o.networkMode,
    onProgress: o.onProgress,
  });
}

/** Where a published custom image goes: `<registry>/<repository name>:<tag>`, or the local name without a registry. */
export function publishTarget(localRef: string, registry: string, tag: string): string {
  const { repository } = splitImageRef(localRef);
  const name = repository.split('/').pop() ?? repository;
  const reg = registry.replace(/\/+$/, '');
  return reg ? `${reg}/${name}:${tag}` : `${repository}:${tag}`;
}

export interface CustomImageRecord {
  ref: string;
  /** the registry digest when it was pushed */
  digest?: string;
  pushed: boolean;
  publishedAt: string;
}

/** Adds (or replaces by ref) a published image in the workspace's list, newest first. */
export function recordCustomImage(list: readonly CustomImageRecord[], record: CustomImageRecord): CustomImageRecord[] {
  return [record, ...list.filter((r) => r.ref !== record.ref)].slice(0, 50);
}

/** Tags a built image with its published name and pushes it when a registry is configured. */
export async function publishCustomImage(
  engine: Engine,
  localRef: string,
  target: string,
  push: boolean,
  onProgress?: ProgressListener,
): Promise<CustomImageRecord> {
  if (!isValidImageRef(target))
    throw new FlowSessionError('bad-input', `Not a valid image name: ${target}`, 'Use a name like my-registry.io/team/flow-base:1.0.');
  if (!(await engine.inspectImage(localRef))) {
    throw new FlowSessionError(
      'image-not-found',
      `The image ${localRef} is not on the engine.`,
      'Build it first with "Flow Session: Build Custom Base Image".',
    );
  }
  const { repository, tag } = splitImageRef(target);
  if (target !== localRef) await engine.tagImage(localRef, repository, tag || 'latest');
  let digest: string | undefined;
  if (push) {
    onProgress?.({ phase: 'pushing', message: `Pushing ${target}` });
    digest = await engine.pushImage(target, onProgress);
  }
  return { ref: target, digest, pushed: push, publishedAt: new Date().toISOString() };
}
