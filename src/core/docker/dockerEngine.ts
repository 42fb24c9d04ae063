import type Docker from 'dockerode';
import * as http from 'http';
import * as https from 'https';
import { PassThrough, Readable, Writable } from 'stream';
import { StringDecoder } from 'string_decoder';
import { modemOptions, type EngineEndpoint } from './endpoint';
import type {
  BuildOptions,
  CommitOptions,
  ContainerDetails,
  ContainerStats,
  ContainerSpec,
  ContainerSummary,
  Engine,
  EngineEvent,
  EngineInfo,
  EventSubscription,
  ExecOptions,
  ExecResult,
  ExecSession,
  ImageSummary,
  TtyExec,
} from './engine';
import { labelFilters } from './engine';
import { compareApiVersions, engineError, MIN_API_VERSION } from './engineErrors';
import { FlowSessionError } from '../errors';
import { dockerode } from '../vendor';
import { subscribeEvents } from './events';
import { followJsonStream, type EngineStreamMessage } from './jsonStream';
import { LayerProgressTracker, type ProgressListener } from './progress';
import { splitImageRef } from '../imageRef';
import { TailBuffer } from './tailBuffer';

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(Object.assign(new Error('timed out'), { code: 'engine-timeout' })), ms);
    p.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (e) => {
        clearTimeout(timer);
        reject(e);
      },
    );
  });
}

function statusOf(e: unknown): number | undefined {
  return (e as { statusCode?: number })?.statusCode;
}

/** The engine over dockerode: every call flowsession makes to Docker goes through here. */
export class DockerEngine implements Engine {
  private readonly docker: Docker;

  constructor(readonly endpoint: EngineEndpoint) {
    const options = modemOptions(endpoint.options) as Docker.DockerOptions & { agent?: http.Agent };
    // over TCP every engine call would pay a new connection (and a TLS handshake): keep them open
    if (options.protocol === 'https') options.agent = new https.Agent({ keepAlive: true, maxSockets: 16 });
    else if (options.protocol === 'http') options.agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
    this.docker = new (dockerode())(options);
  }

  private async call<T>(action: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      throw engineError(e, this.endpoint, action);
    }
  }

  async ping(timeoutMs = 5000): Promise<EngineInfo> {
    const v = await this.call('answer a ping', () => withTimeout(this.docker.version(), timeoutMs));
    if (compareApiVersions(v.ApiVersion, MIN_API_VERSION) < 0) {
      throw new FlowSessionError(
        'engine-api-too-old',
        `The Docker engine at ${this.endpoint.host} speaks API ${v.ApiVersion}; flowsession needs ${MIN_API_VERSION} or newer.`,
        'Upgrade Docker Engine (20.10 or newer).',
      );
    }
    return { version: v.Version, apiVersion: v.ApiVersion, os: v.Os, arch: v.Arch };
  }

  async inspectImage(ref: string): Promise<ImageSummary | undefined> {
    try {
      const i = await this.docker.getImage(ref).inspect();
      return {
        id: i.Id,
        tags: i.RepoTags ?? [],
        labels: i.Config?.Labels ?? {},
        created: Date.parse(i.Created) / 1000,
        repoDigests: i.RepoDigests ?? [],
        env: i.Config?.Env ?? [],
      };
    } catch (e) {
      if (statusOf(e) === 404) return undefined;
      throw engineError(e, this.endpoint, `inspect image ${ref}`);
    }
  }

  listImages(labels: Record<string, string | true>): Promise<ImageSummary[]> {
    return this.call('list images', async () => {
      const list = await this.docker.listImages({ filters: { label: labelFilters(labels) } } as Docker.ListImagesOptions);
      return list.map((i) => ({
        id: i.Id,
        tags: i.RepoTags ?? [],
        labels: i.Labels ?? {},
        created: i.Created,
        repoDigests: i.RepoDigests ?? [],
        env: [],
      }));
    });
  }

  async pullImage(ref: string, onProgress?: ProgressListener): Promise<void> {
    const tracker = new LayerProgressTracker();
    await this.streamed(
      `pull ${ref}`,
      () => this.docker.pull(ref) as unknown as Promise<Readable>,
      (m) => onProgress?.({ phase: 'pulling', ...tracker.update(m) }),
      (message) =>
        new FlowSessionError(
          'pull-failed',
          `Pulling ${ref} failed: ${message}`,
          'Check the image name, your registry login (`docker login`) and the network.',
        ),
    );
  }

  /**
   * Runs an engine call that answers with a progress stream. A failure before the stream (404 for an unknown
   * image, 500 for a registry error) and one inside it both become the operation's own error.
   */
  private async streamed(
    action: string,
    open: () => Promise<Readable>,
    onMessage: (m: EngineStreamMessage) => void,
    fail: (message: string) => FlowSessionError,
  ): Promise<void> {
    let stream: Readable;
    try {
      stream = await open();
    } catch (e) {
      const mapped = engineError(e, this.endpoint, action);
      throw mapped.engineUnreachable ? mapped : fail(mapped.message.replace(/^Docker could not [^:]*: /, ''));
    }
    try {
      await followJsonStream(stream, onMessage);
    } catch (e) {
      throw fail((e as Error).message);
    }
  }

  async pushImage(ref: string, onProgress?: ProgressListener): Promise<string | undefined> {
    const { repository, tag } = splitImageRef(ref);
    const tracker = new LayerProgressTracker();
    let digest: string | undefined;
    await this.streamed(
      `push ${ref}`,
      () => this.docker.getImage(repository).push({ tag, authconfig: {} } as never) as unknown as Promise<Readable>,
      (m) => {
        if (m.aux?.Digest) digest = m.aux.Digest;
        onProgress?.({ phase: 'pushing', ...tracker.update(m) });
      },
      (message) =>
        new FlowSessionError(
          'push-failed',
          `Pushing ${ref} failed: ${message}`,
          'Check the registry address and your login (`docker login <registry>`).',
        ),
    );
    return digest;
  }

  tagImage(ref: string, repo: string, tag: string): Promise<void> {
    return this.call(`tag ${ref}`, async () => {
      await this.docker.getImage(ref).tag({ repo, tag });
    });
  }

  async removeImage(ref: string, force = false): Promise<void> {
    try {
      await this.docker.getImage(ref).remove({ force });
    } catch (e) {
      if (statusOf(e) !== 404) throw engineError(e, this.endpoint, `remove image ${ref}`);
    }
  }

  async buildImage(context: Readable, options: BuildOptions): Promise<string> {
    let id: string | undefined;
    const buildOptions = {
      t: options.tag,
      labels: options.labels,
      buildargs: options.buildArgs,
      networkmode: options.networkMode,
      dockerfile: options.dockerfile,
      rm: true,
      forcerm: true,
    } as Docker.ImageBuildOptions;
    await this.streamed(
      'build an image',
      () => this.docker.buildImage(context as unknown as NodeJS.ReadableStream, buildOptions) as unknown as Promise<Readable>,
      (m) => {
        if (m.aux?.ID) id = m.aux.ID;
        const built = m.stream && /Successfully built ([0-9a-f]+)/.exec(m.stream);
        if (built) id ??= built[1];
        if (m.stream) options.onProgress?.({ phase: 'building', log: m.stream });
        else if (m.status) options.onProgress?.({ phase: 'building', message: m.status });
      },
      (message) =>
        new FlowSessionError(
          'build-failed',
          `Building ${options.tag} failed: ${message}`,
          'Read the build log, fix the Dockerfile or its inputs, and build again.',
        ),
    );
    const image = await this.inspectImage(options.tag);
    if (!image)
      throw new FlowSessionError(
        'build-failed',
        `The build of ${options.tag} produced no image${id ? ` (${id})` : ''}.`,
        'Build again; check the engine log if it persists.',
      );
    return image.id;
  }

  async registryDigest(ref: string): Promise<string | undefined> {
    try {
      const d =
        (await (
          this.docker.getImage(ref) as unknown as { distribution(): Promise<{ Descriptor?: { digest?: string } }> }
        ).distribution()) ?? {};
      return d.Descriptor?.digest;
    } catch (e) {
      if (statusOf(e) === 404 || statusOf(e) === 401 || statusOf(e) === 403) return undefined;
      throw engineError(e, this.endpoint, `ask the registry about ${ref}`);
    }
  }

  createContainer(spec: ContainerSpec): Promise<string> {
    return this.call('create a container', async () => {
      const hostConfig: Docker.HostConfig = {
        Init: true,
        NetworkMode: spec.networkMode || undefined,
      };
      if (spec.hardened) {
        hostConfig.CapDrop = ['ALL'];
        hostConfig.SecurityOpt = ['no-new-privileges'];
        if (spec.cpus && spec.cpus > 0) hostConfig.NanoCpus = Math.round(spec.cpus * 1e9);
        if (spec.memoryMb && spec.memoryMb > 0) hostConfig.Memory = spec.memoryMb * 1024 * 1024;
        hostConfig.PidsLimit = 4096;
      }
      const c = await this.docker.createContainer({
        name: spec.name,
        Image: spec.image,
        Entrypoint: spec.entrypoint,
        Cmd: spec.cmd,
        User: spec.user,
        WorkingDir: spec.workingDir,
        Labels: spec.labels,
        Env: spec.env,
        HostConfig: hostConfig,
      });
      return c.id;
    });
  }

  startContainer(id: string): Promise<void> {
    return this.call('start the container', async () => {
      try {
        await this.docker.getContainer(id).start();
      } catch (e) {
        if (statusOf(e) !== 304) throw e;
      }
    });
  }

  stopContainer(id: string, timeoutSeconds = 5): Promise<void> {
    return this.call('stop the container', async () => {
      try {
        await this.docker.getContainer(id).stop({ t: timeoutSeconds });
      } catch (e) {
        if (statusOf(e) !== 304 && statusOf(e) !== 404) throw e;
      }
    });
  }

  killContainer(id: string): Promise<void> {
    return this.call('kill the container', async () => {
      try {
        await this.docker.getContainer(id).kill();
      } catch (e) {
        if (statusOf(e) !== 409 && statusOf(e) !== 404) throw e;
      }
    });
  }

  removeContainer(id: string): Promise<void> {
    return this.call('remove the container', async () => {
      try {
        await this.docker.getContainer(id).remove({ force: true, v: true });
      } catch (e) {
        // 409: removal already in progress (another window), 404: already gone
        if (statusOf(e) !== 404 && statusOf(e) !== 409) throw e;
      }
    });
  }

  async containerStats(id: string): Promise<ContainerStats> {
    return this.call('read the container statistics', async () => {
      const s = (await this.docker.getContainer(id).stats({ stream: false })) as unknown as {
        memory_stats?: { usage?: number; max_usage?: number };
        cpu_stats?: { cpu_usage?: { total_usage?: number } };
      };
      return {
        memoryBytes: s.memory_stats?.usage ?? 0,
        ...(s.memory_stats?.max_usage ? { memoryPeakBytes: s.memory_stats.max_usage } : {}),
        cpuNanos: s.cpu_stats?.cpu_usage?.total_usage ?? 0,
      };
    });
  }

  async inspectContainer(id: string): Promise<ContainerDetails | undefined> {
    try {
      const c = await this.docker.getContainer(id).inspect();
      const h = c.HostConfig as Docker.HostConfig;
      return {
        id: c.Id,
        name: c.Name.replace(/^\//, ''),
        image: c.Config.Image,
        imageId: c.Image,
        state: c.State.Status,
        running: c.State.Running,
        exitCode: c.State.ExitCode,
        startedAt: c.State.StartedAt,
        finishedAt: c.State.FinishedAt,
        oomKilled: c.State.OOMKilled,
        labels: c.Config.Labels ?? {},
        user: c.Config.User,
        hostConfig: {
          capDrop: h.CapDrop ?? [],
          securityOpt: h.SecurityOpt ?? [],
          nanoCpus: h.NanoCpus ?? 0,
          memory: h.Memory ?? 0,
          init: !!h.Init,
          networkMode: h.NetworkMode ?? '',
          binds: h.Binds ?? [],
        },
      };
    } catch (e) {
      if (statusOf(e) === 404) return undefined;
      throw engineError(e, this.endpoint, 'inspect the container');
    }
  }

  listContainers(labels: Record<string, string | true>): Promise<ContainerSummary[]> {
    return this.call('list containers', async () => {
      const list = await this.docker.listContainers({ all: true, filters: { label: labelFilters(labels) } });
      return list.map((c) => ({
        id: c.Id,
        name: (c.Names[0] ?? '').replace(/^\//, ''),
        image: c.Image,
        state: c.State,
        status: c.Status,
        labels: c.Labels ?? {},
      }));
    });
  }

  commitContainer(id: string, options: CommitOptions): Promise<string> {
    return this.call('save the image', async () => {
      const r = await (this.docker
        .getContainer(id)
        .commit({ repo: options.repo, tag: options.tag, changes: options.changes, pause: true } as never) as unknown as Promise<{
        Id: string;
      }>);
      return r.Id;
    });
  }

  async exec(id: string, argv: string[], options: ExecOptions = {}): Promise<ExecResult> {
    const exec = await this.call('run a command in the container', () =>
      this.docker
        .getContainer(id)
        .exec({ Cmd: argv, AttachStdout: true, AttachStderr: true, User: options.user, Env: options.env, WorkingDir: options.workingDir }),
    );
    const stream = (await this.call('run a command in the container', () =>
      exec.start({ hijack: true, stdin: false }),
    )) as unknown as Readable;
    const limit = options.maxOutputBytes ?? 4 * 1024 * 1024;
    const out = new TailBuffer(limit);
    const err = new TailBuffer(limit);
    const sink = (buf: TailBuffer, on?: (t: string) => void) =>
      new Writable({
        write(chunk: Buffer, _enc, cb) {
          buf.push(chunk);
          on?.(chunk.toString('utf8'));
          cb();
        },
      });
    const onAbort = () => stream.destroy();
    options.signal?.addEventListener('abort', onAbort);
    try {
      await new Promise<void>((resolve, reject) => {
        this.docker.modem.demuxStream(stream, sink(out, options.onStdout), sink(err, options.onStderr));
        stream.on('end', resolve);
        stream.on('close', resolve);
        stream.on('error', reject);
      });
    } finally {
      options.signal?.removeEventListener('abort', onAbort);
    }
    const exitCode = await this.execExitCode(exec);
    return { exitCode, stdout: out.toString(), stderr: err.toString() };
  }

  private async execExitCode(exec: Docker.Exec): Promise<number> {
    // the engine may report the exit code a moment after the stream ends
    for (let i = 0; i < 50; i++) {
      const info = await this.call('read the exit code', () => exec.inspect());
      if (!info.Running && info.ExitCode !== null && info.ExitCode !== undefined) return info.ExitCode;
      await new Promise((r) => setTimeout(r, 20));
    }
    return -1;
  }

  /** A process in the container with its stdin, stdout and stderr on one hijacked socket (a TTY when `tty`). */
  private async attachedExec(
    id: string,
    argv: string[],
    options: Pick<ExecOptions, 'user' | 'env' | 'workingDir'>,
    tty: boolean,
    what: string,
  ): Promise<{ exec: Docker.Exec; socket: import('stream').Duplex }> {
    const exec = await this.call(what, () =>
      this.docker.getContainer(id).exec({
        Cmd: argv,
        AttachStdin: true,
        AttachStdout: true,
        AttachStderr: true,
        ...(tty ? { Tty: true } : {}),
        User: options.user,
        Env: options.env,
        WorkingDir: options.workingDir,
      }),
    );
    const socket = (await this.call(what, () =>
      exec.start({ hijack: true, stdin: true, ...(tty ? { Tty: true } : {}) } as never),
    )) as unknown as import('stream').Duplex;
    return { exec, socket };
  }

  async execSession(id: string, argv: string[], options: Pick<ExecOptions, 'user' | 'env' | 'workingDir'> = {}): Promise<ExecSession> {
    const { exec, socket } = await this.attachedExec(id, argv, options, false, 'start a process in the container');
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    this.docker.modem.demuxStream(socket, stdout, stderr);
    const exited = new Promise<number>((resolve) => {
      let done = false;
      const finish = () => {
        if (done) return;
        done = true;
        stdout.end();
        stderr.end();
        this.execExitCode(exec).then(resolve, () => resolve(-1));
      };
      socket.on('end', finish);
      socket.on('close', finish);
      socket.on('error', finish);
    });
    return { stdin: socket, stdout, stderr, exited, close: () => socket.destroy() };
  }

  async execTty(
    id: string,
    argv: string[],
    options: Pick<ExecOptions, 'user' | 'env' | 'workingDir'> & { cols: number; rows: number },
  ): Promise<TtyExec> {
    const { exec, socket } = await this.attachedExec(id, argv, options, true, 'open a terminal in the container');
    const resize = (cols: number, rows: number) =>
      this.call('resize the terminal', async () => {
        await exec.resize({ w: Math.max(1, Math.floor(cols)), h: Math.max(1, Math.floor(rows)) } as never);
      });
    await resize(options.cols, options.rows).catch(() => undefined);
    const decoder = new StringDecoder('utf8');
    const listeners: ((text: string) => void)[] = [];
    socket.on('data', (chunk: Buffer) => {
      const text = decoder.write(chunk);
      if (text) for (const l of listeners) l(text);
    });
    const exited = new Promise<number>((resolve) => {
      let done = false;
      const finish = () => {
        if (done) return;
        done = true;
        this.execExitCode(exec).then(resolve, () => resolve(-1));
      };
      socket.on('end', finish);
      socket.on('close', finish);
      socket.on('error', finish);
    });
    return {
      write: (data) => {
        if (!socket.destroyed) socket.write(data);
      },
      onData: (l) => {
        listeners.push(l);
      },
      resize,
      exited,
      close: () => socket.destroy(),
    };
  }

  putArchive(id: string, destination: string, tar: Readable | Buffer): Promise<void> {
    return this.call('copy files into the container', async () => {
      await this.docker.getContainer(id).putArchive(tar as never, { path: destination });
    });
  }

  subscribe(
    labels: Record<string, string | true>,
    onEvent: (e: EngineEvent) => void,
    onState?: (connected: boolean) => void,
  ): EventSubscription {
    return subscribeEvents(
      (since) =>
        this.docker.getEvents({
          since,
          filters: { type: ['container'], label: labelFilters(labels) },
        } as never) as unknown as Promise<Readable>,
      onEvent,
      onState,
    );
  }
}
