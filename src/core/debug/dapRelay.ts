import { EventEmitter } from 'events';
import type { ExecSession } from '../docker/engine';
import { DapReader, encodeDapMessage, type DapMessage } from './dapFraming';

/**
 * One end of a DAP conversation carried by an exec's stdin/stdout (runtime/flowsession_runtime/dap_relay.py on the
 * other side, connected to debugpy's adapter on the session's loopback). Nothing but the engine API carries it, so
 * it works on a remote engine as on a local one.
 */
export class DapRelay {
  private readonly reader = new DapReader();
  private readonly events = new EventEmitter();
  private closedWith: string | undefined;
  private stderrTail = '';
  /** settles once the exec has ended, with why */
  readonly closed: Promise<string>;

  constructor(private readonly exec: ExecSession) {
    this.events.setMaxListeners(0);
    exec.stdout.on('data', (chunk: Buffer | string) => {
      if (this.closedWith) return;
      let messages: DapMessage[];
      try {
        messages = this.reader.push(typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk);
      } catch (e) {
        this.close(`the relay sent what is not DAP (${(e as Error).message})`);
        return;
      }
      for (const m of messages) this.events.emit('message', m);
    });
    exec.stderr.on('data', (chunk: Buffer | string) => (this.stderrTail = (this.stderrTail + String(chunk)).slice(-2000)));
    this.closed = new Promise<string>((resolve) => this.events.once('close', resolve));
    void exec.exited.then(
      (code) => this.finish(code === 0 ? 'the debug adapter ended' : `the relay ended with code ${code}: ${this.stderrTail.trim()}`),
      (e: Error) => this.finish(`the relay failed: ${e.message}`),
    );
  }

  get isClosed(): boolean {
    return this.closedWith !== undefined;
  }

  send(message: DapMessage): void {
    if (this.closedWith) return;
    this.exec.stdin.write(encodeDapMessage(message));
  }

  onMessage(listener: (m: DapMessage) => void): () => void {
    this.events.on('message', listener);
    return () => this.events.off('message', listener);
  }

  /** Ends the conversation: the relay in the session sees its stdin close and exits. */
  close(why = 'closed'): void {
    if (this.closedWith) return;
    try {
      this.exec.stdin.end();
    } catch {
      // already gone
    }
    this.exec.close();
    this.finish(why);
  }

  private finish(why: string): void {
    if (this.closedWith) return;
    this.closedWith = why;
    this.events.emit('close', why);
  }
}
