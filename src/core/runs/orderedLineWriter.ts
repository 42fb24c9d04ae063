import * as fs from 'fs';
import * as path from 'path';

/**
 * Writes batch lines in input order while they finish in any order. Only lines that arrived ahead of
 * a missing one are held; the file is written to a temp name and renamed at the end, so a crash never
 * leaves a truncated output.jsonl.
 */
export class OrderedLineWriter {
  private readonly pending = new Map<number, string>();
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
    this.pending.set(index, line);
    this.maxHeld = Math.max(this.maxHeld, this.pending.size);
    while (this.pending.has(this.next)) {
      this.stream.write(`${this.pending.get(this.next)}\n`);
      this.pending.delete(this.next);
      this.next++;
    }
  }

  /** Flushes what is left (lines missing in between are skipped) and puts the file in place. */
  async finish(): Promise<void> {
    for (const i of [...this.pending.keys()].sort((a, b) => a - b)) this.stream.write(`${this.pending.get(i)}\n`);
    this.pending.clear();
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
