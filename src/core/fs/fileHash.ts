import * as crypto from 'crypto';
import * as fs from 'fs';

/** The content hash the session's manifest keeps of each file. */
export function contentHash(): crypto.Hash {
  return crypto.createHash('sha256');
}

/** up to this size a file is hashed in one read: a saved source file costs no stream set-up on the save path */
const ONE_READ_BYTES = 1 << 20;

/** A file's content hash, read in chunks when it is big (memory stays small whatever its size). */
export async function hashFile(abs: string): Promise<string> {
  const small = await fs.promises.stat(abs).then((s) => s.size <= ONE_READ_BYTES);
  if (small) return hashBuffer(await fs.promises.readFile(abs));
  const hash = contentHash();
  for await (const chunk of fs.createReadStream(abs, { highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** A buffer's content hash, for the small files that go over the runtime's protocol. */
export function hashBuffer(data: Buffer): string {
  return contentHash().update(data).digest('hex');
}
