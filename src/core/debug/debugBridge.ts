import type { DapMessage } from './dapFraming';

/** The side of the bridge that reaches debugpy (a DapRelay in the session). */
export interface AdapterChannel {
  send(message: DapMessage): void;
  onMessage(listener: (m: DapMessage) => void): () => void;
  readonly closed: Promise<string>;
  close(why?: string): void;
}

export interface DebugBridgeOptions {
  /** what debugpy attaches with when the client asks to launch */
  attachArguments: Record<string, unknown>;
  /** the client stopped debugging (disconnect, terminate, or the editor dropped the session): end the run */
  stopRun: () => void;
  /** settles when the run has ended, with a line for the debug console (its outcome); always settles */
  runEnded: Promise<string | undefined>;
}

/**
 * Sits between a DAP client (VS Code, or a test) and debugpy's adapter waiting in the session. It passes messages
 * through unchanged except where the two disagree: the client's `launch` is debugpy's `attach` (the run is already
 * waiting), and stopping means ending the run, which the bridge answers itself because cancelling the run ends
 * debugpy too. When the adapter goes (the run finished or was cancelled), the client is told the session terminated.
 */
export class DebugBridge {
  private readonly launchSeqs = new Set<number>();
  private readonly listeners: ((m: DapMessage) => void)[] = [];
  private terminatedSent = false;
  private stopped = false;
  private seq = 1_000_000; // the bridge's own messages, numbered apart from the adapter's

  constructor(
    private readonly adapter: AdapterChannel,
    private readonly options: DebugBridgeOptions,
  ) {
    adapter.onMessage((m) => this.fromAdapter(m));
    void adapter.closed.then(() => this.afterRun());
  }

  /** Messages for the client. */
  onMessage(listener: (m: DapMessage) => void): void {
    this.listeners.push(listener);
  }

  /** A message from the client. */
  fromClient(m: DapMessage): void {
    if (this.terminatedSent) {
      // nothing is left to answer it: the client must not wait for ever
      if (m.type === 'request') this.respond(m, m.command === 'disconnect' || m.command === 'terminate', 'The debug session has ended.');
      return;
    }
    if (m.type === 'request' && m.command === 'launch') {
      this.launchSeqs.add(m.seq);
      this.adapter.send({ ...m, command: 'attach', arguments: { ...this.options.attachArguments } });
      return;
    }
    if (m.type === 'request' && (m.command === 'disconnect' || m.command === 'terminate')) {
      this.respond(m, true);
      this.stop();
      return;
    }
    this.adapter.send(m);
  }

  /** Shows text in the client's debug console. */
  output(text: string, category: 'console' | 'stdout' | 'stderr' = 'console'): void {
    this.emit({ seq: this.seq++, type: 'event', event: 'output', body: { category, output: text.endsWith('\n') ? text : `${text}\n` } });
  }

  /** The editor is done with the session (it may not have said so with a request): the run ends with it. */
  dispose(): void {
    this.stop();
  }

  /** Tells the client the session is over, once; the adapter connection is closed. */
  terminate(): void {
    if (this.terminatedSent) return;
    this.terminatedSent = true;
    this.emit({ seq: this.seq++, type: 'event', event: 'terminated', body: {} });
    this.adapter.close('the debug session ended');
  }

  /** The debuggee is gone: the client hears how the run ended, then that the session is over. */
  private afterRun(): void {
    void this.options.runEnded.then(
      (line) => {
        if (line && !this.terminatedSent) this.output(line);
        this.terminate();
      },
      () => this.terminate(),
    );
  }

  private stop(): void {
    if (!this.stopped) {
      this.stopped = true;
      this.options.stopRun();
    }
    this.terminate();
  }

  private fromAdapter(m: DapMessage): void {
    if (m.type === 'response' && typeof m.request_seq === 'number' && this.launchSeqs.delete(m.request_seq))
      m = { ...m, command: 'launch' };
    // debugpy's own end of the session is the bridge's to announce, once the run's outcome is known
    if (m.type === 'event' && m.event === 'terminated') {
      this.afterRun();
      return;
    }
    this.emit(m);
  }

  private respond(request: DapMessage, success: boolean, message?: string): void {
    this.emit({
      seq: this.seq++,
      type: 'response',
      request_seq: request.seq,
      command: request.command,
      success,
      ...(success || !message ? {} : { message }),
    });
  }

  private emit(m: DapMessage): void {
    for (const l of this.listeners) l(m);
  }
}
