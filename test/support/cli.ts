import { spawn } from 'child_process';
import * as path from 'path';
import { world } from './world/world';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
  ms: number;
}

const CLI = path.resolve(__dirname, '..', '..', 'dist', 'cli.js');

/** Runs the bundled CLI the way a user does, pointed at the test world. */
export function runCli(
  args: string[],
  env: Record<string, string | undefined> = {},
  timeoutMs = 600_000,
  cwd?: string,
): Promise<CliResult> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [CLI, ...args], {
      env: { ...process.env, ...world().env, ...env },
      ...(cwd ? { cwd } : {}),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => (stdout += d));
    p.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => p.kill('SIGKILL'), timeoutMs);
    p.on('error', reject);
    p.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, stdout, stderr, ms: Date.now() - started });
    });
  });
}

export function json<T = Record<string, unknown>>(r: CliResult): T {
  try {
    return JSON.parse(r.stdout) as T;
  } catch {
    throw new Error(`not JSON (exit ${r.code}): ${r.stdout}\nstderr: ${r.stderr}`);
  }
}

/** A CLI process the test talks to: it writes to its stdin and watches its stdout as it comes. */
export interface LiveCli {
  /** stdout so far */
  readonly stdout: string;
  readonly stderr: string;
  /** each stdout data event in order, with when it came */
  readonly chunks: { at: number; text: string }[];
  write(text: string): void;
  /** ends stdin (EOF) */
  end(): void;
  /** sends a signal, as a terminal's Ctrl-C sends SIGINT */
  signal(sig: NodeJS.Signals): void;
  exited: Promise<CliResult>;
  kill(): void;
}

/** Starts the bundled CLI with a pipe on stdin, pointed at the test world. */
export function spawnCli(args: string[], env: Record<string, string | undefined> = {}, timeoutMs = 600_000): LiveCli {
  const started = Date.now();
  const p = spawn(process.execPath, [CLI, ...args], {
    env: { ...process.env, ...world().env, ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const live = {
    stdout: '',
    stderr: '',
    chunks: [] as { at: number; text: string }[],
    write: (text: string) => void p.stdin.write(text),
    end: () => p.stdin.end(),
    kill: () => void p.kill('SIGKILL'),
    signal: (sig: NodeJS.Signals) => void p.kill(sig),
    exited: undefined as unknown as Promise<CliResult>,
  };
  p.stdout.setEncoding('utf8');
  p.stdout.on('data', (d: string) => {
    live.stdout += d;
    live.chunks.push({ at: Date.now(), text: d });
  });
  p.stderr.on('data', (d) => (live.stderr += d));
  const timer = setTimeout(() => p.kill('SIGKILL'), timeoutMs);
  live.exited = new Promise((resolve, reject) => {
    p.on('error', reject);
    p.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, stdout: live.stdout, stderr: live.stderr, ms: Date.now() - started });
    });
  });
  return live;
}
