/**
 * A batch's trace.json as its lines end. The runtime sends the lines' spans as deflated OTLP/JSON text
 * (traceChunk events); they go into the document as they come, never converted: a batch of 10,000 lines
 * has 40,000 spans, and parsing, converting and writing them again cost the extension more than the
 * lines themselves. Each piece is only matched against the shape of OTLP spans (a tenth of the cost of
 * parsing it). A small trace is written in one piece when the batch ends; a large one goes into a
 * temporary file beside trace.json as it comes, which becomes trace.json when the batch ends, with the
 * batch's own spans (its root, the aggregation) after the lines' (every span names its parent: a reader
 * needs no order).
 */
import * as fs from 'fs';
import { promises as fsp } from 'fs';
import * as path from 'path';
import * as zlib from 'zlib';
import { isUtf8 } from 'buffer';
import { finished } from 'stream/promises';
import type { TraceSpan } from '../../shared/trace';
import { writeFileAtomic } from '../fs/atomicWrite';
import { isOtlpSpanList, maskSecrets, otlpDocumentText, otlpSpansText, secretTextForms, type TraceResource } from './otlp';

/** what one chunk may inflate to: a line of many spans of cut values is far less; a deflate bomb stops here */
const MAX_CHUNK_TEXT_BYTES = 32 * 1024 * 1024;
/** lines' span text a batch keeps in trace.json; past it, chunks are counted, not kept */
export const MAX_LINES_TRACE_BYTES = 256 * 1024 * 1024;
/** lines' span text kept in memory: a smaller batch's trace.json is written in one piece, a larger one's spills to a file */
const IN_MEMORY_TRACE_BYTES = 8 * 1024 * 1024;
const COMMA = Buffer.from(',');

export class BatchTraceFile {
  /** the document being written, past IN_MEMORY_TRACE_BYTES */
  private readonly partial: string;
  private readonly head: string;
  private readonly tail: string;
  private stream: fs.WriteStream | undefined;
  private closed = false;
  private streamFailed: Error | undefined;
  /** the lines' pieces not yet in the file (all of them while the batch's spans fit in memory) */
  private held: Buffer[] = [];
  /** the secrets' text forms as their UTF-8 bytes read one byte per character, as a piece is matched */
  private readonly secretBytes: string[];
  private bytes = 0;
  /** chunks that could not be read (not base64 of deflated UTF-8 span objects, or too large) */
  unreadable = 0;
  /** chunks left out past MAX_LINES_TRACE_BYTES */
  leftOut = 0;

  constructor(
    readonly file: string,
    secrets: readonly string[],
    readonly resource: TraceResource,
  ) {
    this.secretBytes = secretTextForms(secrets).map((s) => Buffer.from(s).toString('latin1'));
    this.partial = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.partial`);
    ({ head: this.head, tail: this.tail } = otlpDocumentText(resource));
  }

  /** A traceChunk's spans: OTLP/JSON span objects joined by commas, deflated, in base64. */
  add(deflated: string): void {
    let piece: Buffer;
    try {
      piece = zlib.inflateSync(Buffer.from(deflated, 'base64'), { maxOutputLength: MAX_CHUNK_TEXT_BYTES });
    } catch {
      this.unreadable++;
      return;
    }
    // UTF-8 span objects, nothing else: the bytes go as they are into the list of trace.json. They are matched one
    // byte per character (what the shape allows in a string, any byte of a multi-byte character also is), so that
    // the bytes that go to the file are those that came, not a text encoded again.
    const text = isUtf8(piece) ? piece.toString('latin1') : '';
    if (!isOtlpSpanList(text)) {
      this.unreadable++;
      return;
    }
    if (this.bytes + piece.length > MAX_LINES_TRACE_BYTES) {
      this.leftOut++;
      return;
    }
    const masked = maskSecrets(text, this.secretBytes);
    this.held.push(masked === text ? piece : Buffer.from(masked, 'latin1'));
    this.bytes += piece.length;
    if (this.stream || this.bytes > IN_MEMORY_TRACE_BYTES) this.spill();
  }

  /** the held pieces joined by commas, after `before` */
  private heldBytes(before: string): Buffer {
    const parts: Buffer[] = [Buffer.from(before)];
    this.held.forEach((piece, i) => parts.push(...(i ? [COMMA, piece] : [piece])));
    return Buffer.concat(parts);
  }

  private spill(): void {
    if (!this.stream) {
      fs.mkdirSync(path.dirname(this.partial), { recursive: true });
      this.stream = fs.createWriteStream(this.partial);
      this.stream.on('error', (e) => (this.streamFailed = e));
      this.stream.write(this.heldBytes(this.head));
    } else {
      this.stream.write(this.heldBytes(','));
    }
    this.held = [];
  }

  /** Writes trace.json: the lines' spans and `spans` (the batch's root span and the aggregation's); removes the rest. */
  async finish(spans: readonly TraceSpan[]): Promise<string | undefined> {
    const own = otlpSpansText(spans);
    const joint = own && this.bytes ? ',' : '';
    if (this.spilled) this.stream?.write(`${joint}${own}${this.tail}\n`);
    await this.closeLines();
    try {
      if (this.streamFailed) throw this.streamFailed;
      if (spans.length === 0 && this.bytes === 0) return undefined;
      if (this.spilled) await fsp.rename(this.partial, this.file);
      else await writeFileAtomic(this.file, Buffer.concat([this.heldBytes(this.head), Buffer.from(`${joint}${own}${this.tail}\n`)]));
      return this.file;
    } finally {
      this.held = [];
      if (this.spilled) await fsp.rm(this.partial, { force: true });
    }
  }

  /** The batch failed before it ended: nothing is kept. */
  async abort(): Promise<void> {
    await this.closeLines();
    this.held = [];
    if (this.spilled) await fsp.rm(this.partial, { force: true });
  }

  private get spilled(): boolean {
    return this.stream !== undefined;
  }

  private async closeLines(): Promise<void> {
    const stream = this.stream;
    if (!stream || this.closed) return;
    this.closed = true;
    stream.end();
    await finished(stream).catch((e: Error) => (this.streamFailed = e));
  }
}
