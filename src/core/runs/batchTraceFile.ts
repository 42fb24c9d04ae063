/**
 * A batch's trace.json as its lines end. Each line's own spans come as a compact record with its lineEnd
 * (RecordedSpans writes their OTLP/JSON text), what the lines share once before them (traceSteps); the text goes
 * into the document as it is made. A small trace is written in one piece when the batch ends; a large one goes into
 * a temporary file beside trace.json as it comes, which becomes trace.json when the batch ends, with the batch's own
 * spans (its root, the aggregation) after the lines' (every span names its parent: a reader needs no order). The
 * file is written off the extension's thread (a slow disk does not hold the editor up), each chunk at its place.
 */
import * as fs from 'fs';
import { promises as fsp } from 'fs';
import * as path from 'path';
import type { LineEndEvent, TraceStepsEvent } from '../runtime/protocol';
import { addTokens, NO_TOKENS, traceTotals, type TokenUsage, type TraceSpan } from '../../shared/trace';
import { writeFileAtomic } from '../fs/atomicWrite';
import { maskSecrets, otlpDocumentText, otlpSpansText, secretTextForms, type TraceResource } from './otlp';
import { recordedSpans } from './lazyModules';
import type { RecordedSpans as RecordedSpansType } from './recordedSpans';

/** lines' span text kept in memory: a smaller batch's trace.json is written in one piece, a larger one's spills to a file */
const IN_MEMORY_TRACE_BYTES = 1024 * 1024;
/** the lines' texts are written into buffers of this size as they come (no long text is joined), which go to the file */
const CHUNK_BYTES = 1024 * 1024;
const COMMA = 0x2c;
/** chunks on their way to the temporary file at most; past this the next is written before the lines go on */
const MAX_WRITING = 8;
/**
 * spans of one batch's lines kept for its trace.json; past this they are counted, not kept (memory stays bounded: a
 * batch line's span values are cut at 1 KB by the runtime)
 */
export const MAX_BATCH_SPANS = 50_000;

export class BatchTraceFile {
  /** the document being written, past IN_MEMORY_TRACE_BYTES */
  private readonly partial: string;
  private readonly head: string;
  private readonly tail: string;
  private readonly secretForms: string[];
  private recorded: RecordedSpansType | undefined;
  /** the temporary file, once spilled: chunk by chunk, each written at its own offset (the chunk is then filled again) */
  private fd: number | undefined;
  private spilled = false;
  private writeFailed: Error | undefined;
  /** the temporary file's length once every chunk given to it is written */
  private position = 0;
  /** chunks being written, and what waits for them all to be */
  private writing = 0;
  private written: (() => void) | undefined;
  /** chunks written, to be filled again */
  private spare: Buffer[] = [];
  /** the lines' span text not yet in the file (all of it while it fits in memory): full chunks, then the one filling */
  private held: Buffer[] = [];
  private chunk: Buffer = Buffer.allocUnsafe(CHUNK_BYTES);
  private used = 0;
  private bytes = 0;
  private kept = 0;
  /** the tokens of the lines' LLM calls, kept in the file or not */
  tokens: TokenUsage = NO_TOKENS;
  /** lines whose record could not be read (or that came without a traceSteps event) */
  unreadable = 0;
  /** lines' spans left out past MAX_BATCH_SPANS */
  leftOut = 0;

  constructor(
    readonly file: string,
    secrets: readonly string[],
    readonly resource: TraceResource,
  ) {
    this.secretForms = secretTextForms(secrets);
    this.partial = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.partial`);
    ({ head: this.head, tail: this.tail } = otlpDocumentText(resource));
  }

  /** The batch's traceSteps event: what its lines' records name. */
  steps(event: TraceStepsEvent): void {
    const { RecordedSpans } = recordedSpans();
    try {
      this.recorded = new RecordedSpans(event, this.resource.runId);
    } catch {
      this.recorded = undefined;
    }
  }

  /** A line that ended, with its trace record. */
  addLine(line: LineEndEvent): void {
    const spans = line.traceRecord !== undefined ? this.recorded?.lineText(line, line.traceRecord) : undefined;
    if (!spans) {
      if (line.traceRecord !== undefined) this.unreadable++;
      return;
    }
    if (spans.inner.length) this.tokens = addTokens(this.tokens, traceTotals(spans.inner).run);
    if (this.kept + spans.count > MAX_BATCH_SPANS) {
      this.leftOut += spans.count;
      return;
    }
    this.kept += spans.count;
    this.append(this.secretForms.length ? maskSecrets(spans.text, this.secretForms) : spans.text);
  }

  private append(text: string): void {
    // at most 3 bytes of UTF-8 per UTF-16 unit, and a comma
    const most = 3 * text.length + 1;
    if (this.used + most > this.chunk.length) {
      this.seal();
      if (most > this.chunk.length) this.chunk = Buffer.allocUnsafe(most);
    }
    if (this.bytes) this.chunk[this.used++] = COMMA;
    const n = this.chunk.write(text, this.used);
    this.used += n;
    this.bytes += n + (this.bytes ? 1 : 0);
  }

  /**
   * The filled part of the chunk to the held pieces and a new chunk; past IN_MEMORY_TRACE_BYTES, into the temporary
   * file (what is held, then the chunk itself, which is filled again once written).
   */
  private seal(): void {
    if (this.fd === undefined && this.bytes > IN_MEMORY_TRACE_BYTES && !this.writeFailed) this.spill();
    if (this.fd === undefined && !this.writeFailed) {
      if (this.used) {
        this.held.push(this.chunk.subarray(0, this.used));
        this.chunk = Buffer.allocUnsafe(CHUNK_BYTES);
      }
    } else if (this.used && this.fd !== undefined && !this.writeFailed && this.writing < MAX_WRITING) {
      const chunk = this.chunk;
      this.writeLater(chunk.subarray(0, this.used), () => this.spare.push(chunk));
      this.chunk = this.spare.pop() ?? Buffer.allocUnsafe(CHUNK_BYTES);
    } else {
      // the disk is that far behind (or the file failed): this chunk is written now, and filled again
      this.write(this.chunk.subarray(0, this.used));
    }
    this.used = 0;
  }

  /** The document so far into the temporary file, which takes the rest as it comes. */
  private spill(): void {
    try {
      fs.mkdirSync(path.dirname(this.partial), { recursive: true });
      this.fd = fs.openSync(this.partial, 'w');
      this.spilled = true;
      for (const piece of [Buffer.from(this.head), ...this.held]) this.writeLater(piece, () => undefined);
    } catch (e) {
      this.writeFailed = e as Error;
    }
    this.held = [];
  }

  /** Writes a piece at the file's end now (pieces before it may not be written yet: each has its offset). */
  private write(piece: Buffer): void {
    if (this.fd === undefined || this.writeFailed) return;
    try {
      for (let done = 0; done < piece.length;) done += fs.writeSync(this.fd, piece, done, piece.length - done, this.position + done);
      this.position += piece.length;
    } catch (e) {
      this.writeFailed = e as Error;
    }
  }

  /** Writes a piece at the file's end off the extension's thread; `then` when it is written (or failed). */
  private writeLater(piece: Buffer, then: () => void): void {
    const fd = this.fd!;
    const at = this.position;
    this.position += piece.length;
    this.writing++;
    const from = (done: number) =>
      fs.write(fd, piece, done, piece.length - done, at + done, (e, n) => {
        if (!e && n > 0 && done + n < piece.length) return from(done + n);
        if (e || n <= 0) this.writeFailed ??= e ?? new Error(`the trace could not be written to ${this.partial}`);
        then();
        if (--this.writing === 0) this.written?.();
      });
    from(0);
  }

  /** Once every chunk given to the file is written. */
  private async allWritten(): Promise<void> {
    if (this.writing) await new Promise<void>((resolve) => (this.written = resolve));
    this.written = undefined;
  }

  /** Writes trace.json: the lines' spans and `spans` (the batch's root span and the aggregation's); removes the rest. */
  async finish(spans: readonly TraceSpan[]): Promise<string | undefined> {
    this.seal();
    const own = otlpSpansText(spans);
    const end = `${own && this.bytes ? ',' : ''}${own}${this.tail}\n`;
    this.write(Buffer.from(end));
    await this.allWritten();
    this.closeLines();
    try {
      if (this.writeFailed) throw this.writeFailed;
      if (spans.length === 0 && this.bytes === 0) return undefined;
      if (this.spilled) await fsp.rename(this.partial, this.file);
      else await writeFileAtomic(this.file, Buffer.concat([Buffer.from(this.head), ...this.held, Buffer.from(end)]));
      return this.file;
    } finally {
      this.held = [];
      if (this.spilled) await fsp.rm(this.partial, { force: true });
    }
  }

  /** The batch failed before it ended: nothing is kept. */
  async abort(): Promise<void> {
    await this.allWritten();
    this.closeLines();
    this.held = [];
    if (this.spilled) await fsp.rm(this.partial, { force: true });
  }

  private closeLines(): void {
    if (this.fd === undefined) return;
    try {
      fs.closeSync(this.fd);
    } catch (e) {
      this.writeFailed ??= e as Error;
    }
    this.fd = undefined;
  }
}
