import type { Engine } from '../core/docker/engine';
import { IMAGE_LABELS } from '../core/image/labels';
import { runtimeVersion } from '../core/image/runtimeFiles';
import { CliOutput, EXIT } from './output';

/** `flowsession doctor`: which engine, how it was chosen, whether it answers, and what images are cached. */
export async function runDoctor(engine: Engine, out: CliOutput, baseImage: string): Promise<number> {
  const ep = engine.endpoint;
  const info = await engine.ping(5000);
  const runtimeImages = await engine.listImages({ [IMAGE_LABELS.kind]: 'runtime' });
  const envImages = await engine.listImages({ [IMAGE_LABELS.kind]: 'environment' });
  const base = await engine.inspectImage(baseImage);
  const doc = {
    engine: {
      host: ep.host,
      source: ep.source,
      context: ep.context ?? null,
      version: info.version,
      apiVersion: info.apiVersion,
      os: info.os,
      arch: info.arch,
    },
    runtimeVersion: runtimeVersion(),
    baseImage: { ref: baseImage, present: !!base, id: base?.id ?? null },
    images: { runtime: runtimeImages.map((i) => i.tags[0] ?? i.id), environment: envImages.map((i) => i.tags[0] ?? i.id) },
  };
  out.result(
    doc,
    [
      `engine      ${ep.host} (${ep.source}${ep.context ? `, context ${ep.context}` : ''})`,
      `            Docker ${info.version}, API ${info.apiVersion}, ${info.os}/${info.arch}`,
      `runtime     ${doc.runtimeVersion}`,
      `base image  ${baseImage} ${base ? 'present' : 'not present (pulled on first session)'}`,
      `images      ${runtimeImages.length} runtime, ${envImages.length} environment`,
    ].join('\n'),
  );
  return EXIT.ok;
}
