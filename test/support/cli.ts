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
export function runCli(args: string[], env: Record<string, string | undefined> = {}, timeoutMs = 600_000): Promise<CliResult> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [CLI, ...args], {
      env: { ...process.env, ...world().env, ...env },
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
