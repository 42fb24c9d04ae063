import * as crypto from 'crypto';
import { promises as fsp } from 'fs';
import * as path from 'path';

/**
 * Writes a file so that readers see the old content or the new, never a truncated mix: a crash of the
 * process in the middle leaves a stray temp file, not a broken result. `durable` also flushes the data to
 * disk before the rename, for files that must survive a machine crash (it costs a few milliseconds).
 */
export async function writeFileAtomic(file: string, content: string | Buffer, durable = false): Promise<void> {
  await fsp.mkdir(path.dirname(file), { recursive: true });
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${crypto.randomBytes(4).toString('hex')}.tmp`);
  const handle = await fsp.open(tmp, 'w');
  try {
    await handle.writeFile(content);
    if (durable) await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await fsp.rename(tmp, file);
  } catch (e) {
    await fsp.rm(tmp, { force: true });
    throw e;
  }
}

export function writeJsonAtomic(file: string, value: unknown): Promise<void> {
  return writeFileAtomic(file, `${JSON.stringify(value, null, 2)}\n`);
}

/**
 * As writeJsonAtomic, but a file that already holds this content is left alone: a rewrite would cost a temp
 * file and a rename on every save, and wake every watcher of the folder for nothing. True when it wrote.
 */
export async function writeJsonIfChanged(file: string, value: unknown): Promise<boolean> {
  const content = `${JSON.stringify(value, null, 2)}\n`;
  const current = await fsp.readFile(file, 'utf8').catch(() => undefined);
  if (current === content) return false;
  await writeFileAtomic(file, content);
  return true;
}

/** The parsed JSON content of a file, or undefined when it is missing or not JSON. */
export async function readJsonIfPresent<T>(file: string): Promise<T | undefined> {
  try {
    return JSON.parse(await fsp.readFile(file, 'utf8')) as T;
  } catch {
    return undefined;
  }
}
