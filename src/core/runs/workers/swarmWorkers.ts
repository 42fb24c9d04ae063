import type { SwarmServices } from '../../docker/swarmServices';
import { IMAGE_PATHS, SESSION_USER } from '../../image/runtimeFiles';
import type { WorkerLauncher, WorkerSpec } from './workerBatch';
import { WORKER_LABELS, workerArgv, workerEnv, workerLabels } from './workerCommand';

/** restarts of one worker task after it failed (a lost node's tasks are rescheduled by swarm regardless) */
const MAX_TASK_RESTARTS = 3;
/** task states from which a task will not run again */
const ENDED = new Set(['failed', 'rejected', 'shutdown', 'complete', 'orphaned', 'remove']);

/** A swarm-friendly service name for a batch: letters, digits and dashes, at most 63 characters. */
export function serviceName(runId: string): string {
  return `flowsession-batch-${runId.toLowerCase().replace(/[^a-z0-9-]+/g, '-')}`.slice(0, 63).replace(/-+$/, '');
}

/**
 * The workers as one replicated Docker Swarm service: swarm places them on its nodes and replaces a task whose
 * node is lost. The service carries the batch label, and stop() removes every service with it (also after a
 * failure or Ctrl-C).
 */
export class SwarmWorkers implements WorkerLauncher {
  readonly kind = 'swarm';
  private runId: string | undefined;
  private serviceId: string | undefined;

  constructor(
    private readonly swarm: SwarmServices,
    private readonly options: { hostNetwork?: boolean; labels?: Record<string, string> } = {},
  ) {}

  async start(spec: WorkerSpec): Promise<void> {
    this.runId = spec.runId;
    const { entrypoint, cmd } = workerArgv(spec);
    this.serviceId = await this.swarm.create({
      name: serviceName(spec.runId),
      image: spec.image,
      entrypoint,
      args: cmd,
      // swarm fills in the task's name (service.slot.id): workers on nodes with the same hostname stay apart
      env: [...workerEnv(spec), 'FLOWSESSION_WORKER_NAME={{.Task.Name}}'],
      user: SESSION_USER,
      workingDir: IMAGE_PATHS.flow,
      labels: workerLabels(spec, this.options.labels),
      replicas: spec.replicas,
      cpus: spec.cpus,
      memoryMb: spec.memoryMb,
      hostNetwork: this.options.hostNetwork ?? true,
      maxRestarts: MAX_TASK_RESTARTS,
    });
  }

  /** The batch cannot go on when no task runs or is starting and the tasks that ended failed (e.g. the image cannot be pulled). */
  async check(): Promise<string | undefined> {
    if (!this.serviceId) return undefined;
    const tasks = await this.swarm.tasks(this.serviceId);
    if (tasks.length === 0 || tasks.some((t) => !ENDED.has(t.state))) return undefined;
    const failed = tasks.filter((t) => t.state === 'failed' || t.state === 'rejected');
    if (failed.length === 0) return undefined;
    return `every worker task of the swarm service ended: ${failed[0].error ?? `exit code ${failed[0].exitCode ?? '?'}`}`;
  }

  async stop(): Promise<void> {
    if (!this.runId) return;
    for (const s of await this.swarm.list({ [WORKER_LABELS.batch]: this.runId })) await this.swarm.remove(s.id);
  }
}
