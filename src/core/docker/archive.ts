import * as tar from 'tar-stream';

export interface ArchiveEntry {
  name: string;
  /** a file's content; absent for a directory */
  content?: Buffer;
  mode?: number;
}

/** Packs entries into a tar owned by the given user, for a copy into a container. */
export async function packEntries(entries: Iterable<ArchiveEntry>, uid = 0, gid = 0): Promise<Buffer> {
  const pack = tar.pack();
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
