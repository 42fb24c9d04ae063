/** Flows and helpers the fault suite shares. */
import * as fs from 'fs';
import type { SessionManager } from '../../../src/core/session/sessionManager';
import { guardFlow, verifyFlow } from '../faults/tally';
import { makeFlow } from './fixtures';

/** One python node running `code` (the body of `def work(n: int) -> str`). */
export function toolFlow(code: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    'flow.dag.yaml': `inputs:
  n:
    type: int
    default: 1
outputs:
  out:
    type: string
    reference: \${work.output}
nodes:
- name: work
  type: python
  source: {type: code, path: work.py}
  inputs:
    n: \${inputs.n}
`,
    'work.py': `from promptflow import tool


@tool
def work(n: int) -> str:
${code
  .split('\n')
  .map((l) => `    ${l}`)
  .join('\n')}
`,
    ...extra,
  };
}

export const SLEEPY_FLOW = toolFlow('import time\nprint("sleeping", n)\ntime.sleep(n)\nreturn "slept %d" % n');

/** Makes flow folders that are guarded for lost data and removed (sessions too) at the end. */
export class FlowJar {
  private readonly dirs: string[] = [];

  make(files: Record<string, string>): string {
    const d = guardFlow(makeFlow(files, 'flowsession-fault-'));
    this.dirs.push(d);
    return d;
  }

  async dispose(managers: SessionManager[]): Promise<void> {
    for (const d of this.dirs) {
      for (const m of managers) await m.remove(d).catch(() => undefined);
      verifyFlow(d);
      fs.rmSync(d, { recursive: true, force: true });
    }
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Polls until `probe` is true, bounded in time; throws with `what` when it never is. */
export async function until(what: string, ms: number, probe: () => boolean | Promise<boolean>, everyMs = 100): Promise<void> {
  const deadline = Date.now() + ms;
  for (let i = 0; Date.now() < deadline && i < 100_000; i++) {
    if (await Promise.resolve(probe()).catch(() => false)) return;
    await sleep(everyMs);
  }
  throw new Error(`timed out after ${ms} ms waiting for ${what}`);
}

/** Settles within ms or throws (a promise that waits forever is a failure). */
export async function within<T>(what: string, ms: number, p: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
