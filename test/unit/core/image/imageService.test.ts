import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { Engine, ImageSummary } from '../../../../src/core/docker/engine';
import { CUSTOM_IMAGE_KIND, CUSTOM_SOURCE_LABEL } from '../../../../src/core/image/customImage';
import { ImageService } from '../../../../src/core/image/imageService';
import { IMAGE_LABELS } from '../../../../src/core/image/labels';
import { defaultSettings } from '../../../../src/core/settings';

function service(images: Partial<ImageSummary>[], override?: string): { images: ImageService; asked: Record<string, unknown>[] } {
  const asked: Record<string, unknown>[] = [];
  const engine = {
    listImages: async (labels: Record<string, unknown>) => {
      asked.push(labels);
      return images;
    },
  } as unknown as Engine;
  const settings = defaultSettings();
  return {
    images: new ImageService({ engine, settings, baseImageFor: (env) => override || env.image || settings.baseImage }),
    asked,
  };
}

describe('ImageService', () => {
  it('lists the tags of custom base images with the folder they were built from', async () => {
    const { images, asked } = service([
      { tags: ['flowsession-custom/a:latest', '<none>:<none>'], labels: { [CUSTOM_SOURCE_LABEL]: '/w/a/image_build' } },
      { tags: ['<none>:<none>'], labels: {} },
    ]);
    assert.deepStrictEqual(await images.customImages(), [{ ref: 'flowsession-custom/a:latest', source: '/w/a/image_build' }]);
    assert.deepStrictEqual(asked, [{ [IMAGE_LABELS.kind]: CUSTOM_IMAGE_KIND }]);
  });

  it('refuses to publish when no custom base image was built', async () => {
    const { images } = service([]);
    await assert.rejects(images.publishableImages(), (e: Error & { kind?: string }) => e.kind === 'image-not-found');
  });

  it('names the base image of a flow as its sessions use it, the default without a flow', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fs-images-'));
    try {
      fs.writeFileSync(path.join(dir, 'flow.dag.yaml'), 'environment:\n  image: python:3.12-slim\nnodes: []\n');
      assert.strictEqual(service([]).images.baseImageOf(dir), 'python:3.12-slim');
      assert.strictEqual(service([]).images.baseImageOf(undefined), defaultSettings().baseImage);
      assert.strictEqual(service([], 'local/override:1').images.baseImageOf(dir), 'local/override:1');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
