import { defaultSettings, type SessionSettings } from '../core/settings';

const list = (v: string | undefined) => (v ? v.split(/[\s,]+/).filter(Boolean) : []);

/** The CLI's settings: the defaults of the extension, overridden by FLOWSESSION_* variables and flags. */
export function settingsFromEnv(env: NodeJS.ProcessEnv, flags: { dockerHost?: string }): SessionSettings {
  const s = defaultSettings();
  const num = (name: string, fallback: number) => {
    const n = Number(env[name]);
    return env[name] !== undefined && env[name] !== '' && Number.isFinite(n) && n >= 0 ? n : fallback;
  };
  s.dockerHost = flags.dockerHost ?? env.FLOWSESSION_DOCKER_HOST ?? '';
  s.baseImage = env.FLOWSESSION_DEFAULT_BASE_IMAGE || s.baseImage;
  s.idleTimeoutMinutes = num('FLOWSESSION_IDLE_TIMEOUT_MINUTES', s.idleTimeoutMinutes);
  s.cpus = num('FLOWSESSION_CPUS', s.cpus);
  s.memoryMb = num('FLOWSESSION_MEMORY_MB', s.memoryMb);
  s.network = env.FLOWSESSION_NETWORK || s.network;
  s.otlpEndpoint = env.FLOWSESSION_OTLP_ENDPOINT?.trim() ?? '';
  s.pip = {
    indexUrl: env.FLOWSESSION_PIP_INDEX_URL ?? '',
    extraIndexUrl: list(env.FLOWSESSION_PIP_EXTRA_INDEX_URL),
    findLinks: list(env.FLOWSESSION_PIP_FIND_LINKS),
    trustedHost: list(env.FLOWSESSION_PIP_TRUSTED_HOST),
    noIndex: env.FLOWSESSION_PIP_NO_INDEX === '1' || env.FLOWSESSION_PIP_NO_INDEX === 'true',
  };
  for (const pair of list(env.FLOWSESSION_EXTRA_LABELS)) {
    const eq = pair.indexOf('=');
    if (eq > 0) s.extraLabels[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return s;
}
