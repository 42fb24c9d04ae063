import type { Engine } from '../../docker/engine';
import type { ProgressReport } from '../../docker/progress';
import { SwarmServices } from '../../docker/swarmServices';
import { FlowSessionError } from '../../errors';
import { resolveFlowDir } from '../../flow/environment';
import { publishCustomImage, publishTarget } from '../../image/customImage';
import { splitImageRef } from '../../imageRef';
import type { SessionManager } from '../../session/sessionManager';
import { newRunId } from '../runId';
import { requireDataFile } from '../multiEngineBatch';
import { runFolder } from '../runStore';
import { ContainerWorkers } from './containerWorkers';
import { KubernetesWorkers } from './kubernetesWorkers';
import { SwarmWorkers } from './swarmWorkers';
import { workerFlowFiles } from './welcomeFiles';
import { runWorkerBatch, type WorkerBatchOptions, type WorkerBatchRecord, type WorkerLauncher } from './workerBatch';
import * as path from 'path';

export const ORCHESTRATORS = ['swarm', 'kubernetes', 'containers'] as const;
export type Orchestrator = (typeof ORCHESTRATORS)[number];

export interface OrchestratedBatchOptions extends Omit<
  WorkerBatchOptions,
  'image' | 'launcher' | 'aggregationSession' | 'runId' | 'listenHost' | 'advertiseHost'
> {
  on: Orchestrator;
  /** where the environment image is pushed for the nodes to pull ('' = not pushed: one-node swarm, containers) */
  registry: string;
  /** the address the workers reach this machine at (default 127.0.0.1) */
  coordinatorHost?: string;
  /** where the coordinator listens (default: the coordinator host when it is loopback, else every address) */
  listenHost?: string;
  kubernetes?: { file?: string; namespace?: string; apply: boolean };
  labels?: Record<string, string>;
  onProgress?: (r: ProgressReport) => void;
  log?: (line: string) => void;
}

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\./.test(host);
}

/**
 * A batch on an orchestrator, from a flow folder: the coordinator's own session (on `engine`, which is the swarm
 * manager for a swarm) builds or finds the environment image, which is pushed to the registry when one is given;
 * then the launcher of `on` starts the workers and runWorkerBatch coordinates them.
 */
export async function runOrchestratedBatch(
  engine: Engine,
  manager: SessionManager,
  flowDir: string,
  options: OrchestratedBatchOptions,
): Promise<WorkerBatchRecord> {
  const registry = options.registry.replace(/\/+$/, '');
  const coordinatorHost = options.coordinatorHost || '127.0.0.1';
  const listenHost = options.listenHost || (isLoopback(coordinatorHost) ? coordinatorHost : '0.0.0.0');
  if (options.on === 'kubernetes' && !registry)
    throw new FlowSessionError(
      'bad-input',
      'A batch on Kubernetes needs a registry the cluster pulls the image from.',
      'Give --registry (or the flowsession.registry setting).',
    );
  if (options.on === 'kubernetes' && isLoopback(coordinatorHost))
    throw new FlowSessionError(
      'bad-input',
      'Pods cannot reach a coordinator on loopback.',
      'Give --coordinator-host: the address the pods reach this machine at.',
    );
  const dir = resolveFlowDir(flowDir);
  // before any image work, container or service: what the workers could never be sent is refused in a second
  workerFlowFiles(dir, requireDataFile(options.dataFile));
  const runId = newRunId(dir, 'batch');
  let swarm: SwarmServices | undefined;
  if (options.on === 'swarm') {
    swarm = new SwarmServices(engine.endpoint);
    const { nodes } = await swarm.requireManager();
    if (nodes > 1 && !registry)
      throw new FlowSessionError(
        'bad-input',
        `The swarm has ${nodes} nodes and no registry was given.`,
        'Give --registry (or the flowsession.registry setting): every node pulls the environment image from it.',
      );
  }
  const status = await manager.up(dir, options.onProgress);
  let image = status.image;
  if (!image) throw new FlowSessionError('session-not-found', 'The coordinator session has no image.', 'Run the batch again.');
  if (registry) {
    const target = publishTarget(image, registry, splitImageRef(image).tag || 'latest');
    options.log?.(`pushing ${target}`);
    image = (await publishCustomImage(engine, image, target, true, options.onProgress)).ref;
  }
  let launcher: WorkerLauncher;
  if (options.on === 'swarm') launcher = new SwarmWorkers(swarm!, { labels: options.labels });
  else if (options.on === 'containers') launcher = new ContainerWorkers(engine, { networkMode: 'host', labels: options.labels });
  else
    launcher = new KubernetesWorkers({
      apply: !!options.kubernetes?.apply,
      file: path.resolve(options.kubernetes?.file ?? path.join(runFolder(dir, runId), 'kubernetes.yaml')),
      namespace: options.kubernetes?.namespace,
      log: options.log,
    });
  return runWorkerBatch(dir, {
    ...options,
    runId,
    image,
    launcher,
    listenHost,
    advertiseHost: coordinatorHost,
    aggregationSession: manager,
  });
}
