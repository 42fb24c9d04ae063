/** Load helpers: many sessions' worth of stopped containers, made cheaply (created, never started). */
import { SESSION_LABELS, containerName, sessionKey } from '../../../src/core/session/labels';
import type { DockerEngine } from '../../../src/core/docker/dockerEngine';
import { world } from '../world/world';

/** `flows` names the flow folders of the sessions (default: folders that do not exist). */
export async function makeStoppedSessions(engine: DockerEngine, image: string, n: number, flows?: string[]): Promise<string[]> {
  const ids: string[] = [];
  const tag = `${world().runId}-${Date.now().toString(36)}`;
  for (let i = 0; i < n; i += 10) {
    ids.push(
      ...(await Promise.all(
        Array.from({ length: Math.min(10, n - i) }, (_, j) => {
          const flow = flows?.[i + j] ?? `/nonexistent/flowsession-load/${tag}/flow-${i + j}`;
          const key = sessionKey(flow);
          return engine.createContainer({
            name: containerName(key),
            image,
            cmd: ['true'],
            hardened: true,
            labels: { 'flowsession.test': world().runId, [SESSION_LABELS.session]: key, [SESSION_LABELS.flow]: flow },
          });
        }),
      )),
    );
  }
  return ids;
}
