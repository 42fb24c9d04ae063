import type { Readable, Writable } from 'stream';
import type { EngineEndpoint } from './endpoint';
import type { ProgressListener } from './progress';

export interface EngineInfo {
  version: string;
  apiVersion: string;
  os: string;
  arch: string;
}

export interface ImageSummary {
  id: string;
  tags: string[];
  labels: Record<string, string>;
  created: number;
  repoDigests: string[];
  /** the image config's environment (KEY=value); empty in list results */
  env: string[];
}

export interface ContainerSummary {
  id: string;
  name: string;
  image: string;
  state: string;
  /** the engine's status text, e.g. "Exited (137) 2 minutes ago" (list results only) */
  status?: string;
  labels: Record<string, string>;
}

export interface ContainerStats {
  memoryBytes: number;
  /** the highest memory use the engine saw (cgroup v1 engines report it; v2 engines do not) */
  memoryPeakBytes?: number;
  /** CPU time used since the container started, in nanoseconds */
  cpuNanos: number;
}

export interface ContainerDetails extends ContainerSummary {
  running: boolean;
  exitCode: number;
  startedAt: string;
  finishedAt: string;
  oomKilled: boolean;
  user: string;
  imageId: string;
  hostConfig: {
    capDrop: string[];
    securityOpt: string[];
    nanoCpus: number;
    memory: number;
    init: boolean;
    networkMode: string;
    binds: string[];
  };
}

export interface ContainerSpec {
  name?: string;
  image: string;
  entrypoint?: string[];
  cmd?: string[];
  user?: string;
  workingDir?: string;
  labels: Record<string, string>;
  env?: string[];
  /** the hardening every flowsession container gets; false only for short-lived image build steps that need root */
  hardened: boolean;
  cpus?: number;
  memoryMb?: number;
  networkMode?: string;
}

export interface ExecOptions {
  user?: string;
  env?: string[];
  workingDir?: string;
  /** receives output as it arrives */
  onStdout?: (text: string) => void;
  onStderr?: (text: string) => void;
  /** cap on the output kept in the result (the tail is kept) */
  maxOutputBytes?: number;
  signal?: AbortSignal;
}

export interface ExecResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** A long-lived exec with its stdin open: the runtime's transport. */
export interface ExecSession {
  stdin: Writable;
  stdout: Readable;
  stderr: Readable;
  /** resolves with the exit code once the process ends */
  exited: Promise<number>;
  close(): void;
}

/** An interactive exec with a TTY (one stream, no stdout/stderr split): a terminal in the container. */
export interface TtyExec {
  /** keyboard input */
  write(data: string): void;
  /** everything the process prints */
  onData(listener: (text: string) => void): void;
  resize(cols: number, rows: number): Promise<void>;
  /** resolves with the exit code once the process ends */
  exited: Promise<number>;
  close(): void;
}

export interface EngineEvent {
  type: string;
  action: string;
  id: string;
  labels: Record<string, string>;
  time: number;
}

export interface EventSubscription {
  dispose(): void;
}

export interface BuildOptions {
  tag: string;
  labels?: Record<string, string>;
  buildArgs?: Record<string, string>;
  networkMode?: string;
  dockerfile?: string;
  onProgress?: ProgressListener;
}

export interface CommitOptions {
  repo: string;
  tag: string;
  /** Dockerfile instructions applied to the image config: LABEL, CMD, ENV, USER, WORKDIR, ENTRYPOINT */
  changes: string[];
}

/** The one seam between flowsession and a container engine. */
export interface Engine {
  readonly endpoint: EngineEndpoint;
  ping(timeoutMs?: number): Promise<EngineInfo>;

  inspectImage(ref: string): Promise<ImageSummary | undefined>;
  listImages(labels: Record<string, string | true>): Promise<ImageSummary[]>;
  pullImage(ref: string, onProgress?: ProgressListener): Promise<void>;
  pushImage(ref: string, onProgress?: ProgressListener): Promise<string | undefined>;
  tagImage(ref: string, repo: string, tag: string): Promise<void>;
  removeImage(ref: string, force?: boolean): Promise<void>;
  /** builds from a tar context (Dockerfile at its root) and returns the image id */
  buildImage(context: Readable, options: BuildOptions): Promise<string>;
  /** digest of ref in its registry, without pulling */
  registryDigest(ref: string): Promise<string | undefined>;

  createContainer(spec: ContainerSpec): Promise<string>;
  startContainer(id: string): Promise<void>;
  stopContainer(id: string, timeoutSeconds?: number): Promise<void>;
  killContainer(id: string): Promise<void>;
  removeContainer(id: string): Promise<void>;
  inspectContainer(id: string): Promise<ContainerDetails | undefined>;
  /** one reading of a running container's resource use, from the engine (whatever the host's cgroup version) */
  containerStats(id: string): Promise<ContainerStats>;
  listContainers(labels: Record<string, string | true>): Promise<ContainerSummary[]>;
  commitContainer(id: string, options: CommitOptions): Promise<string>;

  exec(id: string, argv: string[], options?: ExecOptions): Promise<ExecResult>;
  execSession(id: string, argv: string[], options?: Pick<ExecOptions, 'user' | 'env' | 'workingDir'>): Promise<ExecSession>;
  putArchive(id: string, destination: string, tar: Readable | Buffer): Promise<void>;
  /** an interactive process with a TTY of the given size (a shell for a terminal) */
  execTty(
    id: string,
    argv: string[],
    options: Pick<ExecOptions, 'user' | 'env' | 'workingDir'> & { cols: number; rows: number },
  ): Promise<TtyExec>;

  /** label-filtered container events; reconnects until disposed */
  subscribe(
    labels: Record<string, string | true>,
    onEvent: (e: EngineEvent) => void,
    onState?: (connected: boolean) => void,
  ): EventSubscription;
}

export function labelFilters(labels: Record<string, string | true>): string[] {
  return Object.entries(labels).map(([k, v]) => (v === true ? k : `${k}=${v}`));
}
