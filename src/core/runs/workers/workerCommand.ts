import { IMAGE_PATHS } from '../../image/runtimeFiles';
import type { WorkerSpec } from './workerBatch';
import { WORKER_ENV, WORKER_MODULE } from './workerProtocol';

/** The label every worker of a batch carries (container, swarm service, Kubernetes object): cleanup finds them by it. */
export const WORKER_LABELS = {
  batch: 'flowsession.batch',
  role: 'flowsession.role',
} as const;

export const WORKER_ROLE = 'batch-worker';

/** The worker's process: the image's Python running the runtime's worker loop. */
export function workerArgv(spec: Pick<WorkerSpec, 'coordinator' | 'fingerprint'>): { entrypoint: string[]; cmd: string[] } {
  return {
    entrypoint: [IMAGE_PATHS.python, '-u', '-m', WORKER_MODULE],
    cmd: ['--coordinator', spec.coordinator, '--fingerprint', spec.fingerprint, '--flow-dir', IMAGE_PATHS.flow],
  };
}

/** The worker's environment: only the batch token (not a connection secret; connections come per lease). */
export function workerEnv(spec: Pick<WorkerSpec, 'token'>): string[] {
  return [`${WORKER_ENV.token}=${spec.token}`];
}

export function workerLabels(spec: Pick<WorkerSpec, 'runId'>, extra: Record<string, string> = {}): Record<string, string> {
  return { ...extra, [WORKER_LABELS.batch]: spec.runId, [WORKER_LABELS.role]: WORKER_ROLE };
}
