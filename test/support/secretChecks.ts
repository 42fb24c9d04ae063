import * as assert from 'assert';
import type { SessionManager } from '../../src/core/session/sessionManager';

/** Asserts that `secret` is in neither the session container's config and labels nor any process environment in it. */
export async function assertSecretNotInSession(manager: SessionManager, flowDir: string, secret: string) {
  const status = await manager.status(flowDir);
  const engine = manager.engine;
  const c = await engine.inspectContainer(status.container!);
  assert.ok(!JSON.stringify(c).includes(secret), 'not in container config or labels');
  const env = await engine.exec(status.container!, [
    'python3',
    '-c',
    'import os\nfor p in os.listdir("/proc"):\n    try: print(open("/proc/%s/environ" % p).read())\n    except Exception: pass',
  ]);
  assert.ok(!env.stdout.includes(secret), 'not in any process environment');
  return { container: status.container!, image: c!.image };
}
