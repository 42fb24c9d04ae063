/** What of this process's environment reaches the extension host under test: the FLOWSESSION_* and DOCKER_* variables. */
export function passedEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && /^(FLOWSESSION_|DOCKER_)/.test(k)) env[k] = v;
  return env;
}
