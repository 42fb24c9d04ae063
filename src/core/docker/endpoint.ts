import * as crypto from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { DockerOptions } from 'dockerode';
import { FlowSessionError } from '../errors';
import { knownHostsVerifier } from './knownHosts';

/** Where the engine is and how it was chosen, for `doctor`, the status bar and error messages. */
export interface EngineEndpoint {
  /** the address, e.g. unix:///var/run/docker.sock, tcp://host:2376, ssh://user@host */
  host: string;
  /** how it was chosen: setting, DOCKER_HOST, context <name>, default */
  source: string;
  /** Docker context name when one was used */
  context?: string;
  options: DockerOptions;
}

export interface EndpointInputs {
  /** the flowsession.dockerHost setting or --docker-host */
  dockerHost?: string;
  /** a Docker context chosen explicitly (flowsession.engine) */
  context?: string;
  env?: NodeJS.ProcessEnv;
  homeDir?: string;
  platform?: NodeJS.Platform;
}

interface TlsFiles {
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
}

const DEFAULT_UNIX_SOCKET = '/var/run/docker.sock';
const DEFAULT_NPIPE = '//./pipe/docker_engine';

/** Resolves the engine as the Docker CLI does: explicit host, DOCKER_HOST, context, platform default. */
export function resolveEndpoint(inputs: EndpointInputs = {}): EngineEndpoint {
  const env = inputs.env ?? process.env;
  const home = inputs.homeDir ?? os.homedir();
  const platform = inputs.platform ?? process.platform;
  const tlsFromEnv = (): TlsFiles | undefined => {
    const verify = !!env.DOCKER_TLS_VERIFY && env.DOCKER_TLS_VERIFY !== '0';
    const certPath = env.DOCKER_CERT_PATH || (verify ? path.join(home, '.docker') : undefined);
    return certPath ? readTls(certPath) : undefined;
  };

  if (inputs.dockerHost && inputs.dockerHost.trim()) {
    return fromHost(inputs.dockerHost.trim(), 'setting', tlsFromEnv(), env, false, home);
  }
  if (!inputs.context && env.DOCKER_HOST && env.DOCKER_HOST.trim()) {
    return fromHost(env.DOCKER_HOST.trim(), 'DOCKER_HOST', tlsFromEnv(), env, false, home);
  }
  const contextName = inputs.context || env.DOCKER_CONTEXT || currentContext(home);
  if (contextName && contextName !== 'default') {
    const ctx = readContext(home, contextName);
    if (!ctx) {
      throw new FlowSessionError(
        'engine-not-running',
        `Docker context '${contextName}' was not found.`,
        'Run `docker context ls` to see the contexts, or choose another engine.',
      );
    }
    const endpoint = fromHost(ctx.host, `context ${contextName}`, ctx.tls, env, ctx.skipTlsVerify, home);
    return { ...endpoint, context: contextName };
  }
  const host = platform === 'win32' ? `npipe://${DEFAULT_NPIPE}` : `unix://${DEFAULT_UNIX_SOCKET}`;
  return fromHost(host, 'default', undefined, env);
}

function fromHost(
  host: string,
  source: string,
  tls: TlsFiles | undefined,
  env: NodeJS.ProcessEnv,
  skipVerify = false,
  home: string = os.homedir(),
): EngineEndpoint {
  let url: URL;
  try {
    url = new URL(host.includes('://') ? host : `tcp://${host}`);
  } catch {
    throw badHost(host);
  }
  switch (url.protocol) {
    case 'unix:':
      return { host, source, options: { socketPath: decodeURIComponent(url.pathname) } };
    case 'npipe:':
      return { host, source, options: { socketPath: decodeURIComponent(url.pathname).replace(/\//g, '\\') || DEFAULT_NPIPE } };
    case 'tcp:':
    case 'http:':
    case 'https:': {
      const useTls = url.protocol === 'https:' || !!tls;
      const port = url.port ? Number(url.port) : useTls ? 2376 : 2375;
      const options: DockerOptions = { host: url.hostname, port, protocol: useTls ? 'https' : 'http' };
      if (useTls && tls) Object.assign(options, tls);
      if (skipVerify) (options as Record<string, unknown>).rejectUnauthorized = false;
      return { host, source, options };
    }
    case 'ssh:': {
      const config = sshConfigFor(url.hostname, home);
      const sshOptions: Record<string, unknown> = { agent: env.SSH_AUTH_SOCK };
      // ssh2 reads no ~/.ssh: without an agent, the key the user's ssh would offer first goes in as privateKey
      const key = config.identityFile ? readKey(expandHome(config.identityFile, home)) : undefined;
      const fallback = !env.SSH_AUTH_SOCK && !key ? defaultIdentity(home) : undefined;
      if (key ?? fallback) sshOptions.privateKey = key ?? fallback;
      const sshHost = config.hostName ?? url.hostname;
      const sshPort = url.port ? Number(url.port) : (config.port ?? 22);
      // ssh2 would accept any host key: only one that known_hosts lists for the host is trusted
      sshOptions.hostVerifier = knownHostsVerifier(sshHost, sshPort, home);
      const options: DockerOptions = {
        protocol: 'ssh',
        host: sshHost,
        port: sshPort,
        username: url.username ? decodeURIComponent(url.username) : (config.user ?? os.userInfo().username),
        sshOptions,
      } as DockerOptions;
      return { host, source, options };
    }
    default:
      throw badHost(host);
  }
}

function badHost(host: string): FlowSessionError {
  return new FlowSessionError(
    'bad-input',
    `'${host}' is not an engine address flowsession understands.`,
    'Use unix:///path/docker.sock, tcp://host:port or ssh://user@host (setting flowsession.dockerHost or DOCKER_HOST).',
  );
}

function readTls(dir: string): TlsFiles | undefined {
  const read = (name: string): Buffer | undefined => {
    try {
      return fs.readFileSync(path.join(dir, name));
    } catch {
      return undefined;
    }
  };
  const files = { ca: read('ca.pem'), cert: read('cert.pem'), key: read('key.pem') };
  return files.ca || files.cert ? files : undefined;
}

function currentContext(home: string): string | undefined {
  try {
    const config = JSON.parse(fs.readFileSync(path.join(home, '.docker', 'config.json'), 'utf8')) as { currentContext?: unknown };
    return typeof config.currentContext === 'string' ? config.currentContext : undefined;
  } catch {
    return undefined;
  }
}

export interface DockerContext {
  name: string;
  host: string;
  skipTlsVerify: boolean;
  tls?: TlsFiles;
}

function contextDigest(name: string): string {
  return crypto.createHash('sha256').update(name).digest('hex');
}

function readContext(home: string, name: string): DockerContext | undefined {
  const digest = contextDigest(name);
  try {
    const meta = JSON.parse(fs.readFileSync(path.join(home, '.docker', 'contexts', 'meta', digest, 'meta.json'), 'utf8')) as {
      Endpoints?: { docker?: { Host?: string; SkipTLSVerify?: boolean } };
    };
    const docker = meta.Endpoints?.docker;
    if (!docker?.Host) return undefined;
    const tls = readTls(path.join(home, '.docker', 'contexts', 'tls', digest, 'docker'));
    return { name, host: docker.Host, skipTlsVerify: !!docker.SkipTLSVerify, tls };
  } catch {
    return undefined;
  }
}

/** The contexts the Docker CLI knows, for an engine picker. */
export function listContexts(homeDir: string = os.homedir()): DockerContext[] {
  const metaDir = path.join(homeDir, '.docker', 'contexts', 'meta');
  let entries: string[] = [];
  try {
    entries = fs.readdirSync(metaDir);
  } catch {
    return [];
  }
  const out: DockerContext[] = [];
  for (const digest of entries) {
    try {
      const meta = JSON.parse(fs.readFileSync(path.join(metaDir, digest, 'meta.json'), 'utf8')) as { Name?: string };
      if (meta.Name) {
        const ctx = readContext(homeDir, meta.Name);
        if (ctx) out.push(ctx);
      }
    } catch {
      // a broken context is not ours to report here
    }
  }
  return out;
}

/** What ~/.ssh/config says about a host (first match wins, as in ssh): enough for ssh2, which reads no config. */
export interface SshHostConfig {
  hostName?: string;
  user?: string;
  port?: number;
  identityFile?: string;
}

function globToRegExp(pattern: string): RegExp {
  return new RegExp(
    `^${pattern
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.')}$`,
    'i',
  );
}

export function sshConfigFor(host: string, home: string = os.homedir(), text?: string): SshHostConfig {
  let content = text;
  if (content === undefined) {
    try {
      content = fs.readFileSync(path.join(home, '.ssh', 'config'), 'utf8');
    } catch {
      return {};
    }
  }
  const out: SshHostConfig = {};
  let applies = true; // lines before the first Host block apply to every host
  for (const raw of content.split(/\r?\n/)) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const m = /^(\S+)\s*(?:=\s*|\s+)(.+)$/.exec(line);
    if (!m) continue;
    const keyword = m[1].toLowerCase();
    const value = m[2].trim().replace(/^"(.*)"$/, '$1');
    if (keyword === 'host') {
      const patterns = value.split(/\s+/);
      const negated = patterns.filter((p) => p.startsWith('!')).some((p) => globToRegExp(p.slice(1)).test(host));
      applies = !negated && patterns.filter((p) => !p.startsWith('!')).some((p) => globToRegExp(p).test(host));
      continue;
    }
    if (keyword === 'match') {
      applies = false; // Match blocks need ssh itself to evaluate
      continue;
    }
    if (!applies) continue;
    if (keyword === 'hostname' && out.hostName === undefined) out.hostName = value.replace(/%h/g, host);
    else if (keyword === 'user' && out.user === undefined) out.user = value;
    else if (keyword === 'port' && out.port === undefined && Number(value) > 0) out.port = Number(value);
    else if (keyword === 'identityfile' && out.identityFile === undefined) out.identityFile = value;
  }
  return out;
}

function expandHome(file: string, home: string): string {
  return file === '~' ? home : file.startsWith('~/') ? path.join(home, file.slice(2)) : file;
}

/** A private key ssh2 can use without a passphrase, else undefined. */
function readKey(file: string): Buffer | undefined {
  let key: Buffer;
  try {
    key = fs.readFileSync(file);
  } catch {
    return undefined;
  }
  return keyIsEncrypted(key.toString('utf8')) ? undefined : key;
}

/** True for a private key that needs a passphrase (then only the agent can use it). */
export function keyIsEncrypted(pem: string): boolean {
  if (/Proc-Type:\s*4,ENCRYPTED|BEGIN ENCRYPTED PRIVATE KEY/.test(pem)) return true;
  const m = /-----BEGIN OPENSSH PRIVATE KEY-----([\s\S]*?)-----END OPENSSH PRIVATE KEY-----/.exec(pem);
  if (!m) return false;
  // openssh-key-v1\0, then the cipher name as a length-prefixed string: "none" when not encrypted
  const raw = Buffer.from(m[1].replace(/\s+/g, ''), 'base64');
  const magic = 'openssh-key-v1\0';
  if (raw.subarray(0, magic.length).toString('latin1') !== magic) return false;
  const len = raw.readUInt32BE(magic.length);
  return raw.subarray(magic.length + 4, magic.length + 4 + len).toString('latin1') !== 'none';
}

/** The default identity files, in ssh's order. */
export const DEFAULT_IDENTITIES = ['id_ed25519', 'id_ecdsa', 'id_rsa'];

function defaultIdentity(home: string): Buffer | undefined {
  for (const name of DEFAULT_IDENTITIES) {
    const key = readKey(path.join(home, '.ssh', name));
    if (key) return key;
  }
  return undefined;
}

/**
 * Options for dockerode's modem with every connection field set, so the modem's own defaults (it reads
 * DOCKER_HOST and DOCKER_CERT_PATH of the process) never mix into an endpoint chosen otherwise.
 */
export function modemOptions(options: DockerOptions): DockerOptions {
  const base: Record<string, unknown> = {
    socketPath: undefined,
    host: undefined,
    port: undefined,
    protocol: undefined,
    ca: undefined,
    cert: undefined,
    key: undefined,
    sshOptions: undefined,
    username: undefined,
  };
  return { ...base, ...options } as DockerOptions;
}

/** A short name for an engine in the status bar, the tree and batch progress: its context, else its address. */
export function engineName(endpoint: Pick<EngineEndpoint, 'host' | 'context'>): string {
  return endpoint.context ?? endpoint.host;
}

/**
 * An engine named on the command line (`--engines a,b`) or in the picker: an address (unix://, tcp://,
 * ssh://, host:port) or a Docker context name ("default" is the platform's local engine).
 */
export function resolveEngineSpec(spec: string, inputs: Omit<EndpointInputs, 'dockerHost' | 'context'> = {}): EngineEndpoint {
  const item = spec.trim();
  if (!item) throw badHost(spec);
  if (item.includes('://') || /^[^/\s]+:\d+$/.test(item)) return resolveEndpoint({ ...inputs, dockerHost: item });
  if (item === 'default') {
    const platform = inputs.platform ?? process.platform;
    const host = platform === 'win32' ? `npipe://${DEFAULT_NPIPE}` : `unix://${DEFAULT_UNIX_SOCKET}`;
    return {
      ...fromHost(host, 'context default', undefined, inputs.env ?? process.env, false, inputs.homeDir ?? os.homedir()),
      context: 'default',
    };
  }
  return resolveEndpoint({ ...inputs, context: item });
}
