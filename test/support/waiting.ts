/**
 * The one way tests wait: poll a condition until it holds, or bound a promise, each within a limit and
 * naming what it waits for. Only timers: the extension-host suites bundle this module too.
 */

/** A wait that ran out of time: names what was awaited and, for a poll, what the last check threw. */
export class WaitTimeout extends Error {
  constructor(
    readonly what: string,
    readonly limitMs: number,
    lastError?: string,
  ) {
    super(`timed out after ${limitMs} ms waiting for ${what}${lastError ? ` (last: ${lastError})` : ''}`);
    this.name = 'WaitTimeout';
  }
}

/** What a check gives while the condition does not hold yet. */
type NotYet = undefined | null | false;

/**
 * Checks `check` until it gives a value other than undefined, null or false, and returns that value; throws
 * a WaitTimeout after `limitMs`. A check that throws counts as not yet; its message goes into the timeout, so
 * a check may throw to say what it saw.
 */
export async function waitUntil<T>(
  what: string,
  limitMs: number,
  check: () => T | NotYet | Promise<T | NotYet>,
  everyMs = 100,
): Promise<T> {
  const deadline = Date.now() + limitMs;
  let lastError: string | undefined;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined && value !== null && value !== false) return value;
    } catch (e) {
      lastError = e instanceof Error ? e.message : String(e);
    }
    const left = deadline - Date.now();
    if (left <= 0) throw new WaitTimeout(what, limitMs, lastError);
    await sleep(Math.min(everyMs, left));
  }
}

/** Settles as `p` does, or throws a WaitTimeout after `limitMs`: a promise that never settles fails instead of hanging. */
export async function within<T>(what: string, limitMs: number, p: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new WaitTimeout(what, limitMs)), limitMs);
  });
  try {
    return await Promise.race([p, limit]);
  } finally {
    clearTimeout(timer);
  }
}

/** A deliberate pause, for tests that time what they do (a fault at a moment); never a way to wait for something. */
export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
