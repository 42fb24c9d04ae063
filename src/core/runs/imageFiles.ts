/**
 * Images in run results, stored as prompt flow stores them: the runtime sends an image as
 * `{"data:image/png;base64": "…"}`; the run's files hold it as a file of the run's `images/` folder and refer to it
 * as `{"data:image/png;path": "<path relative to the file that refers to it>"}`.
 */
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';

/** The folder of a run that holds its images. */
export const IMAGES_FOLDER = 'images';

// the mime type comes from the container: only a plain `image/<subtype>` names a file
const BASE64_KEY = /^data:image\/([A-Za-z0-9.+-]+|\*);base64$/;
const PATH_KEY = /^data:image\/([A-Za-z0-9.+-]+|\*);path$/;
const BASE64_TEXT = /^[A-Za-z0-9+/\s]*={0,2}\s*$/;

function imageOf(value: unknown): { subtype: string; base64: string } | undefined {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return undefined;
  const keys = Object.keys(value);
  if (keys.length !== 1) return undefined;
  const m = BASE64_KEY.exec(keys[0]);
  const data = (value as Record<string, unknown>)[keys[0]];
  if (!m || typeof data !== 'string' || !BASE64_TEXT.test(data)) return undefined;
  return { subtype: m[1], base64: data };
}

/** Whether a result value holds an image the runtime sent as base64 (then it is worth walking). */
export function holdsImages(value: unknown): boolean {
  if (imageOf(value)) return true;
  if (Array.isArray(value)) return value.some(holdsImages);
  if (value !== null && typeof value === 'object') return Object.values(value).some(holdsImages);
  return false;
}

/**
 * `value` with each base64 image written to `<runDir>/images/<content hash>.<subtype>` (once: the name is its
 * content) and replaced by a path reference relative to `refFrom`, the folder of the file that will hold it.
 */
export function storeImages(value: unknown, runDir: string, refFrom: string): unknown {
  return holdsImages(value) ? store(value, runDir, refFrom) : value;
}

function store(value: unknown, runDir: string, refFrom: string): unknown {
  const image = imageOf(value);
  if (image) {
    const bytes = Buffer.from(image.base64, 'base64');
    const ext = image.subtype === '*' ? '' : `.${image.subtype.toLowerCase()}`;
    const name = `${crypto.createHash('sha256').update(bytes).digest('hex').slice(0, 32)}${ext}`;
    const dir = path.join(runDir, IMAGES_FOLDER);
    const file = path.join(dir, name);
    if (!fs.existsSync(file)) {
      fs.mkdirSync(dir, { recursive: true });
      const partial = `${file}.${process.pid}.part`;
      fs.writeFileSync(partial, bytes);
      fs.renameSync(partial, file);
    }
    return { [`data:image/${image.subtype};path`]: path.relative(refFrom, file).split(path.sep).join('/') };
  }
  if (Array.isArray(value)) return value.map((v) => store(v, runDir, refFrom));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, store(v, runDir, refFrom)]));
  }
  return value;
}

/**
 * The other way, for values a run hands to the next one (a node run reads the latest run's upstream outputs): each
 * `{"data:image/<x>;path": file}` relative to `refFrom` that names an image file of `imagesRoot` becomes the image as
 * base64 again. Other paths are left as they are: nothing outside the runs' images is read.
 */
export function loadImages(value: unknown, refFrom: string, imagesRoot: string): unknown {
  if (Array.isArray(value)) return value.map((v) => loadImages(v, refFrom, imagesRoot));
  if (value === null || typeof value !== 'object') return value;
  const entries = Object.entries(value);
  const m = entries.length === 1 ? PATH_KEY.exec(entries[0][0]) : null;
  if (m && typeof entries[0][1] === 'string') {
    const file = path.resolve(refFrom, entries[0][1]);
    const inside = path.relative(imagesRoot, file);
    if (!inside.startsWith('..') && !path.isAbsolute(inside) && path.basename(path.dirname(file)) === IMAGES_FOLDER) {
      try {
        return { [`data:image/${m[1]};base64`]: fs.readFileSync(file).toString('base64') };
      } catch {
        return value; // gone: the node gets the reference, and says so if it needs the image
      }
    }
    return value;
  }
  return Object.fromEntries(entries.map(([k, v]) => [k, loadImages(v, refFrom, imagesRoot)]));
}
