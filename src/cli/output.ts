import { FlowSessionError } from '../core/errors';

export const EXIT = { ok: 0, failed: 1, usage: 2, unreachable: 3 } as const;

export class UsageError extends Error {}

/** Where the CLI writes: one JSON document on stdout with --json, human lines otherwise; progress on stderr. */
export class CliOutput {
  constructor(
    readonly json: boolean,
    private readonly stdout: NodeJS.WritableStream = process.stdout,
    private readonly stderr: NodeJS.WritableStream = process.stderr,
  ) {}

  result(doc: unknown, human: string): void {
    this.stdout.write(this.json ? `${JSON.stringify(doc, null, 2)}\n` : `${human}\n`);
  }

  progress(line: string): void {
    this.stderr.write(`${line}\n`);
  }

  /** Streamed output text as it comes (a generator's chunks), on stderr next to the progress lines. */
  stream(text: string): void {
    this.stderr.write(text);
  }

  /** Prints an error and returns the exit code for it. */
  error(e: unknown): number {
    if (e instanceof UsageError) {
      this.stderr.write(`flowsession: ${e.message}\nRun 'flowsession --help' for usage.\n`);
      return EXIT.usage;
    }
    const fe = e instanceof FlowSessionError ? e : undefined;
    const message = fe ? fe.message : e instanceof Error ? e.message : String(e);
    const remedy = fe?.remedy ?? '';
    this.stderr.write(`flowsession: ${message}${remedy ? `\n  ${remedy}` : ''}\n`);
    if (this.json) this.stdout.write(`${JSON.stringify({ error: { kind: fe?.kind ?? 'internal', message, remedy } }, null, 2)}\n`);
    if (fe?.engineUnreachable) return EXIT.unreachable;
    return fe ? EXIT.failed : EXIT.failed;
  }
}
