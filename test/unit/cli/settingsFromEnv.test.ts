import * as assert from 'assert';
import { settingsFromEnv } from '../../../src/cli/settingsFromEnv';

describe("the CLI's settings from the environment", () => {
  it("reads FLOWSESSION_* variables over the extension's defaults", () => {
    const s = settingsFromEnv(
      {
        FLOWSESSION_CPUS: '1.5',
        FLOWSESSION_MEMORY_MB: 'lots',
        FLOWSESSION_PIP_FIND_LINKS: 'http://a/ http://b/',
        FLOWSESSION_PIP_NO_INDEX: 'true',
        FLOWSESSION_EXTRA_LABELS: 'team=ml,flowsession.test=r1',
      },
      { dockerHost: 'tcp://h:2375' },
    );
    assert.strictEqual(s.cpus, 1.5);
    assert.strictEqual(s.memoryMb, 4096, 'a bad number keeps the default');
    assert.deepStrictEqual(s.pip.findLinks, ['http://a/', 'http://b/']);
    assert.strictEqual(s.pip.noIndex, true);
    assert.deepStrictEqual(s.extraLabels, { team: 'ml', 'flowsession.test': 'r1' });
    assert.strictEqual(s.dockerHost, 'tcp://h:2375');
  });
});
