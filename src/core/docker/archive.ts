import { tarStream } from '../vendor';
import type { Readable } from 'stream';

export interface ArchiveEntry {
  name: string;
  /** a file's content; absent for a directory */
  content?: Buffer;
  mode?: number;
}

/** Packs entries into a tar owned by the given user, for a copy into a container. */
export async function packEntries(entries: Iterable<ArchiveEntry>, uid = 0, gid = 0): Promise<Buffer> {
  const pack = tarStream().pack();
  const chunks: Buffer[] = [];
  pack.on('data', (c: unknown) => chunks.push(c as Buffer));
  const done = new Promise<void>((resolve, reject) => {
    pack.on('end', resolve);
    pack.on('error', reject);
  });
  for (const e of entries) {
    await new Promise<void>((resolve, reject) => {
      const header =
        e.content === undefined
          ? { name: e.name, type: 'directory' as const, mode: e.mode ?? 0o755, uid, gid }
          : { name: e.name, type: 'file' as const, mode: e.mode ?? 0o644, uid, gid, size: e.content.length };
      const callback = (err?: Error | null) => (err ? reject(err) : resolve());
      if (e.content === undefined) pack.entry(header, callback);
      else pack.entry(header, e.content, callback);
    });
  }
  pack.finalize();
  await done;
  return Buffer.concat(chunks);
}

/** An entry of a streamed tar: a folder, or a file of known size whose bytes come as they are read. */
export interface StreamedEntry {
  name: string;
  mode: number;
  /** a file's size and its bytes (exactly `size` of them); absent for a directory */
  file?: { size: number; chunks: AsyncIterable<Buffer> };
}

/** What a file entry of a tar being packed takes: its bytes, with backpressure. */
interface EntrySink {
  write(chunk: Buffer): boolean;
  end(): unknown;
  once(event: 'drain', listener: () => void): unknown;
}

/**
 * A tar that is written while it is read: each file's bytes go in as its consumer takes them, so memory stays
 * bounded whatever the sizes. `done` settles when the last entry is in (or one failed; the tar then ends early).
 */
export function streamEntries(entries: AsyncIterable<StreamedEntry>, uid = 0, gid = 0): { tar: Readable; done: Promise<void> } {
  const pack = tarStream().pack();
  const done = (async () => {
    try {
      for await (const e of entries) {
        if (!e.file) {
          await new Promise<void>((resolve, reject) =>
            pack.entry({ name: e.name, type: 'directory', mode: e.mode, uid, gid }, (err) => (err ? reject(err) : resolve())),
          );
          continue;
        }
        const header = { name: e.name, type: 'file' as const, mode: e.mode, uid, gid, size: e.file.size };
        let sink!: EntrySink;
        const finished = new Promise<void>((resolve, reject) => {
          sink = pack.entry(header, (err) => (err ? reject(err) : resolve())) as unknown as EntrySink;
        });
        for await (const chunk of e.file.chunks) {
          if (!sink.write(chunk)) await new Promise<void>((resolve) => sink.once('drain', () => resolve()));
        }
        sink.end();
        await finished;
      }
      pack.finalize();
    } catch (err) {
      pack.destroy(err as Error);
      throw err;
    }
  })();
  return { tar: pack as unknown as Readable, done };
}
