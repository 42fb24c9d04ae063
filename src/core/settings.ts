/** What the user configured; the extension reads it from VS Code settings, the CLI from flags and env. */
export interface PipSettings {
  indexUrl: string;
  extraIndexUrl: string[];
  findLinks: string[];
  trustedHost: string[];
  noIndex: boolean;
}

export interface SessionSettings {
  /** engine address; empty: DOCKER_HOST, then the current Docker context, then the default socket */
  dockerHost: string;
  /** default base image when flow.dag.yaml names none */
  baseImage: string;
  idleTimeoutMinutes: number;
  cpus: number;
  memoryMb: number;
  /** network mode of session and build containers (bridge, host, none, or a network name) */
  network: string;
  pip: PipSettings;
  /** labels added to everything flowsession creates, e.g. for the user's own clean-up */
  extraLabels: Record<string, string>;
  /** an OTLP/HTTP collector that runs' traces are exported to (flowsession.tracing.otlpEndpoint); empty: none */
  otlpEndpoint: string;
}

export const DEFAULT_BASE_IMAGE = 'python:3.11-slim';

export function defaultSettings(): SessionSettings {
  return {
    dockerHost: '',
    baseImage: DEFAULT_BASE_IMAGE,
    idleTimeoutMinutes: 60,
    cpus: 2,
    memoryMb: 4096,
    network: 'bridge',
    pip: { indexUrl: '', extraIndexUrl: [], findLinks: [], trustedHost: [], noIndex: false },
    extraLabels: {},
    otlpEndpoint: '',
  };
}
