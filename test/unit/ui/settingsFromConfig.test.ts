import * as assert from 'assert';
import * as path from 'path';
import { settingsFromConfig } from '../../../src/ui/settingsFromConfig';

describe('settingsFromConfig', () => {
  it('reads flowsession.* with defaults and the test overrides', () => {
    const cfg: Record<string, unknown> = {
      dockerHost: ' tcp://h:2375 ',
      cpus: 1,
      memoryMb: -5,
      'pip.extraIndexUrl': ['a', '', 3],
      engine: 'remote',
      registry: 'reg.io/x/',
      autoStartSession: true,
    };
    const s = settingsFromConfig((k) => cfg[k] as never, {
      FLOWSESSION_BASE_IMAGE: 'flowsession-test/base:bookworm',
      FLOWSESSION_EXTRA_LABELS: 'flowsession.test=e2e,x=y',
    });
    assert.strictEqual(s.session.dockerHost, 'tcp://h:2375');
    assert.strictEqual(s.session.cpus, 1);
    assert.strictEqual(s.session.memoryMb, 4096, 'negative falls back');
    assert.deepStrictEqual(s.session.pip.extraIndexUrl, ['a']);
    assert.deepStrictEqual(s.session.extraLabels, { 'flowsession.test': 'e2e', x: 'y' });
    assert.strictEqual(s.baseImageOverride, 'flowsession-test/base:bookworm');
    assert.strictEqual(s.context, 'remote');
    assert.strictEqual(s.registry, 'reg.io/x');
    assert.strictEqual(s.autoStartSession, true);
  });
  it("lets the test world's FLOWSESSION_* variables win, as the CLI does", () => {
    const s = settingsFromConfig((k) => (({ network: 'bridge', cpus: 2 }) as Record<string, unknown>)[k] as never, {
      FLOWSESSION_NETWORK: 'host',
      FLOWSESSION_CPUS: '1',
      FLOWSESSION_MEMORY_MB: '1024',
      FLOWSESSION_PIP_NO_INDEX: '1',
      FLOWSESSION_PIP_FIND_LINKS: 'http://127.0.0.1:9/',
    });
    assert.strictEqual(s.session.network, 'host');
    assert.strictEqual(s.session.cpus, 1);
    assert.strictEqual(s.session.memoryMb, 1024);
    assert.strictEqual(s.session.pip.noIndex, true);
    assert.deepStrictEqual(s.session.pip.findLinks, ['http://127.0.0.1:9/']);
  });
  it('reads the allowed include roots from the setting, then FLOWSESSION_ALLOWED_INCLUDE_ROOTS', () => {
    const s = settingsFromConfig((k) => (k === 'allowedIncludeRoots' ? ['~/shared', ' ', 7] : undefined) as never, {
      FLOWSESSION_ALLOWED_INCLUDE_ROOTS: ['/data', '/more'].join(path.delimiter),
    });
    assert.deepStrictEqual(s.allowedIncludeRoots, ['~/shared', '/data', '/more']);
  });
  it('lets FLOWSESSION_DEFAULT_BASE_IMAGE replace the default base image, never one the user set', () => {
    const env = { FLOWSESSION_DEFAULT_BASE_IMAGE: 'flowsession-test/base:bookworm' };
    const unset = settingsFromConfig(
      (k) => (({ baseImage: 'python:3.11-slim' }) as Record<string, unknown>)[k] as never,
      env,
      () => false,
    );
    assert.strictEqual(unset.session.baseImage, 'flowsession-test/base:bookworm');
    assert.strictEqual(unset.defaultBaseImageFromEnv, 'flowsession-test/base:bookworm');
    const set = settingsFromConfig(
      (k) => (({ baseImage: 'mine:1' }) as Record<string, unknown>)[k] as never,
      env,
      (k) => k === 'baseImage',
    );
    assert.strictEqual(set.session.baseImage, 'mine:1');
    assert.strictEqual(set.defaultBaseImageFromEnv, undefined);
  });
  it('gives the core defaults for an empty configuration', () => {
    const s = settingsFromConfig(() => undefined, {});
    assert.strictEqual(s.session.baseImage, 'python:3.11-slim');
    assert.strictEqual(s.session.network, 'bridge');
    assert.strictEqual(s.baseImageOverride, undefined);
    assert.strictEqual(s.autoStartSession, false);
  });
});
