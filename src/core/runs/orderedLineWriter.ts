import * as fs from 'fs';
import * as path from 'path';

const WRITE_BYTES = 64 * 1024;

/**
 * Writes batch lines in input order while they finish in any order. Only lines that arrived ahead of
 * a missing one are held; the file is written to a temp name and renamed at the end, so a crash never
 * leaves a truncated output.jsonl.
 */
export class OrderedLineWriter {
  private readonly pending = new Map<number, string>();
  /** lines in order not yet handed to the stream */
  private chunk = '';
  private next = 0;
  private readonly stream: fs.WriteStream;
  private readonly tmp: string;

  constructor(private readonly file: string) {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    this.tmp = `${file}.${process.pid}.tmp`;
    this.stream = fs.createWriteStream(this.tmp);
  }

  /** The most lines held back at once so far: bounded by how far workers run ahead. */
  maxHeld = 0;

  add(index: number, line: string): void {
    if (index === this.next && this.pending.size === 0) {
      this.append(line);
      this.next++;
      return;
    }
    this.pending.set(index, line);
    this.maxHeld = Math.max(this.maxHeld, this.pending.size);
    while (this.pending.has(this.next)) {
      this.append(this.pending.get(this.next)!);
      this.pending.delete(this.next);
      this.next++;
    }
  }

  /** Lines in order go to the file in writes of about WRITE_BYTES, not one write per line. */
  private append(line: string): void {
    this.chunk += `${line}\n`;
    if (this.chunk.length >= WRITE_BYTES) this.flush();
  }

  private flush(): void {
    if (this.chunk) this.stream.write(this.chunk);
    this.chunk = '';
  }

  /** Flushes what is left (lines missing in between are skipped) and puts the file in place. */
  async finish(): Promise<void> {
    for (const i of [...this.pending.keys()].sort((a, b) => a - b)) this.append(this.pending.get(i)!);
    this.pending.clear();
    this.flush();
    await new Promise<void>((resolve, reject) => this.stream.end((err?: Error | null) => (err ? reject(err) : resolve())));
    await fs.promises.rename(this.tmp, this.file);
  }

  async abort(): Promise<void> {
    // the file is opened asynchronously: wait until the stream is closed, or it could appear after the removal
    if (!this.stream.closed) {
      await new Promise<void>((resolve) => {
        this.stream.once('close', () => resolve());
        this.stream.destroy();
      });
    }
    await fs.promises.rm(this.tmp, { force: true });
  }
}
