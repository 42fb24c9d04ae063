/**
 * The core services of one engine connection for the extension. Loaded with a dynamic import the first
 * time the engine is needed, so activation never loads dockerode (activation budget: 50 ms).
 */
import { createCoreServices, type CoreServices } from '../core/services';
import type { ExtensionSettings } from './settingsFromConfig';

export type Services = CoreServices;

export function createServices(settings: ExtensionSettings, log: (line: string) => void, env: NodeJS.ProcessEnv = process.env): Services {
  return createCoreServices({
    settings: settings.session,
    context: settings.context,
    baseImageOverride: settings.baseImageOverride,
    log,
    env,
  });
}
