import * as assert from 'assert';
import { compareApiVersions, engineError } from '../../../../src/core/docker/engineErrors';
import type { EngineEndpoint } from '../../../../src/core/docker/endpoint';

const local: EngineEndpoint = { host: 'unix:///var/run/docker.sock', source: 'default', options: {} };
const remote: EngineEndpoint = { host: 'tcp://10.0.0.5:2376', source: 'DOCKER_HOST', options: {} };

describe('engine errors a user can act on', () => {
  it('tells a missing socket, a refused connection, a permission problem and a timeout apart', () => {
    const missing = engineError(Object.assign(new Error('x'), { code: 'ENOENT' }), local);
    assert.ok(['engine-not-running', 'engine-not-installed'].includes(missing.kind));
    assert.ok(missing.engineUnreachable);
    assert.strictEqual(engineError({ code: 'EACCES' }, local).kind, 'engine-permission-denied');
    assert.match(engineError({ code: 'EACCES' }, local).remedy, /docker group/);
    const refused = engineError({ code: 'ECONNREFUSED' }, remote);
    assert.strictEqual(refused.kind, 'engine-not-running');
    assert.match(refused.remedy, /remote host/);
    assert.strictEqual(engineError({ code: 'engine-timeout' }, local).kind, 'engine-timeout');
  });

  it('names TLS and ssh authentication failures', () => {
    assert.match(
      engineError({ code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', message: 'unable to verify the first certificate' }, remote).message,
      /TLS verification/,
    );
    const ssh = engineError({ level: 'client-authentication', message: 'All configured authentication methods failed' }, remote);
    assert.strictEqual(ssh.kind, 'engine-permission-denied');
    assert.match(ssh.remedy, /ssh-add/);
  });

  it('recognises an engine too old for the client, and keeps other engine messages', () => {
    const old = engineError(
      { statusCode: 400, json: { message: 'client version 1.41 is too new. Maximum supported API version is 1.30' } },
      remote,
    );
    assert.strictEqual(old.kind, 'engine-api-too-old');
    const other = engineError(
      { statusCode: 409, json: { message: 'Conflict. The container name is already in use' } },
      local,
      'create a container',
    );
    assert.strictEqual(other.kind, 'engine-error');
    assert.strictEqual(other.message, 'Docker could not create a container: Conflict. The container name is already in use');
    assert.strictEqual(other.engineUnreachable, false);
  });

  it('compares API versions numerically', () => {
    assert.ok(compareApiVersions('1.41', '1.40') > 0);
    assert.ok(compareApiVersions('1.9', '1.40') < 0);
    assert.strictEqual(compareApiVersions('1.40', '1.40'), 0);
  });
});
