/**
 * Parts of the extension loaded on first use rather than at activation: the extension's bundle leaves each out and
 * the build puts it in a file of its own (scripts/build.mjs, dist/lazy), as with the libraries of ../vendor.ts. Only
 * their types are imported statically; every runtime use goes through these loaders. (The CLI keeps them inline.)
 */
import type * as RecordedSpansModule from './recordedSpans';

let recordedSpansModule: typeof RecordedSpansModule | undefined;

/** What writes a traced batch's lines into its trace.json: loaded with the first traced batch. */
export function recordedSpans(): typeof RecordedSpansModule {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded with the first traced batch, not at activation
  return (recordedSpansModule ??= require('./recordedSpans') as typeof RecordedSpansModule);
}
