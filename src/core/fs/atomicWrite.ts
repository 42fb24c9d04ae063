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
