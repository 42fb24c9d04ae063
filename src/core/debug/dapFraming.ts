/**
 * The Debug Adapter Protocol's wire format: each message is a JSON object after a `Content-Length: <bytes>` header
 * and a blank line. Lengths count bytes, so the reader works on Buffers, never on decoded text.
 */

/** A DAP message as it travels: a request, a response or an event. */
export interface DapMessage {
  seq: number;
  type: 'request' | 'response' | 'event' | string;
  command?: string;
  event?: string;
  arguments?: Record<string, unknown>;
  body?: Record<string, unknown>;
  request_seq?: number;
  success?: boolean;
  message?: string;
  [field: string]: unknown;
}

const HEADER_END = Buffer.from('\r\n\r\n');
/** a header block longer than this is not DAP (a stray print on the relay's stdout): the reader gives up */
const MAX_HEADER_BYTES = 8 * 1024;
/** a larger message would be a variables dump of hundreds of MB: refused rather than buffered */
export const MAX_DAP_MESSAGE_BYTES = 64 * 1024 * 1024;

export function encodeDapMessage(message: DapMessage): Buffer {
  const body = Buffer.from(JSON.stringify(message), 'utf8');
  return Buffer.concat([Buffer.from(`Content-Length: ${body.length}\r\n\r\n`, 'ascii'), body]);
}

export class DapFramingError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DapFramingError';
  }
}

/** Collects bytes as they arrive and hands out whole messages; throws DapFramingError on what is not DAP. */
export class DapReader {
  private buffered: Buffer = Buffer.alloc(0);
  private bodyLength: number | undefined;

  push(chunk: Buffer): DapMessage[] {
    this.buffered = this.buffered.length ? Buffer.concat([this.buffered, chunk]) : chunk;
    const out: DapMessage[] = [];
    for (;;) {
      if (this.bodyLength === undefined) {
        const end = this.buffered.indexOf(HEADER_END);
        if (end < 0) {
          if (this.buffered.length > MAX_HEADER_BYTES) throw new DapFramingError('no Content-Length header in the first 8 KB');
          return out;
        }
        this.bodyLength = contentLength(this.buffered.subarray(0, end).toString('ascii'));
        this.buffered = this.buffered.subarray(end + HEADER_END.length);
      }
      if (this.buffered.length < this.bodyLength) return out;
      const body = this.buffered.subarray(0, this.bodyLength);
      this.buffered = this.buffered.subarray(this.bodyLength);
      this.bodyLength = undefined;
      out.push(parseBody(body));
    }
  }
}

function contentLength(header: string): number {
  for (const line of header.split('\r\n')) {
    const m = /^content-length:\s*(\d+)\s*$/i.exec(line);
    if (!m) continue;
    const n = Number(m[1]);
    if (n > MAX_DAP_MESSAGE_BYTES) throw new DapFramingError(`a message of ${n} bytes is over the ${MAX_DAP_MESSAGE_BYTES}-byte limit`);
    return n;
  }
  throw new DapFramingError(`a header without Content-Length: ${JSON.stringify(header.slice(0, 200))}`);
}

function parseBody(body: Buffer): DapMessage {
  let value: unknown;
  try {
    value = JSON.parse(body.toString('utf8'));
  } catch (e) {
    throw new DapFramingError(`a message that is not JSON: ${(e as Error).message}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value) || typeof (value as DapMessage).type !== 'string')
    throw new DapFramingError('a message that is not a DAP object');
  return value as DapMessage;
}
