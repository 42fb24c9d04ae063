/**
 * Libraries loaded on first use rather than at activation: the extension's bundle leaves them out and the build
 * puts each in a file of its own (scripts/build.mjs), so opening a window does not pay for reading them. Only
 * their types are imported statically; every runtime use goes through these loaders.
 */
import type Dockerode from 'dockerode';
import type * as TarStream from 'tar-stream';
import type * as Yaml from 'yaml';

let yamlLib: typeof Yaml | undefined;
let dockerodeLib: typeof Dockerode | undefined;
let tarStreamLib: typeof TarStream | undefined;

export function yaml(): typeof Yaml {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded on first parse, not at activation
  return (yamlLib ??= require('yaml') as typeof Yaml);
}

export function dockerode(): typeof Dockerode {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded on the first engine call, not at activation
  return (dockerodeLib ??= require('dockerode') as typeof Dockerode);
}

export function tarStream(): typeof TarStream {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded with the first copy into a container
  return (tarStreamLib ??= require('tar-stream') as typeof TarStream);
}
