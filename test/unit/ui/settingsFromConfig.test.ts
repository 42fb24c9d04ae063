import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { connectionSpec, checkApiBase, checkConnectionName, upsertConnection } from '../../../src/ui/connectionSpec';
import { flowDirOf, savedFileOfFlow } from '../../../src/ui/flowLocator';
import { RefreshDebouncer } from '../../../src/ui/refreshDebouncer';
import { settingsFromConfig } from '../../../src/ui/settingsFromConfig';
import { contextValueOf, describeState, isStateChange } from '../../../src/ui/stateView';

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

describe('connections', () => {
  it('puts the key where each connection type expects it', () => {
    assert.deepStrictEqual(
      connectionSpec({ name: 'c', type: 'AzureOpenAIConnection', api_base: 'https://x.openai.azure.com/', api_version: '2024-02-01' }, 'k'),
      { type: 'AzureOpenAIConnection', api_key: 'k', api_base: 'https://x.openai.azure.com/', api_version: '2024-02-01' },
    );
    assert.deepStrictEqual(connectionSpec({ name: 'c', type: 'OpenAIConnection', api_base: 'http://localhost:1234/v1' }, 'k'), {
      type: 'OpenAIConnection',
      api_key: 'k',
      api_base: 'http://localhost:1234/v1',
      base_url: 'http://localhost:1234/v1',
    });
    assert.deepStrictEqual(connectionSpec({ name: 'c', type: 'CustomConnection' }, 'k'), {
      type: 'CustomConnection',
      secrets: { api_key: 'k' },
      configs: {},
    });
  });
  it('validates names and endpoints', () => {
    assert.strictEqual(checkConnectionName('open_ai_connection'), undefined);
    assert.ok(checkConnectionName('bad name'));
    assert.ok(checkApiBase('', true));
    assert.strictEqual(checkApiBase('', false), undefined);
    assert.ok(checkApiBase('ftp://x', false));
    assert.strictEqual(checkApiBase('https://x.openai.azure.com/', true), undefined);
  });
  it('replaces a connection by name', () => {
    const l = upsertConnection(upsertConnection([], { name: 'b', type: 'OpenAIConnection' }), { name: 'a', type: 'CustomConnection' });
    assert.deepStrictEqual(
      upsertConnection(l, { name: 'b', type: 'CustomConnection' }).map((c) => `${c.name}:${c.type}`),
      ['a:CustomConnection', 'b:CustomConnection'],
    );
  });
});

describe('flowLocator', () => {
  let root: string;
  before(() => {
    root = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'fs-loc-')));
    fs.mkdirSync(path.join(root, 'flow', 'lib'), { recursive: true });
    fs.writeFileSync(path.join(root, 'flow', 'flow.dag.yaml'), 'nodes: []\n');
  });
  after(() => fs.rmSync(root, { recursive: true, force: true }));

  it('finds the nearest flow folder up from a file', () => {
    assert.strictEqual(flowDirOf(path.join(root, 'flow', 'lib', 'x.py')), path.join(root, 'flow'));
    assert.strictEqual(flowDirOf(path.join(root, 'flow', 'flow.dag.yaml')), path.join(root, 'flow'));
    assert.strictEqual(flowDirOf(path.join(root, 'other.py'), root), undefined);
  });
  it('re-validates on flow.dag.yaml, python and jinja sources only', () => {
    const f = path.join(root, 'flow');
    assert.strictEqual(savedFileOfFlow(path.join(f, 'flow.dag.yaml'), f), 'flow.dag.yaml');
    assert.strictEqual(savedFileOfFlow(path.join(f, 'lib', 'x.py'), f), 'lib/x.py');
    assert.strictEqual(savedFileOfFlow(path.join(f, 'p.jinja2'), f), 'p.jinja2');
    assert.strictEqual(savedFileOfFlow(path.join(f, 'README.md'), f), undefined);
    assert.strictEqual(savedFileOfFlow(path.join(f, '.promptflow', 'x.py'), f), undefined);
    assert.strictEqual(savedFileOfFlow(path.join(root, 'x.py'), f), undefined);
  });
});

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

describe('stateView', () => {
  it('describes states with phase and outdated mark, and gives menu context values', () => {
    assert.strictEqual(describeState({ state: 'creating', phase: 'building', outdated: false }), 'creating: building');
    assert.strictEqual(describeState({ state: 'ready', outdated: true }), 'ready · outdated');
    assert.strictEqual(contextValueOf({ state: 'not-created', outdated: false }), 'flowsession.flow state:not-created');
    assert.strictEqual(contextValueOf({ state: 'ready', outdated: true }), 'flowsession.flow state:ready outdated');
  });
  it('ignores exec and copy events that do not change a session', () => {
    assert.ok(isStateChange('start'));
    assert.ok(isStateChange('phase:building'));
    assert.ok(!isStateChange('exec_start: python3 -m x'));
    assert.ok(!isStateChange('extract-to-dir'));
  });
});
