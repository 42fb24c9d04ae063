import * as assert from 'assert';
import { spawnSync } from 'child_process';
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import {
  engineName,
  keyIsEncrypted,
  modemOptions,
  resolveEndpoint,
  resolveEngineSpec,
  sshConfigFor,
} from '../../../../src/core/docker/endpoint';
import { engineError } from '../../../../src/core/docker/engineErrors';
import type { EngineEndpoint } from '../../../../src/core/docker/endpoint';
import { parseEngineList } from '../../../../src/cli/multiBatch';

const tls: EngineEndpoint = {
  host: 'tcp://build-box:2376',
  source: 'DOCKER_HOST',
  options: { host: 'build-box', port: 2376, protocol: 'https' },
};
const plain: EngineEndpoint = {
  host: 'tcp://build-box:2375',
  source: 'setting',
  options: { host: 'build-box', port: 2375, protocol: 'http' },
};
const ssh: EngineEndpoint = {
  host: 'ssh://alice@build-box:2222',
  source: 'context remote',
  context: 'remote',
  options: { protocol: 'ssh', host: 'build-box', port: 2222, username: 'alice' } as never,
};

function tempHome(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'fs-remote-home-'));
}

describe('remote engine errors', () => {
  it('host unreachable: names the address and what to check per transport', () => {
    const tcp = engineError({ code: 'ECONNREFUSED' }, plain);
    assert.strictEqual(tcp.kind, 'engine-not-running');
    assert.strictEqual(tcp.detail, 'unreachable');
    assert.match(tcp.message, /tcp:\/\/build-box:2375 \(setting\) is not reachable \(ECONNREFUSED\)/);
    assert.match(tcp.remedy, /dockerd -H tcp|firewall/);
    const overSsh = engineError({ code: 'ECONNREFUSED', level: 'client-socket' }, ssh);
    assert.strictEqual(overSsh.kind, 'engine-not-running');
    assert.match(overSsh.remedy, /ssh alice@build-box -p 2222 docker version/);
    assert.ok(engineError({ code: 'EHOSTUNREACH' }, tls).engineUnreachable);
    assert.strictEqual(
      engineError({ level: 'client-timeout', message: 'Timed out while waiting for handshake' }, ssh).kind,
      'engine-timeout',
    );
  });

  it('TLS: an untrusted engine certificate, a refused client certificate, TLS against a plain port, plain against TLS', () => {
    for (const code of [
      'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
      'SELF_SIGNED_CERT_IN_CHAIN',
      'DEPTH_ZERO_SELF_SIGNED_CERT',
      'ERR_TLS_CERT_ALTNAME_INVALID',
      'CERT_HAS_EXPIRED',
    ]) {
      const e = engineError({ code, message: 'x' }, tls);
      assert.strictEqual(e.detail, 'tls-server', code);
      assert.match(e.message, /TLS verification with the Docker engine at tcp:\/\/build-box:2376/);
      assert.match(e.remedy, /ca\.pem/);
    }
    const refused = engineError(
      { code: 'ECONNRESET', message: 'write EPROTO 4057:error:0A000412:SSL routines:ssl3_read_bytes:sslv3 alert bad certificate' },
      tls,
    );
    assert.strictEqual(refused.detail, 'tls-client');
    assert.match(refused.remedy, /cert\.pem and key\.pem/);
    const required = engineError({ code: 'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED', message: 'tlsv13 alert certificate required' }, tls);
    assert.strictEqual(required.detail, 'tls-client');
    const wrongPort = engineError({ code: 'EPROTO', message: 'SSL routines:ssl3_get_record:wrong version number' }, tls);
    assert.match(wrongPort.remedy, /does not speak TLS/);
    const needsTls = engineError({ statusCode: 400, message: 'Client sent an HTTP request to an HTTPS server.' }, plain);
    assert.strictEqual(needsTls.detail, 'tls-required');
    assert.match(needsTls.remedy, /DOCKER_TLS_VERIFY=1 and DOCKER_CERT_PATH/);
  });

  it('ssh: authentication failed, and a host that will not hand over its engine', () => {
    const auth = engineError({ level: 'client-authentication', message: 'All configured authentication methods failed' }, ssh);
    assert.strictEqual(auth.kind, 'engine-permission-denied');
    assert.strictEqual(auth.detail, 'ssh-auth');
    assert.match(auth.remedy, /ssh-add/);
    assert.match(auth.remedy, /id_ed25519/);
    assert.match(auth.remedy, /ssh alice@build-box -p 2222 docker version/);
    const noDocker = engineError({ message: 'socket hang up', code: 'ECONNRESET' }, ssh);
    assert.strictEqual(noDocker.detail, 'ssh-dial-stdio');
    assert.match(noDocker.remedy, /docker group/);
  });

  it('remote engine too old: says which API it needs', () => {
    const old = engineError(
      { statusCode: 400, json: { message: 'client version 1.41 is too new. Maximum supported API version is 1.38' } },
      ssh,
    );
    assert.strictEqual(old.kind, 'engine-api-too-old');
    assert.match(old.message, /ssh:\/\/alice@build-box:2222/);
    assert.match(old.remedy, /API 1\.40 or newer/);
    assert.strictEqual(old.engineUnreachable, false);
  });
});

describe('remote engine endpoints', () => {
  it('ssh: reads ~/.ssh/config (HostName, User, Port, IdentityFile) as ssh would', () => {
    const config = `
Host *.lab
  User builder
Host gpu-box
  HostName 10.1.2.3
  Port 2200
  IdentityFile ~/.ssh/gpu_key
Host *
  User fallback
  Port 22
`;
    assert.deepStrictEqual(sshConfigFor('gpu-box', '/h', config), {
      hostName: '10.1.2.3',
      port: 2200,
      identityFile: '~/.ssh/gpu_key',
      user: 'fallback',
    });
    assert.deepStrictEqual(sshConfigFor('a.lab', '/h', config), { user: 'builder', port: 22 });
    const home = tempHome();
    fs.mkdirSync(path.join(home, '.ssh'));
    fs.writeFileSync(path.join(home, '.ssh', 'config'), config);
    fs.writeFileSync(
      path.join(home, '.ssh', 'gpu_key'),
      '-----BEGIN OPENSSH PRIVATE KEY-----\nnot really\n-----END OPENSSH PRIVATE KEY-----\n',
    );
    const ep = resolveEndpoint({ dockerHost: 'ssh://gpu-box', env: {}, homeDir: home });
    const o = ep.options as { host: string; port: number; username: string; sshOptions: { privateKey?: Buffer; agent?: string } };
    assert.strictEqual(o.host, '10.1.2.3');
    assert.strictEqual(o.port, 2200);
    assert.strictEqual(o.username, 'fallback');
    assert.ok(o.sshOptions.privateKey?.toString().includes('not really'));
  });

  it('ssh: offers the default identity without an agent, skips keys that need a passphrase', () => {
    const home = tempHome();
    const dir = path.join(home, '.ssh');
    fs.mkdirSync(dir);
    const have = spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', 'secret', '-f', path.join(dir, 'id_ed25519')]).status === 0;
    if (have) {
      assert.ok(keyIsEncrypted(fs.readFileSync(path.join(dir, 'id_ed25519'), 'utf8')));
      spawnSync('ssh-keygen', ['-q', '-t', 'rsa', '-b', '2048', '-N', '', '-f', path.join(dir, 'id_rsa')]);
      assert.ok(!keyIsEncrypted(fs.readFileSync(path.join(dir, 'id_rsa'), 'utf8')));
      const ep = resolveEndpoint({ dockerHost: 'ssh://me@host', env: {}, homeDir: home });
      const key = (ep.options as { sshOptions: { privateKey?: Buffer } }).sshOptions.privateKey;
      assert.deepStrictEqual(key, fs.readFileSync(path.join(dir, 'id_rsa')), 'the passphrase-protected id_ed25519 is skipped for id_rsa');
      const withAgent = resolveEndpoint({ dockerHost: 'ssh://me@host', env: { SSH_AUTH_SOCK: '/tmp/a.sock' }, homeDir: home });
      const { hostVerifier, ...rest } = (withAgent.options as { sshOptions: { hostVerifier?: unknown } }).sshOptions;
      assert.deepStrictEqual(rest, { agent: '/tmp/a.sock' });
      assert.strictEqual(typeof hostVerifier, 'function', 'host keys are checked against known_hosts');
    }
    const { privateKey } = crypto.generateKeyPairSync('rsa', {
      modulusLength: 1024,
      privateKeyEncoding: { type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'x' },
      publicKeyEncoding: { type: 'spki', format: 'pem' },
    });
    assert.ok(keyIsEncrypted(privateKey));
  });

  it('engine specs: an address or a context name, "default" for the local engine', () => {
    const home = tempHome();
    const digest = crypto.createHash('sha256').update('gpu').digest('hex');
    fs.mkdirSync(path.join(home, '.docker', 'contexts', 'meta', digest), { recursive: true });
    fs.writeFileSync(
      path.join(home, '.docker', 'contexts', 'meta', digest, 'meta.json'),
      JSON.stringify({ Name: 'gpu', Endpoints: { docker: { Host: 'tcp://10.0.0.9:2375' } } }),
    );
    const env = { DOCKER_HOST: 'tcp://elsewhere:2375' };
    const ctx = resolveEngineSpec('gpu', { env, homeDir: home });
    assert.strictEqual(ctx.context, 'gpu');
    assert.strictEqual(ctx.host, 'tcp://10.0.0.9:2375');
    assert.strictEqual(engineName(ctx), 'gpu');
    const local = resolveEngineSpec('default', { env, homeDir: home, platform: 'linux' });
    assert.strictEqual(local.host, 'unix:///var/run/docker.sock');
    const addr = resolveEngineSpec('10.0.0.7:2376', { env: {}, homeDir: home });
    assert.deepStrictEqual(addr.options, { host: '10.0.0.7', port: 2376, protocol: 'http' });
    assert.strictEqual(engineName(addr), '10.0.0.7:2376');
    assert.throws(() => resolveEngineSpec('nosuch', { env: {}, homeDir: home }), /context 'nosuch' was not found/);
    assert.deepStrictEqual(parseEngineList('a, b,a,,tcp://h:1'), ['a', 'b', 'tcp://h:1']);
  });

  it('modem options name every connection field, so the process environment never leaks into a chosen engine', () => {
    const o = modemOptions({ socketPath: '/var/run/docker.sock' }) as Record<string, unknown>;
    assert.ok('host' in o && o.host === undefined);
    assert.ok('ca' in o && o.ca === undefined);
    assert.strictEqual(o.socketPath, '/var/run/docker.sock');
  });
});
