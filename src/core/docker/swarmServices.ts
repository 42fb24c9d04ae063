import type Docker from 'dockerode';
import { FlowSessionError } from '../errors';
import { dockerode } from '../vendor';
import { labelFilters } from './engine';
import { compareApiVersions, engineError } from './engineErrors';
import { modemOptions, type EngineEndpoint } from './endpoint';

/** A replicated swarm service of hardened containers, as flowsession asks for one. */
export interface ServiceSpec {
  name: string;
  image: string;
  entrypoint: string[];
  args: string[];
  env: string[];
  user: string;
  workingDir: string;
  labels: Record<string, string>;
  replicas: number;
  cpus?: number;
  memoryMb?: number;
  /** attach the tasks to the node's host network (workers dial out; nothing dials in) */
  hostNetwork: boolean;
  /** restarts of a failed task before swarm gives up on it */
  maxRestarts: number;
}

export interface ServiceTask {
  id: string;
  node: string;
  state: string;
  desiredState: string;
  error?: string;
  exitCode?: number;
}

/** The swarm API version that knows `Privileges.NoNewPrivileges` for service containers (Docker 25.0). */
const NO_NEW_PRIVILEGES_API = '1.44';

/** Swarm services on the engine that is a swarm manager: the only place flowsession creates and removes them. */
export class SwarmServices {
  private readonly docker: Docker;

  constructor(readonly endpoint: EngineEndpoint) {
    this.docker = new (dockerode())(modemOptions(endpoint.options) as Docker.DockerOptions);
  }

  private async call<T>(action: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      throw engineError(e, this.endpoint, action);
    }
  }

  /** Throws unless the engine is a manager of an active swarm; returns its API version. */
  async requireManager(): Promise<{ apiVersion: string; nodes: number }> {
    const [info, version] = await this.call('describe the swarm', () => Promise.all([this.docker.info(), this.docker.version()]));
    const swarm = (info as { Swarm?: { LocalNodeState?: string; ControlAvailable?: boolean; Nodes?: number } }).Swarm;
    if (swarm?.LocalNodeState !== 'active' || !swarm.ControlAvailable)
      throw new FlowSessionError(
        'bad-input',
        `The engine ${this.endpoint.host} is not a swarm manager (swarm state: ${swarm?.LocalNodeState ?? 'unknown'}).`,
        'Point --docker-host (or DOCKER_HOST, the context) at a manager node, or make one with `docker swarm init`.',
      );
    return { apiVersion: version.ApiVersion, nodes: swarm.Nodes ?? 1 };
  }

  private async hostNetworkId(): Promise<string> {
    const nets = await this.call('list networks', () => this.docker.listNetworks({ filters: { name: ['host'] } }));
    const host = nets.find((n) => n.Name === 'host');
    if (!host) throw new FlowSessionError('bad-input', 'The swarm manager has no host network.', 'Check the engine (docker network ls).');
    return host.Id;
  }

  /** Creates the service; returns its id. */
  async create(spec: ServiceSpec): Promise<string> {
    const { apiVersion } = await this.requireManager();
    const networks = spec.hostNetwork ? [{ Target: await this.hostNetworkId() }] : undefined;
    const containerSpec: Record<string, unknown> = {
      Image: spec.image,
      Command: spec.entrypoint,
      Args: spec.args,
      Env: spec.env,
      User: spec.user,
      Dir: spec.workingDir,
      Labels: spec.labels,
      Init: true,
      CapabilityDrop: ['ALL'],
    };
    // older swarms have no per-service no-new-privileges: the non-root user and the empty capability set still hold
    if (compareApiVersions(apiVersion, NO_NEW_PRIVILEGES_API) >= 0) containerSpec.Privileges = { NoNewPrivileges: true };
    const limits: Record<string, number> = { Pids: 4096 };
    if (spec.cpus && spec.cpus > 0) limits.NanoCPUs = Math.round(spec.cpus * 1e9);
    if (spec.memoryMb && spec.memoryMb > 0) limits.MemoryBytes = spec.memoryMb * 1024 * 1024;
    const body = {
      Name: spec.name,
      Labels: spec.labels,
      TaskTemplate: {
        ContainerSpec: containerSpec,
        Resources: { Limits: limits },
        RestartPolicy: { Condition: 'on-failure', Delay: 1_000_000_000, MaxAttempts: spec.maxRestarts },
        ...(networks ? { Networks: networks } : {}),
      },
      Mode: { Replicated: { Replicas: spec.replicas } },
    };
    const created = await this.call('create a swarm service', () =>
      this.docker.createService(body as unknown as Docker.CreateServiceOptions),
    );
    return (created as { id?: string; ID?: string }).id ?? (created as { ID?: string }).ID ?? '';
  }

  /** The tasks of a service, newest state first as the engine gives them. */
  async tasks(serviceId: string): Promise<ServiceTask[]> {
    const tasks = await this.call('list the service tasks', () => this.docker.listTasks({ filters: { service: [serviceId] } }));
    return (tasks as Record<string, unknown>[]).map((t) => {
      const status = (t.Status ?? {}) as { State?: string; Err?: string; ContainerStatus?: { ExitCode?: number } };
      return {
        id: String(t.ID ?? ''),
        node: String(t.NodeID ?? ''),
        state: status.State ?? 'unknown',
        desiredState: String(t.DesiredState ?? ''),
        ...(status.Err ? { error: status.Err } : {}),
        ...(status.ContainerStatus?.ExitCode !== undefined ? { exitCode: status.ContainerStatus.ExitCode } : {}),
      };
    });
  }

  /** Services carrying these labels. */
  async list(labels: Record<string, string>): Promise<{ id: string; name: string }[]> {
    const services = await this.call('list swarm services', () => this.docker.listServices({ filters: { label: labelFilters(labels) } }));
    return services.map((s) => ({ id: s.ID ?? '', name: s.Spec?.Name ?? '' }));
  }

  async remove(id: string): Promise<void> {
    await this.call('remove a swarm service', async () => {
      try {
        await this.docker.getService(id).remove();
      } catch (e) {
        if ((e as { statusCode?: number }).statusCode !== 404) throw e;
      }
    });
  }
}
