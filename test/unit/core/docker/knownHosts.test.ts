import * as assert from 'assert';
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { knownHostKeys, knownHostsVerifier } from '../../../../src/core/docker/knownHosts';

describe('ssh host keys from known_hosts', () => {
  const keyA = Buffer.from('key-a-blob');
  const keyB = Buffer.from('key-b-blob');
  const hashed = (name: string) => {
    const salt = crypto.randomBytes(20);
    return `|1|${salt.toString('base64')}|${crypto.createHmac('sha1', salt).update(name).digest('base64')}`;
  };
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'fs-kh-'));
  fs.mkdirSync(path.join(home, '.ssh'));
  fs.writeFileSync(
    path.join(home, '.ssh', 'known_hosts'),
    [
      '# comment',
      `build-box,10.1.2.3 ssh-ed25519 ${keyA.toString('base64')}`,
      `${hashed('[gpu.example]:2222')} ssh-ed25519 ${keyB.toString('base64')}`,
      `@cert-authority *.example ssh-ed25519 ${keyB.toString('base64')}`,
      `*.wild ssh-ed25519 ${keyB.toString('base64')}`,
    ].join('\n'),
  );

  it('finds plain and hashed entries, by host and port', () => {
    assert.deepStrictEqual(knownHostKeys('build-box', 22, home), [keyA]);
    assert.deepStrictEqual(knownHostKeys('10.1.2.3', 22, home), [keyA]);
    assert.deepStrictEqual(knownHostKeys('build-box', 2222, home), [], 'another port is another host');
    assert.deepStrictEqual(knownHostKeys('gpu.example', 2222, home), [keyB]);
    assert.deepStrictEqual(knownHostKeys('x.wild', 22, home), [], 'wildcards and CA lines are not trusted here');
  });

  it('accepts only the listed key', () => {
    assert.strictEqual(knownHostsVerifier('build-box', 22, home)(keyA), true);
    assert.strictEqual(knownHostsVerifier('build-box', 22, home)(keyB), false);
    assert.strictEqual(knownHostsVerifier('unknown', 22, home)(keyA), false);
  });
});
