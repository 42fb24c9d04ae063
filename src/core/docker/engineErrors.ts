import * as fs from 'fs';
import * as path from 'path';
import { FlowSessionError } from '../errors';
import type { EngineEndpoint } from './endpoint';

export const MIN_API_VERSION = '1.40';

/** True when a docker client or engine binary is on PATH: tells "not installed" from "not running". */
function dockerInstalled(env: NodeJS.ProcessEnv = process.env): boolean {
  const dirs = (env.PATH ?? '').split(path.delimiter).filter(Boolean);
  const names = process.platform === 'win32' ? ['docker.exe', 'dockerd.exe'] : ['docker', 'dockerd'];
  return dirs.some((d) => names.some((n) => fs.existsSync(path.join(d, n))));
}

interface ErrnoLike {
  code?: string;
  errno?: string | number;
  statusCode?: number;
  reason?: string;
  json?: { message?: string } | null;
  message?: string;
  level?: string;
}

type Transport = 'local' | 'tcp' | 'tls' | 'ssh';

function transportOf(endpoint: EngineEndpoint): Transport {
  const options = (endpoint.options ?? {}) as { protocol?: string; ca?: unknown; cert?: unknown };
  if (endpoint.host.startsWith('unix:') || endpoint.host.startsWith('npipe:')) return 'local';
  if (options.protocol === 'ssh' || endpoint.host.startsWith('ssh:')) return 'ssh';
  if (options.protocol === 'https' || endpoint.host.startsWith('https:')) return 'tls';
  return 'tcp';
}

function sshTarget(endpoint: EngineEndpoint): string {
  const o = (endpoint.options ?? {}) as { host?: string; port?: number; username?: string };
  return o.host
    ? `${o.username ? `${o.username}@` : ''}${o.host}${o.port && o.port !== 22 ? ` -p ${o.port}` : ''}`
    : endpoint.host.replace(/^ssh:\/\//, '');
}

const UNREACHABLE = new Set(['ECONNREFUSED', 'ECONNRESET', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTDOWN', 'EPIPE']);
/** Node's codes for a server certificate the client does not trust */
const SERVER_CERT =
  /CERT_|SELF_SIGNED|UNABLE_TO_VERIFY|UNABLE_TO_GET_ISSUER|ERR_TLS_CERT_ALTNAME_INVALID|certificate|self[- ]signed|unable to verify/i;
/** TLS alerts the engine sends when it refuses the client certificate */
const CLIENT_CERT_REFUSED =
  /alert (bad certificate|certificate required|unknown ca|certificate unknown|handshake failure)|tlsv13 alert certificate required|sslv3 alert/i;

/** Turns a transport or engine failure into an error the user can act on. */
export function engineError(e: unknown, endpoint: EngineEndpoint, action = 'reach the Docker engine'): FlowSessionError {
  if (e instanceof FlowSessionError) return e;
  const err = (e ?? {}) as ErrnoLike;
  const code = String(err.code ?? err.errno ?? '');
  const text = `${code} ${err.message ?? ''}`;
  const where = `${endpoint.host} (${endpoint.source})`;
  const transport = transportOf(endpoint);
  const local = transport === 'local';
  if (code === 'ENOENT' && local) {
    return dockerInstalled()
      ? new FlowSessionError(
          'engine-not-running',
          `The Docker engine is not running: no socket at ${where}.`,
          'Start Docker (e.g. `sudo systemctl start docker` or Docker Desktop), then retry.',
        )
      : new FlowSessionError(
          'engine-not-installed',
          `Docker is not installed: no engine at ${where}.`,
          'Install Docker Engine or Docker Desktop, or set flowsession.dockerHost to a remote engine.',
        );
  }
  if ((code === 'EACCES' || code === 'EPERM') && err.level === undefined) {
    return new FlowSessionError(
      'engine-permission-denied',
      `Permission denied on the Docker socket ${where}.`,
      'Add your user to the docker group (`sudo usermod -aG docker $USER`, then log in again) or use a rootless engine.',
    );
  }
  // ssh: the host's key is not the one known_hosts lists (or it lists none)
  if (transport === 'ssh' && /Host denied|verification failed/i.test(err.message ?? '')) {
    return new FlowSessionError(
      'engine-permission-denied',
      `The ssh host key of ${where} is not one your known_hosts lists for it.`,
      `Connect once with \`ssh ${sshTarget(endpoint)}\` and check the fingerprint it shows (that records the key in ~/.ssh/known_hosts), then retry. If the host was re-installed, remove its old entry with \`ssh-keygen -R\` first.`,
      'ssh-host-key',
    );
  }
  // ssh: the key was refused, or the remote could not give us its engine
  if (err.level === 'client-authentication' || /All configured authentication methods failed/i.test(err.message ?? '')) {
    return new FlowSessionError(
      'engine-permission-denied',
      `ssh authentication to ${where} failed: the server accepted none of the keys offered.`,
      `Load your key into ssh-agent (\`ssh-add\`; SSH_AUTH_SOCK must be set), or put it in ~/.ssh (id_ed25519, id_rsa, or IdentityFile in ~/.ssh/config; without a passphrase unless it is in the agent), and check that \`ssh ${sshTarget(endpoint)} docker version\` works.`,
      'ssh-auth',
    );
  }
  if (err.level === 'client-timeout' || (transport === 'ssh' && /Timed out while waiting for handshake/i.test(err.message ?? ''))) {
    return new FlowSessionError(
      'engine-timeout',
      `The ssh server of ${where} did not answer in time.`,
      `Check that the host is up and sshd listens there (\`ssh ${sshTarget(endpoint)}\`), then retry.`,
      'ssh-timeout',
    );
  }
  if (transport === 'ssh' && /socket hang up|Unable to exec|channel open failure|dial-stdio/i.test(err.message ?? '')) {
    return new FlowSessionError(
      'engine-not-running',
      `The host of ${where} accepted the ssh login but did not hand over its Docker engine (\`docker system dial-stdio\` failed).`,
      `Install Docker on that host, start its engine, and let the ssh user use it (docker group); \`ssh ${sshTarget(endpoint)} docker system dial-stdio\` must not fail.`,
      'ssh-dial-stdio',
    );
  }
  // TLS: the engine's certificate is not trusted, or the engine refused ours
  if (transport !== 'local' && transport !== 'ssh' && CLIENT_CERT_REFUSED.test(text)) {
    return new FlowSessionError(
      'engine-permission-denied',
      `TLS verification with the Docker engine at ${where} failed: the engine refused the client certificate (${err.message ?? code}).`,
      "Use a client certificate signed by the CA the engine trusts (its --tlscacert): cert.pem and key.pem in DOCKER_CERT_PATH or in the context's TLS material.",
      'tls-client',
    );
  }
  if (transport !== 'local' && transport !== 'ssh' && (SERVER_CERT.test(text) || /ERR_SSL|EPROTO|wrong version number/i.test(text))) {
    const plain = /wrong version number|packet length too long|http request/i.test(text);
    return new FlowSessionError(
      'engine-permission-denied',
      `TLS verification with the Docker engine at ${where} failed: ${err.message ?? code}.`,
      plain
        ? 'The engine at that port does not speak TLS: use its TLS port, or drop DOCKER_TLS_VERIFY / DOCKER_CERT_PATH for a plain tcp:// engine.'
        : "The engine's certificate is not signed by the CA you trust, or does not name this host: check ca.pem in DOCKER_CERT_PATH (or the context's TLS material) and the address you use.",
      'tls-server',
    );
  }
  if (UNREACHABLE.has(code)) {
    const remedy = local
      ? 'Start Docker, then retry.'
      : transport === 'ssh'
        ? `Check that the host is up and sshd listens on that port (\`ssh ${sshTarget(endpoint)} docker version\`), then retry.`
        : 'Check that the remote host is up, the engine listens on that address (dockerd -H tcp://…) and no firewall blocks the port, then retry.';
    return new FlowSessionError('engine-not-running', `The Docker engine at ${where} is not reachable (${code}).`, remedy, 'unreachable');
  }
  if (code === 'ETIMEDOUT' || code === 'ESOCKETTIMEDOUT' || code === 'engine-timeout') {
    return new FlowSessionError(
      'engine-timeout',
      `The Docker engine at ${where} did not answer in time.`,
      'Check that the engine is healthy (`docker info`) and that the host is reachable, then retry.',
    );
  }
  const engineMessage = err.json?.message ?? err.reason ?? err.message ?? String(e);
  if (/Client sent an HTTP request to an HTTPS server/i.test(engineMessage)) {
    return new FlowSessionError(
      'engine-permission-denied',
      `The Docker engine at ${where} requires TLS.`,
      'Set DOCKER_TLS_VERIFY=1 and DOCKER_CERT_PATH (ca.pem, cert.pem, key.pem), or use a Docker context that carries the TLS material.',
      'tls-required',
    );
  }
  if (/client version .* is too new|Maximum supported API version/i.test(engineMessage)) {
    return new FlowSessionError(
      'engine-api-too-old',
      `The Docker engine at ${where} is too old: ${engineMessage}`,
      `Upgrade the engine to one that speaks API ${MIN_API_VERSION} or newer (Docker 19.03+).`,
    );
  }
  return new FlowSessionError('engine-error', `Docker could not ${action}: ${engineMessage.trim()}`, '', String(err.statusCode ?? ''));
}

export function compareApiVersions(a: string, b: string): number {
  const [a1, a2] = a.split('.').map(Number);
  const [b1, b2] = b.split('.').map(Number);
  return a1 !== b1 ? a1 - b1 : (a2 || 0) - (b2 || 0);
}
