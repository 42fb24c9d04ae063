import type { Engine, ExecResult } from '../docker/engine';
import type { ProgressListener } from '../docker/progress';
import { FlowSessionError } from '../errors';

/** A step of an image recipe: a command run in the build container, with its output streamed. */
export interface RecipeStep {
  title: string;
  argv: string[];
  user?: string;
  /** builds the user-facing error from the step's failed result */
  onFailure: (result: ExecResult) => FlowSessionError;
}

export interface Recipe {
  fromImage: string;
  /** keeps the build container alive; no shell is assumed in the image */
  keepAlive: string[];
  user?: string;
  hardened: boolean;
  networkMode?: string;
  labels: Record<string, string>;
  /** files put into the container before the steps */
  archives: { destination: string; tar: Buffer }[];
  steps: RecipeStep[];
  /** image config changes (Dockerfile instructions) applied at commit */
  changes: string[];
  repo: string;
  tag: string;
  phase: string;
}

/**
 * Builds an image by running steps in a container and committing it. Unlike a Dockerfile build, nothing
 * passed to a step (pip options with credentials, say) is recorded in the image's history, and the
 * image appears only once every step succeeded: a failure leaves no image and no container behind.
 */
export async function buildFromRecipe(engine: Engine, recipe: Recipe, onProgress?: ProgressListener): Promise<string> {
  const containerId = await engine.createContainer({
    image: recipe.fromImage,
    entrypoint: recipe.keepAlive,
    cmd: [],
    user: recipe.user,
    labels: recipe.labels,
    hardened: recipe.hardened,
    networkMode: recipe.networkMode,
  });
  try {
    await engine.startContainer(containerId);
    for (const a of recipe.archives) await engine.putArchive(containerId, a.destination, a.tar);
    for (const step of recipe.steps) {
      onProgress?.({ phase: recipe.phase, message: step.title });
      const result = await engine.exec(containerId, step.argv, {
        user: step.user,
        onStdout: (log) => onProgress?.({ phase: recipe.phase, log }),
        onStderr: (log) => onProgress?.({ phase: recipe.phase, log }),
        maxOutputBytes: 256 * 1024,
      });
      if (result.exitCode !== 0) throw step.onFailure(result);
    }
    return await engine.commitContainer(containerId, { repo: recipe.repo, tag: recipe.tag, changes: recipe.changes });
  } finally {
    await engine.removeContainer(containerId).catch(() => undefined);
  }
}

/** The last lines of a command's output, for an error message that shows the tool's own words. */
export function outputTail(result: ExecResult, lines = 15): string {
  const text = `${result.stdout}\n${result.stderr}`
    .trim()
    .split('\n')
    .filter((l) => l.trim());
  return text.slice(-lines).join('\n');
}

/** A LABEL instruction whose key and value survive any character. */
export function labelChange(labels: Record<string, string>): string {
  return `LABEL ${Object.entries(labels)
    .map(([k, v]) => `${JSON.stringify(k)}=${JSON.stringify(v)}`)
    .join(' ')}`;
}
