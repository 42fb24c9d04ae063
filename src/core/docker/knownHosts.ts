import * as crypto from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

/** The names a host has in known_hosts: `host` on port 22, `[host]:port` otherwise. */
function hostNames(host: string, port: number): string[] {
  return port === 22 ? [host, `[${host}]:22`] : [`[${host}]:${port}`];
}

function matches(pattern: string, names: string[]): boolean {
  if (pattern.startsWith('|1|')) {
    // hashed entry: |1|base64(salt)|base64(HMAC-SHA1(salt, name))
    const [, , salt, hash] = pattern.split('|');
    if (!salt || !hash) return false;
    return names.some((n) => crypto.createHmac('sha1', Buffer.from(salt, 'base64')).update(n).digest('base64') === hash);
  }
  const list = pattern.split(',');
  if (list.some((p) => p.startsWith('!') && names.includes(p.slice(1)))) return false;
  return list.some((p) => names.includes(p));
}

/**
 * The host keys known for an ssh engine, from the user's known_hosts files (plain and hashed entries;
 * wildcard patterns and @cert-authority lines are not used). Each key is the raw blob ssh2 passes to its
 * host verifier.
 */
export function knownHostKeys(host: string, port: number, home: string = os.homedir()): Buffer[] {
  const names = hostNames(host, port);
  const keys: Buffer[] = [];
  for (const file of [path.join(home, '.ssh', 'known_hosts'), path.join(home, '.ssh', 'known_hosts2')]) {
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const raw of text.split('\n')) {
      const line = raw.trim();
      if (!line || line.startsWith('#') || line.startsWith('@')) continue;
      const [pattern, , blob] = line.split(/\s+/);
      if (pattern && blob && matches(pattern, names)) keys.push(Buffer.from(blob, 'base64'));
    }
  }
  return keys;
}

/** ssh2's hostVerifier: the server's key must be one known_hosts lists for it, as ssh's StrictHostKeyChecking. */
export function knownHostsVerifier(host: string, port: number, home?: string): (key: Buffer) => boolean {
  return (key: Buffer) => knownHostKeys(host, port, home).some((k) => k.equals(key));
}
