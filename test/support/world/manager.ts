import { SessionManager } from '../../../src/core/session/sessionManager';
import { settingsFromEnv } from '../../../src/cli/settingsFromEnv';
import { testEngine, world } from './world';

/** A session manager configured like the CLI in the test world. */
export function testManager(overrides: Record<string, string> = {}): SessionManager {
  const env = { ...process.env, ...world().env, ...overrides };
  return new SessionManager({ engine: testEngine(), settings: settingsFromEnv(env, {}), baseImageOverride: env.FLOWSESSION_BASE_IMAGE });
}
