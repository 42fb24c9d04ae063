import * as fs from 'fs';
import * as path from 'path';
import { FlowSessionError } from '../errors';
import type { EngineEndpoint } from './connection';

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

/** Turns a transport or engine failure into an error the user can act on. */
export function engineError(e: unknown, endpoint: EngineEndpoint, action = 'reach the Docker engine'): FlowSessionError {
  if (e instanceof FlowSessionError) return e;
  const err = (e ?? {}) as ErrnoLike;
  const code = String(err.code ?? err.errno ?? '');
  const where = `${endpoint.host} (${endpoint.source})`;
  const local = endpoint.host.startsWith('unix:') || endpoint.host.startsWith('npipe:');
  if (code === 'ENOENT' && local) {
    return dockerInstalled()
      ? new FlowSessionError('engine-not-running', `The Docker engine is not running: no socket at ${where}.`, 'Start Docker (e.g. `sudo systemctl start docker` or Docker Desktop), then retry.')
      : new FlowSessionError('engine-not-installed', `Docker is not installed: no engine at ${where}.`, 'Install Docker Engine or Docker Desktop, or set flowsession.dockerHost to a remote engine.');
  }
  if (code === 'EACCES' || code === 'EPERM') {
    return new FlowSessionError('engine-permission-denied', `Permission denied on the Docker socket ${where}.`, 'Add your user to the docker group (`sudo usermod -aG docker $USER`, then log in again) or use a rootless engine.');
  }
  if (code === 'ECONNREFUSED' || code === 'ECONNRESET' || code === 'EHOSTUNREACH' || code === 'ENETUNREACH' || code === 'ENOTFOUND' || code === 'EAI_AGAIN') {
    return new FlowSessionError('engine-not-running', `The Docker engine at ${where} is not reachable (${code}).`, local ? 'Start Docker, then retry.' : 'Check that the remote host is up and the engine listens on that address, then retry.');
  }
  if (code === 'ETIMEDOUT' || code === 'ESOCKETTIMEDOUT' || code === 'engine-timeout') {
    return new FlowSessionError('engine-timeout', `The Docker engine at ${where} did not answer in time.`, 'Check that the engine is healthy (`docker info`) and that the host is reachable, then retry.');
  }
  if (/certificate|self[- ]signed|unable to verify|CERT_|ERR_TLS|SSL/i.test(code + ' ' + (err.message ?? ''))) {
    return new FlowSessionError('engine-not-running', `TLS verification with the Docker engine at ${where} failed: ${err.message ?? code}.`, 'Check DOCKER_CERT_PATH (ca.pem, cert.pem, key.pem) or the context\'s TLS material.');
  }
  if (err.level === 'client-authentication' || /All configured authentication methods failed/i.test(err.message ?? '')) {
    return new FlowSessionError('engine-permission-denied', `ssh authentication to ${where} failed.`, 'Load your key into ssh-agent (`ssh-add`) and check that `ssh <host> docker version` works.');
  }
  const engineMessage = err.json?.message ?? err.reason ?? err.message ?? String(e);
  if (/client version .* is too new|Maximum supported API version/i.test(engineMessage)) {
    return new FlowSessionError('engine-api-too-old', `The Docker engine at ${where} is too old: ${engineMessage}`, `Upgrade the engine to one that speaks API ${MIN_API_VERSION} or newer.`);
  }
  return new FlowSessionError('engine-error', `Docker could not ${action}: ${engineMessage.trim()}`, '', String(err.statusCode ?? ''));
}

export function compareApiVersions(a: string, b: string): number {
  const [a1, a2] = a.split('.').map(Number);
  const [b1, b2] = b.split('.').map(Number);
  return a1 !== b1 ? a1 - b1 : (a2 || 0) - (b2 || 0);
}
