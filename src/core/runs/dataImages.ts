/**
 * Image paths in a batch's data file are relative to that file (prompt flow reads them so). A data file from outside
 * the flow folder is copied into the session alone, so the images it names travel inside it: each
 * `{"data:image/<x>;path": file}` (and each string naming an image file) that lies in the data file's folder becomes
 * the same image as base64. Paths leaving that folder are left as they are: the line then fails in the session
 * with prompt flow's error, and nothing else of the host is read.
 */
import { once } from 'events';
import * as fs from 'fs';
import { promises as fsp } from 'fs';
import * as path from 'path';
import * as readline from 'readline';
import { within } from '../flow/includeScope';

const PATH_KEY = /^data:image\/([A-Za-z0-9.+-]*|\*);path$/;
const IMAGE_FILE = /\.(png|jpe?g|gif|bmp|webp|tiff?)$/i;
const MIME_OF_EXT: Record<string, string> = { jpg: 'jpeg', tif: 'tiff' };
/** larger images stay paths (and fail in the session): a data line must stay a line */
const MAX_INLINE_BYTES = 16 << 20;

function readInside(dataDir: string, rel: string): Buffer | undefined {
  if (rel.includes('\0')) return undefined;
  const abs = path.resolve(dataDir, rel);
  let real: string;
  try {
    real = fs.realpathSync(abs);
  } catch {
    return undefined;
  }
  if (!within(fs.realpathSync(dataDir), real)) return undefined;
  const st = fs.statSync(real);
  return st.isFile() && st.size <= MAX_INLINE_BYTES ? fs.readFileSync(real) : undefined;
}

function inline(value: unknown, dataDir: string): unknown {
  if (typeof value === 'string') {
    if (!IMAGE_FILE.test(value) || /^[a-z]+:/i.test(value)) return value;
    const bytes = readInside(dataDir, value);
    const ext = value.slice(value.lastIndexOf('.') + 1).toLowerCase();
    return bytes ? `data:image/${MIME_OF_EXT[ext] ?? ext};base64,${bytes.toString('base64')}` : value;
  }
  if (Array.isArray(value)) return value.map((v) => inline(v, dataDir));
  if (value !== null && typeof value === 'object') {
    const keys = Object.keys(value);
    const m = keys.length === 1 ? PATH_KEY.exec(keys[0]) : null;
    const file = m ? (value as Record<string, unknown>)[keys[0]] : undefined;
    if (m && typeof file === 'string') {
      const bytes = readInside(dataDir, file);
      return bytes ? { [`data:image/${m[1]};base64`]: bytes.toString('base64') } : value;
    }
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, inline(v, dataDir)]));
  }
  return value;
}

const NAMES_AN_IMAGE = /data:image\/[^"]*;path"|\.(png|jpe?g|gif|bmp|webp|tiff?)"/i;

/** One data line with the images it names carried inside it (a line that is not JSON unchanged). */
function inlineLine(line: string, dataDir: string): string {
  if (!line.trim() || !NAMES_AN_IMAGE.test(line)) return line;
  try {
    return JSON.stringify(inline(JSON.parse(line), dataDir));
  } catch {
    return line; // the session reports the line as prompt flow does
  }
}

/** The data file with the images its lines name carried inside them (lines that are not JSON unchanged). */
export function inlineDataImages(data: Buffer, dataDir: string): Buffer {
  // nothing to carry: the bytes go as they are (the session judges their encoding)
  if (!NAMES_AN_IMAGE.test(data.toString('latin1'))) return data;
  return Buffer.from(
    data
      .toString('utf8')
      .split('\n')
      .map((line) => inlineLine(line, dataDir))
      .join('\n'),
  );
}

/** the byte patterns of NAMES_AN_IMAGE (extensions in lower and upper case), searched without decoding the file */
const IMAGE_MARKS = [
  ';path"',
  ...['png', 'jpg', 'jpeg', 'gif', 'bmp', 'webp', 'tif', 'tiff'].flatMap((e) => [`.${e}"`, `.${e.toUpperCase()}"`]),
].map((m) => Buffer.from(m, 'latin1'));
const LONGEST_MARK = Math.max(...IMAGE_MARKS.map((m) => m.length));

function hasMark(bytes: Buffer): boolean {
  return IMAGE_MARKS.some((m) => bytes.includes(m));
}

/**
 * Whether any line names an image: a search of the raw bytes, read into one buffer again and again (the seam between
 * two reads is kept at its start), so a file of any size costs the same little memory.
 */
async function namesAnImage(file: string): Promise<boolean> {
  const handle = await fsp.open(file, 'r');
  try {
    const buffer = Buffer.alloc(256 * 1024);
    let kept = 0;
    for (;;) {
      const { bytesRead } = await handle.read(buffer, kept, buffer.length - kept, null);
      if (bytesRead === 0) return false;
      const filled = kept + bytesRead;
      if (hasMark(buffer.subarray(0, filled))) return true;
      kept = Math.min(LONGEST_MARK, filled);
      buffer.copy(buffer, 0, filled - kept, filled);
    }
  } finally {
    await handle.close();
  }
}

/**
 * The data file as it goes into the session, read line by line so any size costs little memory: the file itself
 * when its lines name no image, else a temporary copy (in `scratchDir`) with the images carried inside.
 */
export async function dataFileForSession(dataFile: string, scratchDir: string): Promise<string> {
  if (!(await namesAnImage(dataFile))) return dataFile;
  const copy = path.join(scratchDir, 'data-with-images.jsonl');
  const out = fs.createWriteStream(copy);
  const dataDir = path.dirname(dataFile);
  for await (const line of readline.createInterface({ input: fs.createReadStream(dataFile), crlfDelay: Infinity }))
    if (!out.write(`${inlineLine(line, dataDir)}\n`)) await once(out, 'drain');
  out.end();
  await once(out, 'close');
  return copy;
}
