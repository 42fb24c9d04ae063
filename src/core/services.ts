/**
 * The core services of one engine connection, built in one place for the extension, the CLI, the tests
 * and the benchmarks: engine → sessions → runs, validation and images.
 */
import { resolveEndpoint, type EngineEndpoint } from './docker/endpoint';
import { DockerEngine } from './docker/dockerEngine';
import type { Engine } from './docker/engine';
import { ImageService } from './image/imageService';
import { RunService } from './runs/runService';
import { SessionManager } from './session/sessionManager';
import type { SessionSettings } from './settings';
import { FlowValidator } from './validation/flowValidator';

export interface CoreServices {
  engine: Engine;
  manager: SessionManager;
  validator: FlowValidator;
  runs: RunService;
  images: ImageService;
  /** Closes the runtime connections and the engine event subscription. */
  dispose(): void;
}

export interface CoreServicesOptions {
  settings: SessionSettings;
  /** FLOWSESSION_BASE_IMAGE / --base-image: wins over flow.dag.yaml and settings */
  baseImageOverride?: string;
  log?: (line: string) => void;
  /** where the engine is; without it (and without `engine`), from settings.dockerHost, `context` and `env` */
  endpoint?: EngineEndpoint;
  /** a Docker context chosen explicitly (flowsession.engine) */
  context?: string;
  env?: NodeJS.ProcessEnv;
  /** an engine made elsewhere (tests wrap one); wins over `endpoint` */
  engine?: Engine;
}

export function createCoreServices(o: CoreServicesOptions): CoreServices {
  const engine =
    o.engine ?? new DockerEngine(o.endpoint ?? resolveEndpoint({ dockerHost: o.settings.dockerHost, context: o.context, env: o.env }));
  const manager = new SessionManager({ engine, settings: o.settings, baseImageOverride: o.baseImageOverride, log: o.log });
  return {
    engine,
    manager,
    validator: new FlowValidator(manager),
    runs: new RunService(manager, { otlpEndpoint: o.settings.otlpEndpoint }),
    images: new ImageService({ engine, settings: o.settings, baseImageFor: (env) => manager.baseImageFor(env) }),
    dispose: () => manager.dispose(),
  };
}
