import * as assert from 'assert';
import type { ContainerDetails, ContainerSummary } from '../../../../src/core/docker/engine';
import { runtimeVersion } from '../../../../src/core/image/runtimeFiles';
import { SESSION_LABELS, contentHash } from '../../../../src/core/session/labels';
import { isOutdated, sessionStatus, type SessionFacts } from '../../../../src/core/session/sessionStatus';

const facts: SessionFacts = { flowDir: '/flows/a', key: 'k1', engine: 'local' };
const labels = {
  [SESSION_LABELS.session]: 'k1',
  [SESSION_LABELS.env]: 'env1',
  [SESSION_LABELS.base]: 'python:3.11-slim',
  [SESSION_LABELS.runtimeVersion]: 'rt1',
};

function summary(state: string, status?: string): ContainerSummary {
  return { id: 'c1', name: 'flowsession-k1', image: 'flowsession-env:env1', state, status, labels };
}

function details(state: string, more: Partial<ContainerDetails> = {}): ContainerDetails {
  return {
    ...summary(state),
    running: state === 'running',
    exitCode: 0,
    startedAt: '',
    finishedAt: '',
    oomKilled: false,
    user: '10001:10001',
    imageId: 'sha256:1',
    hostConfig: { capDrop: [], securityOpt: [], nanoCpus: 0, memory: 0, init: true, networkMode: 'bridge', binds: [] },
    ...more,
  };
}

describe('session status from its container', () => {
  it('is not-created without a container', () => {
    assert.deepStrictEqual(sessionStatus(undefined, facts), {
      flowDir: '/flows/a',
      key: 'k1',
      state: 'not-created',
      outdated: false,
      engine: 'local',
    });
  });

  it('is failed with the reason when this process failed to create it and there is no container', () => {
    const s = sessionStatus(undefined, { ...facts, failure: 'pull failed' });
    assert.strictEqual(s.state, 'failed');
    assert.strictEqual(s.reason, 'pull failed');
  });

  it('shows what the container carries, whatever its state', () => {
    const s = sessionStatus(details('running'), facts);
    assert.strictEqual(s.container, 'c1');
    assert.strictEqual(s.containerName, 'flowsession-k1');
    assert.strictEqual(s.image, 'flowsession-env:env1');
    assert.strictEqual(s.env, 'env1');
    assert.strictEqual(s.baseImage, 'python:3.11-slim');
    assert.strictEqual(s.runtimeVersion, 'rt1');
    assert.strictEqual(s.engine, 'local');
  });

  for (const [name, container] of [
    ['details', details('running')],
    ['a list entry', summary('running', 'Up 2 minutes')],
  ] as const) {
    it(`is ready for a running container (${name})`, () => {
      const s = sessionStatus(container, facts);
      assert.strictEqual(s.state, 'ready');
      assert.strictEqual(s.exitCode, undefined);
    });
  }

  for (const [name, container] of [
    ['details', details('removing')],
    ['a list entry', summary('removing', 'Removal In Progress')],
  ] as const) {
    it(`is stopping for a container being removed (${name})`, () => {
      assert.strictEqual(sessionStatus(container, facts).state, 'stopping');
    });
  }

  for (const state of ['exited', 'created', 'dead']) {
    it(`is stopped for a container in state ${state}`, () => {
      const s = sessionStatus(details(state, { exitCode: 3 }), facts);
      assert.strictEqual(s.state, 'stopped');
      assert.strictEqual(s.exitCode, 3);
      assert.strictEqual(s.reason, undefined);
    });
  }

  it('reads the exit code of a list entry from its status text', () => {
    assert.strictEqual(sessionStatus(summary('exited', 'Exited (137) 2 minutes ago'), facts).exitCode, 137);
    assert.strictEqual(sessionStatus(summary('exited', 'Exited (-1) 1 second ago'), facts).exitCode, -1);
    assert.strictEqual(sessionStatus(summary('created', 'Created'), facts).exitCode, 0);
  });

  it('says a container killed for memory ran out of it', () => {
    const s = sessionStatus(details('exited', { exitCode: 137, oomKilled: true }), facts);
    assert.strictEqual(s.state, 'stopped');
    assert.match(s.reason ?? '', /ran out of memory/);
  });

  it('shows an operation of this process over the container state, with its phase', () => {
    const s = sessionStatus(details('running'), { ...facts, operation: { state: 'busy', phase: 'installing' } });
    assert.strictEqual(s.state, 'busy');
    assert.strictEqual(s.phase, 'installing');
    const creating = sessionStatus(undefined, { ...facts, operation: { state: 'creating', phase: 'pulling' }, failure: 'old' });
    assert.strictEqual(creating.state, 'creating');
    assert.strictEqual(creating.reason, undefined);
  });

  it('ignores an old failure while the container exists', () => {
    assert.strictEqual(sessionStatus(details('running'), { ...facts, failure: 'old' }).state, 'ready');
  });

  it('carries the outdated flag only with a container', () => {
    assert.strictEqual(sessionStatus(details('running'), { ...facts, outdated: true }).outdated, true);
    assert.strictEqual(sessionStatus(undefined, { ...facts, outdated: true }).outdated, false);
  });
});

describe('an outdated session', () => {
  const current = {
    [SESSION_LABELS.base]: 'python:3.11-slim',
    [SESSION_LABELS.requirements]: contentHash('requests\n'),
    [SESSION_LABELS.runtimeVersion]: runtimeVersion(),
  };

  it('is current while base image, requirements and runtime match', () => {
    assert.strictEqual(isOutdated(current, 'python:3.11-slim', 'requests\r\n'), false);
  });

  it('is outdated when the base image, the requirements or the runtime changed', () => {
    assert.strictEqual(isOutdated(current, 'python:3.12-slim', 'requests\n'), true);
    assert.strictEqual(isOutdated(current, 'python:3.11-slim', 'requests==2.0\n'), true);
    assert.strictEqual(isOutdated({ ...current, [SESSION_LABELS.runtimeVersion]: 'old' }, 'python:3.11-slim', 'requests\n'), true);
  });
});
