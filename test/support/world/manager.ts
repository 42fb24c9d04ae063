import type { EngineEndpoint } from '../../../src/core/docker/endpoint';
import type { Engine } from '../../../src/core/docker/engine';
import { createCoreServices, type CoreServices } from '../../../src/core/services';
import type { SessionManager } from '../../../src/core/session/sessionManager';
import { settingsFromEnv } from '../../../src/cli/settingsFromEnv';
import { testEngine, world } from './world';

/** The core services configured like the CLI in the test world, on the test engine or the engine given. */
export function testServices(
  overrides: Record<string, string> = {},
  where: { engine?: Engine; endpoint?: EngineEndpoint } = {},
): CoreServices {
  const env = { ...process.env, ...world().env, ...overrides };
  const engine = where.engine ?? (where.endpoint ? undefined : testEngine());
  return createCoreServices({
    engine,
    endpoint: where.endpoint,
    settings: settingsFromEnv(env, {}),
    baseImageOverride: env.FLOWSESSION_BASE_IMAGE,
  });
}

/** A session manager configured like the CLI in the test world. */
export function testManager(overrides: Record<string, string> = {}): SessionManager {
  return testServices(overrides).manager;
}
