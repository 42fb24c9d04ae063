import type { Engine } from '../docker/engine';
import { splitImageRef } from '../imageRef';
import { FlowSessionError } from '../errors';

export type UpdateState = 'up-to-date' | 'update-available' | 'not-pulled' | 'unknown';

export interface UpdateCheck {
  ref: string;
  state: UpdateState;
  localDigests: string[];
  remoteDigest?: string;
  /** why the registry could not be asked, when it could not */
  registryError?: string;
}

/**
 * Compares an image's local RepoDigests (`repo@sha256:…`) with the digest its registry has now.
 * A local-only image (no RepoDigests, e.g. built here) or a registry that does not answer gives `unknown`.
 */
export function compareDigests(
  ref: string,
  localRepoDigests: readonly string[] | undefined,
  remoteDigest: string | undefined,
): UpdateState {
  if (localRepoDigests === undefined) return 'not-pulled';
  if (!remoteDigest || localRepoDigests.length === 0) return 'unknown';
  const repo = splitImageRef(ref).repository;
  const digests = localRepoDigests.map((d) => ({ repo: d.slice(0, d.indexOf('@')), digest: d.slice(d.indexOf('@') + 1) }));
  const same = digests.filter((d) => sameRepository(d.repo, repo));
  const relevant = same.length > 0 ? same : digests;
  return relevant.some((d) => d.digest === remoteDigest) ? 'up-to-date' : 'update-available';
}

/** docker.io/library/python and python name the same repository. */
function sameRepository(a: string, b: string): boolean {
  const norm = (r: string) => r.replace(/^(docker\.io|index\.docker\.io|registry-1\.docker\.io)\//, '').replace(/^library\//, '');
  return norm(a) === norm(b);
}

/** Asks the engine for the local and the registry digest of a base image. */
export async function checkBaseImage(engine: Engine, ref: string): Promise<UpdateCheck> {
  const local = await engine.inspectImage(ref);
  let remoteDigest: string | undefined;
  let registryError: string | undefined;
  try {
    remoteDigest = await engine.registryDigest(ref);
  } catch (e) {
    // an unreachable engine is the caller's problem; an unreachable registry only means "cannot tell"
    if (e instanceof FlowSessionError && e.engineUnreachable) throw e;
    registryError = e instanceof Error ? e.message : String(e);
  }
  return {
    ref,
    state: compareDigests(ref, local?.repoDigests, remoteDigest),
    localDigests: local?.repoDigests ?? [],
    remoteDigest,
    registryError,
  };
}
