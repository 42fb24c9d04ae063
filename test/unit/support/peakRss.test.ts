import * as assert from 'assert';
import { spawnSync } from 'child_process';
import { peakRssEnv, peakRssMb } from '../../support/peakRss';

describe('the peak memory a CLI process reports', () => {
  it("is the child's own, not the resident size of the process that started it", () => {
    // a test process that grew (as the integration suite's does): a forked child starts with its pages
    const held = Array.from({ length: 120 }, () => Buffer.alloc(1024 * 1024, 1));
    const r = spawnSync(process.execPath, ['-e', ''], { env: { ...process.env, ...peakRssEnv() }, encoding: 'utf8' });
    assert.strictEqual(r.status, 0, r.stderr);
    const peak = peakRssMb(r.stderr);
    assert.ok(peak > 10 && peak < 80, `an empty node process reported ${peak.toFixed(0)} MB, its parent holding ${held.length} MB`);
  });
});
