import type { RuntimeEvent } from '../core/runtime/protocol';

/**
 * Writes the chunks of streamed outputs (outputStream events) to a terminal as they arrive. One stream prints bare,
 * as `pf flow test` prints a streaming answer; when a second node's stream starts, each switch starts a new line
 * labelled with the outputs it feeds, so interleaved streams stay readable.
 */
export class StreamPrinter {
  private last: string | undefined;
  private labelled = false;
  private printed = false;

  constructor(private readonly write: (text: string) => void) {}

  /** True when the event was a chunk (and was written). */
  event(e: RuntimeEvent): boolean {
    if (e.event !== 'outputStream') return false;
    // a DAG node's stream, or a flex flow's or a prompty's own output (no node)
    const source = e.node ?? e.outputs.join(', ');
    if (this.last !== undefined && this.last !== source) this.labelled = true;
    if (this.last !== source && this.labelled) this.write(`${this.printed ? '\n' : ''}[${e.outputs.join(', ')}] `);
    this.last = source;
    this.write(e.text);
    this.printed = true;
    return true;
  }

  /** Whether anything was written. */
  get wrote(): boolean {
    return this.printed;
  }

  /** Ends the streamed text with a newline, so what follows starts on its own line. */
  finish(): void {
    if (this.printed) this.write('\n');
    this.printed = false;
    this.last = undefined;
    this.labelled = false;
  }
}
