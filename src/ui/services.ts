/**
 * The core services of one engine connection. Loaded with a dynamic import the first time the engine is
 * needed, so activation never loads dockerode (activation budget: 50 ms).
 */
import { resolveEndpoint } from '../core/docker/connection';
import { DockerEngine } from '../core/docker/dockerEngine';
import type { Engine } from '../core/docker/engine';
import { RunService } from '../core/runs/runService';
import { SessionManager } from '../core/session/sessionManager';
import { FlowValidator } from '../core/validation/flowValidator';
import type { ExtensionSettings } from './settingsFromConfig';

export interface Services {
  engine: Engine;
  manager: SessionManager;
  validator: FlowValidator;
  runs: RunService;
  dispose(): void;
}

export function createServices(settings: ExtensionSettings, log: (line: string) => void, env: NodeJS.ProcessEnv = process.env): Services {
  const engine = new DockerEngine(resolveEndpoint({ dockerHost: settings.session.dockerHost, context: settings.context, env }));
  const manager = new SessionManager({ engine, settings: settings.session, baseImageOverride: settings.baseImageOverride, log });
  return {
    engine,
    manager,
    validator: new FlowValidator(manager),
    runs: new RunService(manager),
    dispose: () => manager.dispose(),
  };
}
