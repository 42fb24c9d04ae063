import type { DapMessage } from '../../src/core/debug/dapFraming';
import type { DebugBridge } from '../../src/core/debug/debugBridge';
import { WaitTimeout } from './waiting';

/**
 * A DAP client for tests and the bench, speaking to a DebugBridge as VS Code does: numbered requests answered by
 * their responses, events kept in arrival order so a wait never misses one that came early.
 */
export class DapTestClient {
  private seq = 1;
  private readonly responses = new Map<number, (m: DapMessage) => void>();
  readonly events: DapMessage[] = [];
  private readonly eventWaiters: (() => void)[] = [];

  constructor(private readonly bridge: DebugBridge) {
    bridge.onMessage((m) => {
      if (m.type === 'response' && typeof m.request_seq === 'number') {
        this.responses.get(m.request_seq)?.(m);
        this.responses.delete(m.request_seq);
      } else if (m.type === 'event') {
        this.events.push(m);
        for (const w of this.eventWaiters.splice(0)) w();
      }
    });
  }

  /** Sends a request; resolves with its response (rejects on a failed one, or none within the limit). */
  request(command: string, args: Record<string, unknown> = {}, limitMs = 30_000): Promise<DapMessage> {
    const seq = this.seq++;
    return new Promise<DapMessage>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.responses.delete(seq);
        reject(new WaitTimeout(`the response to '${command}'`, limitMs));
      }, limitMs);
      this.responses.set(seq, (m) => {
        clearTimeout(timer);
        if (m.success) resolve(m);
        else reject(new Error(`'${command}' failed: ${m.message ?? JSON.stringify(m.body)}`));
      });
      this.bridge.fromClient({ seq, type: 'request', command, arguments: args });
    });
  }

  /** Sends a request without waiting for its response (debugpy answers `attach` only after configurationDone). */
  send(command: string, args: Record<string, unknown> = {}): Promise<DapMessage> {
    return this.request(command, args, 120_000);
  }

  /** The first event named `name` (matching `match`) at or after position `from` of the event list. */
  async event(name: string, limitMs: number, match: (m: DapMessage) => boolean = () => true, from = 0): Promise<DapMessage> {
    const deadline = Date.now() + limitMs;
    for (;;) {
      const found = this.events.slice(from).find((e) => e.event === name && match(e));
      if (found) return found;
      const left = deadline - Date.now();
      if (left <= 0) throw new WaitTimeout(`the '${name}' event (seen: ${this.events.map((e) => e.event).join(', ')})`, limitMs);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.eventWaiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }
}
