import type { Engine } from '../docker/engine';
import type { ProgressListener } from '../docker/progress';
import { FlowSessionError } from '../errors';
import { readFlowEnvironment, type FlowEnvironment } from '../flow/environment';
import type { SessionSettings } from '../settings';
import { checkBaseImage, type UpdateCheck } from './baseUpdates';
import { buildCustomImage, CUSTOM_IMAGE_KIND, CUSTOM_SOURCE_LABEL, publishCustomImage, type CustomImageRecord } from './customImage';
import { IMAGE_LABELS } from './labels';
import { ensureRuntimeImage } from './runtimeImage';

export interface ImageServiceOptions {
  engine: Engine;
  settings: SessionSettings;
  /** the base image sessions of a flow environment use (SessionManager.baseImageFor), so both agree */
  baseImageFor: (env: Pick<FlowEnvironment, 'image'>) => string;
}

/** A custom base image built on the engine. */
export interface BuiltCustomImage {
  ref: string;
  /** the image_build folder it was built from, when the engine knows */
  source?: string;
}

export interface CustomImageBuild {
  /** the image_build folder (with its Dockerfile) */
  folder: string;
  tag: string;
  /** the flow whose base image the custom image builds on; without one, the default base image */
  flowDir?: string;
  onProgress?: ProgressListener;
  /** told which runtime image the build starts FROM, once it is ready */
  onRuntimeImage?(runtimeRef: string, baseRef: string): void;
}

/**
 * The images of one engine as the user sees them: base images (which one a flow uses, updates, pulls)
 * and custom base images (build, publish, list). The editor and the CLI both go through it.
 */
export class ImageService {
  constructor(private readonly options: ImageServiceOptions) {}

  private get engine(): Engine {
    return this.options.engine;
  }

  /** The base image sessions of a flow use now (FLOWSESSION_BASE_IMAGE, environment.image, the setting). */
  baseImageOf(flowDir: string | undefined): string {
    return this.options.baseImageFor(flowDir ? readFlowEnvironment(flowDir) : {});
  }

  /** Builds a custom base image FROM the runtime image of the flow's current base image; returns its id. */
  async buildCustomImage(build: CustomImageBuild): Promise<string> {
    const s = this.options.settings;
    const base = this.baseImageOf(build.flowDir);
    const runtime = await ensureRuntimeImage(this.engine, base, {
      pip: s.pip,
      networkMode: s.network,
      labels: s.extraLabels,
      onProgress: build.onProgress,
    });
    build.onRuntimeImage?.(runtime.ref, base);
    return buildCustomImage(this.engine, {
      contextDir: build.folder,
      tag: build.tag,
      runtimeImage: runtime.ref,
      labels: s.extraLabels,
      networkMode: s.network,
      onProgress: build.onProgress,
    });
  }

  /** The custom base images built on this engine, by tag. */
  async customImages(): Promise<BuiltCustomImage[]> {
    const images = await this.engine.listImages({ [IMAGE_LABELS.kind]: CUSTOM_IMAGE_KIND });
    return images.flatMap((img) =>
      img.tags.filter((t) => t !== '<none>:<none>').map((ref) => ({ ref, source: img.labels[CUSTOM_SOURCE_LABEL] })),
    );
  }

  /** The tags of the custom base images on this engine; refuses when there is none to publish. */
  async publishableImages(): Promise<string[]> {
    const refs = (await this.customImages()).map((i) => i.ref);
    if (refs.length === 0)
      throw new FlowSessionError(
        'image-not-found',
        'No custom base image has been built on this engine.',
        'Run "Flow Session: Build Custom Base Image" first.',
      );
    return refs;
  }

  /** Tags a custom image with its published name, and pushes it when `push` is set. */
  publish(localRef: string, target: string, push: boolean, onProgress?: ProgressListener): Promise<CustomImageRecord> {
    return publishCustomImage(this.engine, localRef, target, push, onProgress);
  }

  /** Compares the local digest of a base image with its registry's. */
  checkForUpdate(ref: string): Promise<UpdateCheck> {
    return checkBaseImage(this.engine, ref);
  }

  pull(ref: string, onProgress?: ProgressListener): Promise<void> {
    return this.engine.pullImage(ref, onProgress);
  }
}
