import * as crypto from 'crypto';
import * as fs from 'fs';

/** The content hash the session's manifest keeps of each file. */
export function contentHash(): crypto.Hash {
  return crypto.createHash('sha256');
}

/** up to this size a file is hashed in one read: a saved source file costs no stream set-up on the save path */
const ONE_READ_BYTES = 1 << 20;

/**
 * A file's content hash. A big file is read again and again into one buffer: a stream would leave a new buffer per
 * chunk for the garbage collector, which lets tens of megabytes of them pile up before it runs.
 */
export async function hashFile(abs: string): Promise<string> {
  const small = await fs.promises.stat(abs).then((s) => s.size <= ONE_READ_BYTES);
  if (small) return hashBuffer(await fs.promises.readFile(abs));
  const hash = contentHash();
  const handle = await fs.promises.open(abs, 'r');
  try {
    const buffer = Buffer.allocUnsafe(ONE_READ_BYTES);
    for (;;) {
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, null);
      if (bytesRead === 0) break;
      hash.update(buffer.subarray(0, bytesRead));
    }
  } finally {
    await handle.close();
  }
  return hash.digest('hex');
}

/** A buffer's content hash, for the small files that go over the runtime's protocol. */
export function hashBuffer(data: Buffer): string {
  return contentHash().update(data).digest('hex');
}
