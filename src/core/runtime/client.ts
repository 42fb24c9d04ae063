import { EventEmitter } from 'events';
import type { ExecSession } from '../docker/engine';
import { FlowSessionError } from '../errors';
import { isRuntimeEvent, lineEndsOf, type MethodType, type RuntimeEvent, type RuntimeEventBase, type RuntimeResponse } from './protocol';

const MAX_LINE_BYTES = 64 * 1024 * 1024;

export interface RequestOptions {
  /** rejects when no answer came in time (the runtime has its own per-request timeout too) */
  timeoutMs?: number;
  signal?: AbortSignal;
}

/**
 * Speaks the runtime's newline-delimited JSON protocol over an exec's stdin/stdout. Requests may
 * overlap; responses are matched by id; events go to listeners. When the process ends, every pending
 * request fails with `runtime-crashed`.
 */
export class RuntimeClient {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private readonly events = new EventEmitter();
  private stderrTail = '';
  private closed = false;
  readonly exited: Promise<number>;

  constructor(private readonly session: ExecSession) {
    this.events.setMaxListeners(0);
    // the start of a line whose end has not come yet, in pieces: a message of many batch lines arrives in many
    // chunks, and only each new chunk is searched for its end
    let held: string[] = [];
    let heldLength = 0;
    session.stdout.setEncoding('utf8');
    session.stdout.on('data', (chunk: string) => {
      let start = 0;
      let nl: number;
      while ((nl = chunk.indexOf('\n', start)) >= 0) {
        const piece = chunk.slice(start, nl);
        const line = held.length ? held.join('') + piece : piece;
        held = [];
        heldLength = 0;
        start = nl + 1;
        this.handleLine(line);
      }
      if (start < chunk.length) {
        held.push(start ? chunk.slice(start) : chunk);
        heldLength += chunk.length - start;
        if (heldLength > MAX_LINE_BYTES) {
          // a runaway line is dropped, not held
          held = [];
          heldLength = 0;
        }
      }
    });
    session.stderr.setEncoding('utf8');
    session.stderr.on('data', (chunk: string) => {
      this.stderrTail = (this.stderrTail + chunk).slice(-8192);
      this.events.emit('stderr', chunk);
    });
    this.exited = session.exited.then((code) => {
      this.closed = true;
      const err = new FlowSessionError('runtime-crashed', `The session runtime stopped (exit code ${code}).${this.stderrTail ? ` Its last words: ${this.stderrTail.trim().split('\n').slice(-3).join(' | ')}` : ''}`, 'The session restarts it; if this repeats, reset the session.');
      for (const p of this.pending.values()) p.reject(err);
      this.pending.clear();
      this.events.emit('exit', code);
      return code;
    });
  }

  get isClosed(): boolean {
    return this.closed;
  }

  private handleLine(line: string): void {
    if (!line.trim()) return;
    const message = parseMessage(line);
    if (!message) {
      this.events.emit('stderr', `${line}\n`);
      return;
    }
    if (typeof message.event === 'string') {
      const lines = lineEndsOf(message);
      if (lines) {
        for (const line of lines) this.events.emit('event', line);
        return;
      }
      // typed here, where it arrives: an event the protocol does not declare is dropped, never passed on untyped
      if (isRuntimeEvent(message)) this.events.emit('event', message);
      return;
    }
    const waiter = typeof message.id === 'number' ? this.pending.get(message.id) : undefined;
    if (!waiter) return;
    this.pending.delete(message.id);
    if (message.error) {
      waiter.reject(runtimeError(message.error.code, message.error.message, message.error.detail));
    } else {
      waiter.resolve(message.result);
    }
  }

  request<P, R>(method: MethodType<P, R>, params: P, options: RequestOptions = {}): Promise<R> {
    if (this.closed) return Promise.reject(new FlowSessionError('runtime-crashed', 'The session runtime is not running.', 'Start the session again.'));
    const id = this.nextId++;
    return new Promise<R>((resolve, reject) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const cleanup = () => {
        if (timer) clearTimeout(timer);
        options.signal?.removeEventListener('abort', onAbort);
      };
      const onAbort = () => {
        this.pending.delete(id);
        cleanup();
        reject(new FlowSessionError('cancelled', 'Cancelled.', ''));
      };
      this.pending.set(id, {
        resolve: (v) => { cleanup(); resolve(v as R); },
        reject: (e) => { cleanup(); reject(e); },
      });
      if (options.timeoutMs) {
        timer = setTimeout(() => {
          this.pending.delete(id);
          cleanup();
          reject(new FlowSessionError('run-timeout', `The session runtime did not answer '${method.method}' within ${Math.round(options.timeoutMs! / 1000)} s.`, 'Check the session logs; reset the session if it stays unresponsive.'));
        }, options.timeoutMs);
      }
      options.signal?.addEventListener('abort', onAbort);
      this.session.stdin.write(`${JSON.stringify({ id, method: method.method, params })}\n`);
    });
  }

  /** The runtime's events as they arrive, typed by their `event` name; a listener filters by `runId` for its request. */
  onEvent(listener: (e: RuntimeEvent) => void): () => void {
    this.events.on('event', listener);
    return () => this.events.off('event', listener);
  }

  onStderr(listener: (text: string) => void): () => void {
    this.events.on('stderr', listener);
    return () => this.events.off('stderr', listener);
  }

  onExit(listener: (code: number) => void): () => void {
    this.events.on('exit', listener);
    return () => this.events.off('exit', listener);
  }

  close(): void {
    if (this.closed) return;
    try {
      this.session.stdin.end();
    } catch {
      // already closed
    }
    setTimeout(() => this.session.close(), 500).unref?.();
  }
}

/** A protocol line as a message; undefined for anything that is not a JSON object (stray output of the process). */
function parseMessage(line: string): (RuntimeResponse & Partial<RuntimeEventBase>) | undefined {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return undefined;
  }
  return typeof value === 'object' && value !== null ? (value as RuntimeResponse & Partial<RuntimeEventBase>) : undefined;
}

/** A runtime error keeps prompt flow's code in `detail` position of the message for the UI. */
export class RuntimeRequestError extends Error {
  constructor(readonly code: string, message: string, readonly detail?: string) {
    super(message);
    this.name = 'RuntimeRequestError';
  }
}

function runtimeError(code: string, message: string, detail?: string): Error {
  if (code === 'RunTimeout') return new FlowSessionError('run-timeout', message, 'Raise the timeout or make the tool finish sooner.', detail);
  if (code === 'Cancelled') return new FlowSessionError('cancelled', message, '', detail);
  if (code === 'RuntimeCrashed') return new FlowSessionError('runtime-crashed', message, 'Check the tool code for crashes (os._exit, segfaults, memory).', detail);
  return new RuntimeRequestError(code, message, detail);
}
