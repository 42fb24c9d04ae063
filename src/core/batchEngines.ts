import { engineName, resolveEngineSpec } from './docker/endpoint';
import { createCoreServices } from './services';
import type { SessionSettings } from './settings';
import type { BatchEngine } from './runs/engineBatchScheduler';

/** Session managers, one per engine named, told apart by their context or address. */
export function openEngines(
  specs: string[],
  settings: SessionSettings,
  env: NodeJS.ProcessEnv,
  baseImageOverride?: string,
  log?: (l: string) => void,
): BatchEngine[] {
  const seen = new Map<string, number>();
  return specs.map((spec) => {
    const endpoint = resolveEngineSpec(spec, { env });
    let name = spec.includes('://') ? engineName(endpoint) : spec;
    const n = seen.get(name) ?? 0;
    seen.set(name, n + 1);
    if (n) name = `${name}#${n + 1}`;
    return { name, manager: createCoreServices({ endpoint, settings, baseImageOverride, log }).manager };
  });
}
