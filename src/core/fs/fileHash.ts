import * as crypto from 'crypto';
import * as fs from 'fs';

/** The content hash the session's manifest keeps of each file. */
export function contentHash(): crypto.Hash {
  return crypto.createHash('sha256');
}

/** A file's content hash, read in chunks (memory stays small whatever its size). */
export async function hashFile(abs: string): Promise<string> {
  const hash = contentHash();
  for await (const chunk of fs.createReadStream(abs, { highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** A buffer's content hash, for the small files that go over the runtime's protocol. */
export function hashBuffer(data: Buffer): string {
  return contentHash().update(data).digest('hex');
}
