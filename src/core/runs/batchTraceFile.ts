/**
 * A batch's trace.json as its lines end. The runtime sends the lines' spans as deflated OTLP/JSON text
 * (traceChunk events); they go to a file beside trace.json as they come, never converted: a batch of
 * 10,000 lines has 40,000 spans, and parsing, converting and writing them again cost the extension more
 * than the lines themselves. Each piece is only matched against the shape of OTLP spans (a tenth of the
 * cost of parsing it). When the batch ends, trace.json is written whole: the batch's root span first (a
 * reader meets the parent before its lines), then the lines' spans.
 */
import * as fs from 'fs';
import { promises as fsp } from 'fs';
import * as path from 'path';
import * as zlib from 'zlib';
import { finished, pipeline } from 'stream/promises';
import type { TraceSpan } from '../../shared/trace';
import { writeFileAtomic } from '../fs/atomicWrite';
import { isOtlpSpanList, otlpDocumentText, otlpSpansText, redactText, type TraceResource } from './otlp';

/** what one chunk may inflate to: a line of many spans of cut values is far less; a deflate bomb stops here */
const MAX_CHUNK_TEXT_BYTES = 32 * 1024 * 1024;
/** lines' span text a batch keeps in trace.json; past it, chunks are counted, not kept */
export const MAX_LINES_TRACE_BYTES = 256 * 1024 * 1024;
/** lines' span text kept in memory: a smaller batch's trace.json is written in one piece, a larger one's spills to a file */
const IN_MEMORY_TRACE_BYTES = 8 * 1024 * 1024;

export class BatchTraceFile {
  private readonly lines: string;
  private stream: fs.WriteStream | undefined;
  private closed = false;
  private streamFailed: Error | undefined;
  /** the lines' pieces not yet in the file (all of them while the batch's spans fit in memory) */
  private held: string[] = [];
  private bytes = 0;
  /** chunks that could not be read (not base64 of deflated UTF-8 span objects, or too large) */
  unreadable = 0;
  /** chunks left out past MAX_LINES_TRACE_BYTES */
  leftOut = 0;

  constructor(
    readonly file: string,
    private readonly secrets: readonly string[],
  ) {
    this.lines = path.join(path.dirname(file), `.${path.basename(file)}.lines.tmp`);
  }

  /** A traceChunk's spans: OTLP/JSON span objects joined by commas, deflated, in base64. */
  add(deflated: string): void {
    let text: string;
    try {
      text = zlib.inflateSync(Buffer.from(deflated, 'base64'), { maxOutputLength: MAX_CHUNK_TEXT_BYTES }).toString('utf8');
    } catch {
      this.unreadable++;
      return;
    }
    // span objects, nothing else: the text is written as it is into the list of trace.json
    if (!isOtlpSpanList(text)) {
      this.unreadable++;
      return;
    }
    if (this.bytes + text.length > MAX_LINES_TRACE_BYTES) {
      this.leftOut++;
      return;
    }
    this.held.push(redactText(text, this.secrets));
    this.bytes += text.length;
    if (this.stream || this.bytes > IN_MEMORY_TRACE_BYTES) this.spill();
  }

  private spill(): void {
    if (!this.stream) {
      fs.mkdirSync(path.dirname(this.lines), { recursive: true });
      this.stream = fs.createWriteStream(this.lines);
      this.stream.on('error', (e) => (this.streamFailed = e));
      this.stream.write(this.held.join(','));
    } else {
      this.stream.write(`,${this.held.join(',')}`);
    }
    this.held = [];
  }

  /** Writes trace.json: `spans` (the batch's root span and the aggregation's) and the lines' spans; removes the rest. */
  async finish(spans: readonly TraceSpan[], resource: TraceResource): Promise<string | undefined> {
    await this.closeLines();
    try {
      if (this.streamFailed) throw this.streamFailed;
      if (spans.length === 0 && this.bytes === 0) return undefined;
      const { head, tail } = otlpDocumentText(resource);
      const own = otlpSpansText(spans);
      const joint = own && this.bytes ? ',' : '';
      if (!this.spilled) {
        await writeFileAtomic(this.file, `${head}${own}${joint}${this.held.join(',')}${tail}\n`);
        return this.file;
      }
      const tmp = `${this.lines}.${process.pid}.json`;
      try {
        await fsp.writeFile(tmp, head + own + joint);
        if (this.bytes) await pipeline(fs.createReadStream(this.lines), fs.createWriteStream(tmp, { flags: 'a' }));
        await fsp.appendFile(tmp, `${tail}\n`);
        await fsp.rename(tmp, this.file);
      } catch (e) {
        await fsp.rm(tmp, { force: true });
        throw e;
      }
      return this.file;
    } finally {
      this.held = [];
      if (this.spilled) await fsp.rm(this.lines, { force: true });
    }
  }

  /** The batch failed before it ended: nothing is kept. */
  async abort(): Promise<void> {
    await this.closeLines();
    this.held = [];
    if (this.spilled) await fsp.rm(this.lines, { force: true });
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
