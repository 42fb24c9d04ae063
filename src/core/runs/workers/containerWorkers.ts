import type { Engine } from '../../docker/engine';
import { SESSION_USER, IMAGE_PATHS } from '../../image/runtimeFiles';
import type { WorkerLauncher, WorkerSpec } from './workerBatch';
import { WORKER_LABELS, workerArgv, workerEnv, workerLabels } from './workerCommand';

/**
 * Workers as plain containers on one Docker engine, hardened as a session is. The smallest orchestrator: no
 * replacement of a lost worker, but the same workers and protocol as a swarm service or a Kubernetes Job.
 */
export class ContainerWorkers implements WorkerLauncher {
  readonly kind = 'containers';
  private runId: string | undefined;
  readonly containers: string[] = [];

  constructor(
    private readonly engine: Engine,
    private readonly options: { networkMode?: string; labels?: Record<string, string> } = {},
  ) {}

  async start(spec: WorkerSpec): Promise<void> {
    this.runId = spec.runId;
    const { entrypoint, cmd } = workerArgv(spec);
    for (let i = 0; i < spec.replicas; i++) {
      const id = await this.engine.createContainer({
        image: spec.image,
        entrypoint,
        cmd,
        env: [...workerEnv(spec), `FLOWSESSION_WORKER_NAME=worker-${i + 1}`],
        user: SESSION_USER,
        workingDir: IMAGE_PATHS.flow,
        labels: workerLabels(spec, this.options.labels),
        hardened: true,
        cpus: spec.cpus,
        memoryMb: spec.memoryMb,
        networkMode: this.options.networkMode,
      });
      this.containers.push(id);
      await this.engine.startContainer(id);
    }
  }

  async check(): Promise<string | undefined> {
    if (this.containers.length === 0) return undefined;
    const states = await Promise.all(this.containers.map((id) => this.engine.inspectContainer(id)));
    const failed = states.filter((c) => !c || (!c.running && c.exitCode !== 0));
    return failed.length === this.containers.length
      ? `every worker container stopped (exit codes ${states.map((c) => c?.exitCode ?? 'gone').join(', ')})`
      : undefined;
  }

  async stop(): Promise<void> {
    if (!this.runId) return;
    const ours = await this.engine.listContainers({ [WORKER_LABELS.batch]: this.runId });
    await Promise.all(ours.map((c) => this.engine.removeContainer(c.id).catch(() => undefined)));
  }
}
