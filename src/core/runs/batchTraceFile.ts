/**
 * A batch's trace.json as its lines end. Each line's own spans come as a compact record with its lineEnd
 * (RecordedSpans writes their OTLP/JSON text), what the lines share once before them (traceSteps); the text goes
 * into the document as it is made. A small trace is written in one piece when the batch ends; a large one goes into
 * a temporary file beside trace.json as it comes, which becomes trace.json when the batch ends, with the batch's own
 * spans (its root, the aggregation) after the lines' (every span names its parent: a reader needs no order).
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
const IN_MEMORY_TRACE_BYTES = 8 * 1024 * 1024;
/** the lines' texts are written into buffers of this size as they come (no long text is joined), which go to the file */
const CHUNK_BYTES = 1024 * 1024;
const COMMA = 0x2c;
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
  /** the temporary file, once spilled: written synchronously, chunk by chunk (the chunk is then filled again) */
  private fd: number | undefined;
  private spilled = false;
  private writeFailed: Error | undefined;
  /** the lines' span text not yet in the file (all of it while it fits in memory): full chunks, then the one filling */
  private held: Buffer[] = [];
  private chunk = Buffer.allocUnsafe(CHUNK_BYTES);
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
   * file (what is held, then the chunk itself, which is filled again).
   */
  private seal(): void {
    if (this.fd === undefined && this.bytes > IN_MEMORY_TRACE_BYTES && !this.writeFailed) {
      try {
        fs.mkdirSync(path.dirname(this.partial), { recursive: true });
        this.fd = fs.openSync(this.partial, 'w');
        this.spilled = true;
        this.write(Buffer.from(this.head), ...this.held);
      } catch (e) {
        this.writeFailed = e as Error;
      }
      this.held = [];
    }
    if (this.fd !== undefined || this.writeFailed) {
      this.write(this.chunk.subarray(0, this.used));
    } else if (this.used) {
      this.held.push(this.chunk.subarray(0, this.used));
      this.chunk = Buffer.allocUnsafe(CHUNK_BYTES);
    }
    this.used = 0;
  }

  private write(...pieces: Buffer[]): void {
    if (this.fd === undefined || this.writeFailed) return;
    try {
      for (const piece of pieces) fs.writeSync(this.fd, piece);
    } catch (e) {
      this.writeFailed = e as Error;
    }
  }

  /** Writes trace.json: the lines' spans and `spans` (the batch's root span and the aggregation's); removes the rest. */
  async finish(spans: readonly TraceSpan[]): Promise<string | undefined> {
    this.seal();
    const own = otlpSpansText(spans);
    const end = `${own && this.bytes ? ',' : ''}${own}${this.tail}\n`;
    this.write(Buffer.from(end));
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
