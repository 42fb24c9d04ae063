/**
 * The error taxonomy shown to users. Every error a user can act on carries a message and a remedy;
 * the UI and the CLI print these, never a stack.
 */
export type ErrorKind =
  | 'engine-not-installed'
  | 'engine-not-running'
  | 'engine-permission-denied'
  | 'engine-timeout'
  | 'engine-api-too-old'
  | 'engine-error'
  | 'image-not-found'
  | 'pull-failed'
  | 'build-failed'
  | 'push-failed'
  | 'requirements-failed'
  | 'session-not-found'
  | 'session-not-running'
  | 'flow-definition-error'
  | 'bad-input'
  | 'runtime-crashed'
  | 'run-timeout'
  | 'cancelled'
  | 'debugger-unavailable';

export class FlowSessionError extends Error {
  constructor(
    readonly kind: ErrorKind,
    message: string,
    readonly remedy: string,
    readonly detail?: string,
  ) {
    super(message);
    this.name = 'FlowSessionError';
  }

  /** One line for a notification or a terminal: what happened, then what to do. */
  describe(): string {
    return this.remedy ? `${this.message} ${this.remedy}` : this.message;
  }

  /** True when the engine itself could not be reached (CLI exit code 3, "unavailable" state). */
  get engineUnreachable(): boolean {
    return this.kind.startsWith('engine-') && this.kind !== 'engine-error' && this.kind !== 'engine-api-too-old';
  }
}

export function isFlowSessionError(e: unknown): e is FlowSessionError {
  return e instanceof FlowSessionError;
}

export function errorMessage(e: unknown): string {
  if (e instanceof FlowSessionError) return e.describe();
  if (e instanceof Error) return e.message;
  return String(e);
}
