import * as crypto from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { DockerOptions } from 'dockerode';
import { FlowSessionError } from '../errors';

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

export interface ConnectionInputs {
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
export function resolveEndpoint(inputs: ConnectionInputs = {}): EngineEndpoint {
  const env = inputs.env ?? process.env;
  const home = inputs.homeDir ?? os.homedir();
  const platform = inputs.platform ?? process.platform;
  const tlsFromEnv = (): TlsFiles | undefined => {
    const verify = !!env.DOCKER_TLS_VERIFY && env.DOCKER_TLS_VERIFY !== '0';
    const certPath = env.DOCKER_CERT_PATH || (verify ? path.join(home, '.docker') : undefined);
    return certPath ? readTls(certPath) : undefined;
  };

  if (inputs.dockerHost && inputs.dockerHost.trim()) {
    return fromHost(inputs.dockerHost.trim(), 'setting', tlsFromEnv(), env);
  }
  if (!inputs.context && env.DOCKER_HOST && env.DOCKER_HOST.trim()) {
    return fromHost(env.DOCKER_HOST.trim(), 'DOCKER_HOST', tlsFromEnv(), env);
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
    const endpoint = fromHost(ctx.host, `context ${contextName}`, ctx.tls, env, ctx.skipTlsVerify);
    return { ...endpoint, context: contextName };
  }
  const host = platform === 'win32' ? `npipe://${DEFAULT_NPIPE}` : `unix://${DEFAULT_UNIX_SOCKET}`;
  return fromHost(host, 'default', undefined, env);
}

function fromHost(host: string, source: string, tls: TlsFiles | undefined, env: NodeJS.ProcessEnv, skipVerify = false): EngineEndpoint {
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
      const options: DockerOptions = {
        protocol: 'ssh',
        host: url.hostname,
        port: url.port ? Number(url.port) : 22,
        username: url.username ? decodeURIComponent(url.username) : os.userInfo().username,
        sshOptions: { agent: env.SSH_AUTH_SOCK },
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
