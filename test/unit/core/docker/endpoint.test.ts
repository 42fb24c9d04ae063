import * as assert from 'assert';
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { listContexts, resolveEndpoint } from '../../../../src/core/docker/endpoint';
import { FlowSessionError } from '../../../../src/core/errors';

function tempHome(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'fs-home-'));
}

function writeContext(home: string, name: string, host: string, tls = false): void {
  const digest = crypto.createHash('sha256').update(name).digest('hex');
  const meta = path.join(home, '.docker', 'contexts', 'meta', digest);
  fs.mkdirSync(meta, { recursive: true });
  fs.writeFileSync(
    path.join(meta, 'meta.json'),
    JSON.stringify({ Name: name, Metadata: {}, Endpoints: { docker: { Host: host, SkipTLSVerify: false } } }),
  );
  if (tls) {
    const dir = path.join(home, '.docker', 'contexts', 'tls', digest, 'docker');
    fs.mkdirSync(dir, { recursive: true });
    for (const f of ['ca.pem', 'cert.pem', 'key.pem']) fs.writeFileSync(path.join(dir, f), `${f} of ${name}`);
  }
}

describe('engine endpoint resolution', () => {
  it('prefers the setting, then DOCKER_HOST, then the current context, then the default socket', () => {
    const home = tempHome();
    writeContext(home, 'remote', 'tcp://10.9.8.7:2375');
    fs.writeFileSync(path.join(home, '.docker', 'config.json'), JSON.stringify({ currentContext: 'remote' }));
    const env = { DOCKER_HOST: 'unix:///run/user/1000/docker.sock' };
    assert.deepStrictEqual(resolveEndpoint({ dockerHost: 'unix:///custom.sock', env, homeDir: home }).options, {
      socketPath: '/custom.sock',
    });
    const fromEnv = resolveEndpoint({ env, homeDir: home });
    assert.strictEqual(fromEnv.source, 'DOCKER_HOST');
    assert.deepStrictEqual(fromEnv.options, { socketPath: '/run/user/1000/docker.sock' });
    const fromContext = resolveEndpoint({ env: {}, homeDir: home });
    assert.strictEqual(fromContext.context, 'remote');
    assert.deepStrictEqual(fromContext.options, { host: '10.9.8.7', port: 2375, protocol: 'http' });
    const fallback = resolveEndpoint({ env: {}, homeDir: tempHome(), platform: 'linux' });
    assert.strictEqual(fallback.source, 'default');
    assert.deepStrictEqual(fallback.options, { socketPath: '/var/run/docker.sock' });
  });

  it('uses TLS material from DOCKER_CERT_PATH with DOCKER_TLS_VERIFY', () => {
    const certs = tempHome();
    for (const f of ['ca.pem', 'cert.pem', 'key.pem']) fs.writeFileSync(path.join(certs, f), f);
    const ep = resolveEndpoint({
      env: { DOCKER_HOST: 'tcp://engine.example:2376', DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: certs },
      homeDir: tempHome(),
    });
    const o = ep.options as Record<string, unknown>;
    assert.strictEqual(o.protocol, 'https');
    assert.strictEqual(o.port, 2376);
    assert.strictEqual(String(o.ca), 'ca.pem');
    assert.strictEqual(String(o.key), 'key.pem');
  });

  it("reads a context's TLS files and lists contexts", () => {
    const home = tempHome();
    writeContext(home, 'secure', 'tcp://127.0.0.1:2376', true);
    writeContext(home, 'other', 'ssh://me@host');
    const ep = resolveEndpoint({ context: 'secure', env: {}, homeDir: home });
    assert.strictEqual((ep.options as Record<string, unknown>).protocol, 'https');
    assert.strictEqual(String((ep.options as Record<string, unknown>).cert), 'cert.pem of secure');
    assert.deepStrictEqual(
      listContexts(home)
        .map((c) => c.name)
        .sort(),
      ['other', 'secure'],
    );
  });

  it('maps ssh:// to the ssh transport with the agent', () => {
    const ep = resolveEndpoint({
      env: { DOCKER_HOST: 'ssh://alice@build-box:2222', SSH_AUTH_SOCK: '/tmp/agent.sock' },
      homeDir: tempHome(),
    });
    const { sshOptions, ...rest } = ep.options as { sshOptions: { hostVerifier?: unknown; agent?: string } };
    assert.deepStrictEqual(rest, { protocol: 'ssh', host: 'build-box', port: 2222, username: 'alice' });
    assert.strictEqual(sshOptions.agent, '/tmp/agent.sock');
    assert.strictEqual(typeof sshOptions.hostVerifier, 'function');
  });

  it('refuses an unknown scheme and a missing context with a remedy', () => {
    assert.throws(
      () => resolveEndpoint({ dockerHost: 'ftp://x', env: {} }),
      (e: unknown) => e instanceof FlowSessionError && e.kind === 'bad-input' && e.remedy.length > 0,
    );
    assert.throws(() => resolveEndpoint({ context: 'nope', env: {}, homeDir: tempHome() }), /context 'nope' was not found/);
  });
});
