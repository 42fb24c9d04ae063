import type { ContainerDetails, ContainerSummary } from '../docker/engine';
import { runtimeVersion } from '../image/runtimeFiles';
import { SESSION_LABELS, contentHash } from './labels';
import type { SessionState, SessionStatus } from './state';

/** What is known of a session besides its container: where it belongs, and what this process does or saw. */
export interface SessionFacts {
  flowDir: string;
  key: string;
  /** the engine the session lives on */
  engine: string;
  /** an operation of this process under way: its state wins over the container's */
  operation?: { state: SessionState; phase?: string };
  /** why this process last failed to create the session; it shows while there is no container */
  failure?: string;
  /** the flow's environment differs from the one the container was made from */
  outdated?: boolean;
}

const OUT_OF_MEMORY = 'The session ran out of memory (raise flowsession.memoryMb).';

/**
 * The status of a session from its container: the details of an inspect, an entry of a list (whose exit code is
 * only in its status text, "Exited (137) 2 minutes ago"), or none when the session does not exist.
 */
export function sessionStatus(c: ContainerSummary | ContainerDetails | undefined, facts: SessionFacts): SessionStatus {
  const status: SessionStatus = { flowDir: facts.flowDir, key: facts.key, state: 'not-created', outdated: false, engine: facts.engine };
  if (c) {
    Object.assign(status, {
      container: c.id,
      containerName: c.name,
      image: c.image,
      env: c.labels[SESSION_LABELS.env],
      baseImage: c.labels[SESSION_LABELS.base],
      runtimeVersion: c.labels[SESSION_LABELS.runtimeVersion],
      outdated: facts.outdated ?? false,
    });
    const details = 'running' in c ? c : undefined;
    if (details ? details.running : c.state === 'running') status.state = 'ready';
    else if (c.state === 'removing') status.state = 'stopping';
    else {
      status.state = 'stopped';
      status.exitCode = details ? details.exitCode : exitCodeOf(c.status);
      if (details?.oomKilled) status.reason = OUT_OF_MEMORY;
    }
  }
  if (facts.operation) {
    status.state = facts.operation.state;
    status.phase = facts.operation.phase;
  } else if (!c && facts.failure !== undefined) {
    status.state = 'failed';
    status.reason = facts.failure;
  }
  return status;
}

function exitCodeOf(statusText: string | undefined): number {
  const exited = /Exited \((-?\d+)\)/.exec(statusText ?? '');
  return exited ? Number(exited[1]) : 0;
}

/** True when a session's container no longer matches its flow's base image, requirements or the runtime: a reset applies them. */
export function isOutdated(labels: Record<string, string>, baseImage: string, requirements: string): boolean {
  return (
    labels[SESSION_LABELS.base] !== baseImage ||
    labels[SESSION_LABELS.requirements] !== contentHash(requirements) ||
    labels[SESSION_LABELS.runtimeVersion] !== runtimeVersion()
  );
}
