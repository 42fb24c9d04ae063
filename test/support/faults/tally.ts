/**
 * The fault suite's tally: every fault case reports whether the session survived it, every hostile input
 * whether it was rejected or contained, and every flow folder a case touched is checked for lost data
 * (user files changed, result files truncated). One summary line is printed after the whole run:
 *   faults: N survived of M; hostile inputs: N rejected of M; data lost: K
 */
import * as assert from 'assert';
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { FlowJar } from '../flows/flowJar';
import { WaitTimeout, within } from '../waiting';

interface Case {
  name: string;
  ok: boolean;
  detail?: string;
}

const faults: Case[] = [];
const hostiles: Case[] = [];
const guarded = new Map<string, Map<string, string>>();
const lost: string[] = [];

/** Runs one fault case (bounded in time); it survived when the checks inside hold. */
export async function fault<T>(name: string, fn: () => Promise<T>, timeoutMs = 120_000): Promise<T> {
  try {
    const v = await within(name, timeoutMs, fn());
    faults.push({ name, ok: true });
    return v;
  } catch (e) {
    faults.push({ name, ok: false, detail: (e as Error).message });
    throw e;
  }
}

/** Runs one hostile-input case: it counts as rejected when the checks inside (rejection or containment) hold. */
export async function hostile<T>(name: string, fn: () => Promise<T> | T, timeoutMs = 120_000): Promise<T> {
  try {
    const v = await within(name, timeoutMs, Promise.resolve().then(fn));
    hostiles.push({ name, ok: true });
    return v;
  } catch (e) {
    hostiles.push({ name, ok: false, detail: (e as Error).message });
    throw e;
  }
}

/** Asserts that `p` settles within `ms` and rejects; returns the error. */
export async function rejectsWithin(
  p: Promise<unknown>,
  ms: number,
  what: string,
): Promise<Error & { kind?: string; describe?: () => string }> {
  const started = Date.now();
  try {
    await within(what, ms, p);
  } catch (e) {
    if (e instanceof WaitTimeout) throw e;
    return e as Error & { kind?: string };
  }
  throw new Error(`${what}: expected a failure, it succeeded after ${Date.now() - started} ms`);
}

/** Asserts an error is one a user can act on: a FlowSessionError-like kind, a message, never a stack. */
export function assertClear(e: Error & { kind?: string }, kinds: string[], re?: RegExp): void {
  assert.ok(e.kind && kinds.includes(e.kind), `expected one of ${kinds.join(', ')}, got ${e.kind ?? e.name}: ${e.message}`);
  assert.ok(e.message.length > 10 && !/\n\s+at /.test(e.message), `not a clear message: ${e.message}`);
  if (re) assert.match(e.message, re);
}

function userFiles(dir: string, rel = '', out = new Map<string, string>()): Map<string, string> {
  for (const entry of fs.readdirSync(path.join(dir, rel), { withFileTypes: true })) {
    if (entry.name === '.promptflow' || entry.name === '__pycache__') continue;
    const r = path.join(rel, entry.name);
    if (entry.isDirectory()) userFiles(dir, r, out);
    else if (entry.isFile())
      out.set(
        r,
        crypto
          .createHash('sha256')
          .update(fs.readFileSync(path.join(dir, r)))
          .digest('hex'),
      );
    else if (entry.isSymbolicLink()) out.set(r, `link:${fs.readlinkSync(path.join(dir, r))}`);
  }
  return out;
}

/** Remembers a flow folder's user files; at the end they must be unchanged and its results whole. */
export function guardFlow(dir: string): string {
  guarded.set(dir, userFiles(dir));
  return dir;
}

/** A FlowJar whose folders are guarded: at the end their user files must be unchanged and their results whole. */
export function guardedFlowJar(): FlowJar {
  return new FlowJar({ prefix: 'flowsession-fault-', onMade: guardFlow, beforeRemove: verifyFlow });
}

/** Result files under .promptflow/: every JSON parses, every .jsonl line parses; no stray temp file is read as a result. */
export function checkResults(dir: string): string[] {
  const problems: string[] = [];
  const root = path.join(dir, '.promptflow');
  const walk = (d: string) => {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (/\.tmp$/.test(e.name))
        continue; // a crash may leave a temp file; it is never a result
      else if (e.name.endsWith('.json')) {
        try {
          JSON.parse(fs.readFileSync(p, 'utf8'));
        } catch {
          problems.push(`${p}: truncated JSON`);
        }
      } else if (e.name.endsWith('.jsonl')) {
        const text = fs.readFileSync(p, 'utf8');
        if (text && !text.endsWith('\n')) problems.push(`${p}: no final newline (truncated)`);
        for (const line of text.split('\n').filter(Boolean)) {
          try {
            JSON.parse(line);
          } catch {
            problems.push(`${p}: a truncated line`);
            break;
          }
        }
      }
    }
  };
  walk(root);
  return problems;
}

/** Checks every guarded flow now (call before its folder is removed). */
export function verifyFlow(dir: string): void {
  const before = guarded.get(dir);
  if (!before || !fs.existsSync(dir)) return;
  guarded.delete(dir);
  const now = userFiles(dir);
  for (const [f, h] of before) if (now.get(f) !== h) lost.push(`${dir}/${f}: changed or gone`);
  lost.push(...checkResults(dir));
}

/**
 * Files the session still holds after a sync although the flow folder no longer has them: stale data a flow could
 * still import there and nowhere else. Each counts as data lost.
 */
export function recordStale(dir: string, stale: string[]): void {
  for (const f of stale) lost.push(`${dir}/${f}: gone from the flow folder, still in its session`);
}

export function summaryLine(): string {
  for (const dir of [...guarded.keys()]) verifyFlow(dir);
  const survived = faults.filter((c) => c.ok).length;
  const rejected = hostiles.filter((c) => c.ok).length;
  return `faults: ${survived} survived of ${faults.length}; hostile inputs: ${rejected} rejected of ${hostiles.length}; data lost: ${lost.length}`;
}

export function failures(): string[] {
  return [...faults, ...hostiles]
    .filter((c) => !c.ok)
    .map((c) => `${c.name}: ${c.detail ?? ''}`)
    .concat(lost.map((l) => `data lost: ${l}`));
}

// a root-level hook: runs once after every suite of the run, whichever files were selected
if (typeof after === 'function') {
  after(function () {
    if (faults.length + hostiles.length === 0) return;
    for (const f of failures()) process.stdout.write(`  ✗ ${f}\n`);
    process.stdout.write(`\n${summaryLine()}\n`);
  });
}
