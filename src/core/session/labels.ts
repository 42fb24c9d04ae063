import * as crypto from 'crypto';
import type { ContainerDetails, Engine } from '../docker/engine';

/** Container labels: the session's identity lives in the engine, so any process finds it again. */
export const SESSION_LABELS = {
  session: 'flowsession.session',
  flow: 'flowsession.flow',
  env: 'flowsession.env',
  runtimeVersion: 'flowsession.runtime-version',
  idleTimeout: 'flowsession.idle-timeout',
  base: 'flowsession.base',
  requirements: 'flowsession.requirements',
} as const;

/** The session key of a flow folder: stable for its absolute path, short enough for a container name. */
export function sessionKey(flowDir: string): string {
  return crypto.createHash('sha256').update(flowDir).digest('hex').slice(0, 16);
}

export function containerName(key: string): string {
  return `flowsession-${key}`;
}

export function contentHash(text: string): string {
  return crypto.createHash('sha256').update(text.replace(/\r\n/g, '\n')).digest('hex').slice(0, 16);
}

/** The container of a session, found by its name and confirmed by its label. */
export async function findSessionContainer(engine: Engine, key: string): Promise<ContainerDetails | undefined> {
  const c = await engine.inspectContainer(containerName(key));
  return c && c.labels[SESSION_LABELS.session] === key ? c : undefined;
}
