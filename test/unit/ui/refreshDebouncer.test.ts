import * as assert from 'assert';
import { RefreshDebouncer } from '../../../src/ui/refreshDebouncer';

describe('RefreshDebouncer', () => {
  it('delivers a burst once, and at least every maxWait during a long burst', () => {
    let now = 0;
    const timers: { at: number; fn: () => void }[] = [];
    const clock = {
      now: () => now,
      setTimeout: (fn: () => void, ms: number) => {
        const t = { at: now + ms, fn };
        timers.push(t);
        return t;
      },
      clearTimeout: (h: unknown) => {
        const i = timers.indexOf(h as { at: number; fn: () => void });
        if (i >= 0) timers.splice(i, 1);
      },
    };
    const advance = (ms: number) => {
      now += ms;
      for (const t of [...timers].filter((x) => x.at <= now)) {
        timers.splice(timers.indexOf(t), 1);
        t.fn();
      }
    };
    const batches: string[][] = [];
    const d = new RefreshDebouncer((k) => batches.push([...k].sort()), 100, 300, clock);
    d.signal('a');
    d.signal('b');
    d.signal('a');
    advance(100);
    assert.deepStrictEqual(batches, [['a', 'b']]);
    for (let i = 0; i < 10; i++) {
      d.signal('c');
      advance(50);
    }
    assert.ok(batches.length >= 2, 'a long burst still refreshes');
  });
});
