import { rootsFromList } from '../core/flow/includeScope';
import { defaultSettings, type SessionSettings } from '../core/settings';

/** What the extension reads from `flowsession.*` (a `WorkspaceConfiguration.get` stand-in, so this stays editor-free). */
export type ConfigGetter = <T>(key: string) => T | undefined;
/** Whether the user set `flowsession.<key>` in any scope (a `WorkspaceConfiguration.inspect` stand-in). */
export type ConfigSetCheck = (key: string) => boolean;

export interface ExtensionSettings {
  session: SessionSettings;
  /** FLOWSESSION_BASE_IMAGE: wins over flow.dag.yaml and settings, as in the CLI (tests point sessions at a local image) */
  baseImageOverride?: string;
  /** FLOWSESSION_DEFAULT_BASE_IMAGE, when it stands in for the default base image (the user set none) */
  defaultBaseImageFromEnv?: string;
  /** flowsession.engine: a Docker context name */
  context?: string;
  autoStartSession: boolean;
  registry: string;
  /** flowsession.allowedIncludeRoots, then FLOWSESSION_ALLOWED_INCLUDE_ROOTS: folders includes and symlinks may reach */
  allowedIncludeRoots: string[];
}

const list = (v: string | undefined) => (v ? v.split(/[\s,]+/).filter(Boolean) : []);

function num(v: unknown, fallback: number): number {
  return typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : fallback;
}

function strings(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string' && x.trim() !== '').map((x) => x.trim()) : [];
}

/** The extension's settings: VS Code configuration, with the same FLOWSESSION_* overrides the CLI honours for tests. */
export function settingsFromConfig(
  get: ConfigGetter,
  env: NodeJS.ProcessEnv = process.env,
  isSet: ConfigSetCheck = () => true,
): ExtensionSettings {
  const s = defaultSettings();
  const str = (key: string, fallback = '') => {
    const v = get<string>(key);
    return typeof v === 'string' ? v.trim() : fallback;
  };
  s.dockerHost = str('dockerHost') || env.FLOWSESSION_DOCKER_HOST || '';
  // FLOWSESSION_DEFAULT_BASE_IMAGE (as in the CLI) replaces only the default: a base image the user set wins
  const envDefault = env.FLOWSESSION_DEFAULT_BASE_IMAGE?.trim() || undefined;
  const defaultBaseImageFromEnv = envDefault && !(isSet('baseImage') && str('baseImage')) ? envDefault : undefined;
  s.baseImage = defaultBaseImageFromEnv || str('baseImage') || s.baseImage;
  s.idleTimeoutMinutes = num(get('idleTimeoutMinutes'), s.idleTimeoutMinutes);
  s.cpus = num(get('cpus'), s.cpus);
  s.memoryMb = num(get('memoryMb'), s.memoryMb);
  s.network = str('network') || s.network;
  s.otlpEndpoint = str('tracing.otlpEndpoint');
  s.pip = {
    indexUrl: str('pip.indexUrl'),
    extraIndexUrl: strings(get('pip.extraIndexUrl')),
    findLinks: strings(get('pip.findLinks')),
    trustedHost: strings(get('pip.trustedHost')),
    noIndex: get<boolean>('pip.noIndex') === true,
  };
  applyEnvOverrides(s, env);
  for (const pair of list(env.FLOWSESSION_EXTRA_LABELS)) {
    const eq = pair.indexOf('=');
    if (eq > 0) s.extraLabels[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return {
    session: s,
    baseImageOverride: env.FLOWSESSION_BASE_IMAGE?.trim() || undefined,
    defaultBaseImageFromEnv,
    context: str('engine') || undefined,
    autoStartSession: get<boolean>('autoStartSession') === true,
    registry: str('registry').replace(/\/+$/, ''),
    allowedIncludeRoots: [...strings(get('allowedIncludeRoots')), ...rootsFromList(env.FLOWSESSION_ALLOWED_INCLUDE_ROOTS)],
  };
}

/**
 * The CLI's FLOWSESSION_* variables, when set, win over the VS Code settings: the test world and CI start
 * the editor with them (a loopback wheelhouse, host networking, small limits), as they start the CLI.
 */
function applyEnvOverrides(s: ReturnType<typeof defaultSettings>, env: NodeJS.ProcessEnv): void {
  const n = (name: string): number | undefined => {
    const v = env[name];
    const x = Number(v);
    return v !== undefined && v !== '' && Number.isFinite(x) && x >= 0 ? x : undefined;
  };
  s.network = env.FLOWSESSION_NETWORK || s.network;
  if (env.FLOWSESSION_OTLP_ENDPOINT?.trim()) s.otlpEndpoint = env.FLOWSESSION_OTLP_ENDPOINT.trim();
  s.cpus = n('FLOWSESSION_CPUS') ?? s.cpus;
  s.memoryMb = n('FLOWSESSION_MEMORY_MB') ?? s.memoryMb;
  s.idleTimeoutMinutes = n('FLOWSESSION_IDLE_TIMEOUT_MINUTES') ?? s.idleTimeoutMinutes;
  if (env.FLOWSESSION_PIP_INDEX_URL) s.pip.indexUrl = env.FLOWSESSION_PIP_INDEX_URL;
  if (env.FLOWSESSION_PIP_EXTRA_INDEX_URL) s.pip.extraIndexUrl = list(env.FLOWSESSION_PIP_EXTRA_INDEX_URL);
  if (env.FLOWSESSION_PIP_FIND_LINKS) s.pip.findLinks = list(env.FLOWSESSION_PIP_FIND_LINKS);
  if (env.FLOWSESSION_PIP_TRUSTED_HOST) s.pip.trustedHost = list(env.FLOWSESSION_PIP_TRUSTED_HOST);
  if (env.FLOWSESSION_PIP_NO_INDEX === '1' || env.FLOWSESSION_PIP_NO_INDEX === 'true') s.pip.noIndex = true;
}

/** Settings whose change needs a new engine connection and session manager. */
export const ENGINE_SETTINGS = ['dockerHost', 'engine', 'baseImage', 'idleTimeoutMinutes', 'cpus', 'memoryMb', 'network', 'pip', 'tracing'];
