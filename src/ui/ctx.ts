import * as vscode from 'vscode';
import { FlowSessionError, isFlowSessionError } from '../core/errors';
import { configureIncludeRoots } from '../core/flow/includeScope';
import type { SessionChange } from '../core/session/sessionManager';
import { ConnectionStore } from './connections';
import { CustomImageStore } from './customImageStore';
import type { Services } from './services';
import { ENGINE_SETTINGS, settingsFromConfig, type ExtensionSettings } from './settingsFromConfig';

export type EngineState = 'unknown' | 'connecting' | 'reachable' | 'unreachable';

/**
 * The extension's one context object (after rust-analyzer's `Ctx`): it owns the engine connection and
 * the core services built on it, rebuilds them when the engine settings change, and forwards session
 * changes across rebuilds. Nothing here touches the engine until `services()` is called.
 */
export class Ctx implements vscode.Disposable {
  readonly log: vscode.LogOutputChannel;
  readonly connections: ConnectionStore;
  readonly customImages: CustomImageStore;
  private settingsValue: ExtensionSettings;
  private current?: { services: Promise<Services>; loaded?: Services; generation: number };
  private generation = 0;
  private pinged?: Promise<void>;
  private state: EngineState = 'unknown';
  private lastError?: FlowSessionError;
  private readonly sessionEmitter = new vscode.EventEmitter<SessionChange>();
  private readonly engineEmitter = new vscode.EventEmitter<EngineState>();
  private readonly servicesEmitter = new vscode.EventEmitter<void>();
  private readonly runsEmitter = new vscode.EventEmitter<void>();
  private readonly disposables: vscode.Disposable[] = [];
  private sessionSubscription?: { dispose(): void };
  private runsSubscription?: { dispose(): void };

  /** Session changes from the current services (this window's operations and engine events). */
  readonly onDidChangeSession = this.sessionEmitter.event;
  readonly onDidChangeEngineState = this.engineEmitter.event;
  /** The services were rebuilt (engine settings changed) or the engine was retried. */
  readonly onDidChangeServices = this.servicesEmitter.event;
  /** A run or batch run of the current services started or ended (from a command or the session panel). */
  readonly onDidChangeActiveRuns = this.runsEmitter.event;

  constructor(
    readonly extensionContext: vscode.ExtensionContext,
    log: vscode.LogOutputChannel,
  ) {
    this.log = log;
    this.settingsValue = this.readSettings();
    this.connections = new ConnectionStore(extensionContext.workspaceState, extensionContext.secrets);
    this.customImages = new CustomImageStore(extensionContext.workspaceState);
    this.disposables.push(
      this.sessionEmitter,
      this.engineEmitter,
      this.servicesEmitter,
      this.runsEmitter,
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (!e.affectsConfiguration('flowsession')) return;
        this.settingsValue = this.readSettings();
        if (ENGINE_SETTINGS.some((k) => e.affectsConfiguration(`flowsession.${k}`))) this.rebuild('settings changed');
      }),
      // the workspace's own values of the restricted settings (engine, images, pip, network) count from now on
      vscode.workspace.onDidGrantWorkspaceTrust(() => {
        this.settingsValue = this.readSettings();
        this.rebuild('workspace trusted');
      }),
    );
  }

  get extensionUri(): vscode.Uri {
    return this.extensionContext.extensionUri;
  }

  get settings(): ExtensionSettings {
    return this.settingsValue;
  }

  get engineState(): EngineState {
    return this.state;
  }

  /** Why the engine is unreachable, when it is. */
  get engineError(): FlowSessionError | undefined {
    return this.lastError;
  }

  private readSettings(): ExtensionSettings {
    const cfg = vscode.workspace.getConfiguration('flowsession');
    const isSet = (k: string) => {
      const i = cfg.inspect(k);
      return [i?.globalValue, i?.workspaceValue, i?.workspaceFolderValue].some((v) => v !== undefined);
    };
    const settings = settingsFromConfig((k) => cfg.get(k), process.env, isSet);
    configureIncludeRoots({
      containerOf: (flowDir) => vscode.workspace.getWorkspaceFolder(vscode.Uri.file(flowDir))?.uri.fsPath,
      extraRoots: settings.allowedIncludeRoots,
    });
    if (settings.defaultBaseImageFromEnv) {
      this.log.info(
        `Base image: ${settings.defaultBaseImageFromEnv} (FLOWSESSION_DEFAULT_BASE_IMAGE stands in for the default; set flowsession.baseImage to choose another)`,
      );
    }
    return settings;
  }

  private setState(state: EngineState, error?: FlowSessionError): void {
    this.lastError = error;
    void vscode.commands.executeCommand(
      'setContext',
      'flowsession.engineErrorKind',
      state === 'unreachable' ? (error?.kind ?? 'engine-error') : '',
    );
    if (state === this.state) return;
    this.state = state;
    // the views empty while the engine is unreachable: the log says why
    if (state === 'unreachable') this.log.warn(`The Docker engine is unreachable: ${error?.message ?? 'no answer'}`);
    void vscode.commands.executeCommand('setContext', 'flowsession.engineState', state);
    this.engineEmitter.fire(state);
  }

  /** The services, built on first use; rejects with a FlowSessionError when the engine cannot be reached. */
  async services(): Promise<Services> {
    const current = this.ensureBuilt();
    const services = await current.services;
    if (!this.pinged) {
      // an unreachable engine stays "unreachable" while it is asked again: views do not flap between states
      if (this.state === 'unknown') this.setState('connecting');
      this.pinged = services.engine.ping(5000).then(
        () => {
          if (current.generation === this.generation) this.setState('reachable');
        },
        (e) => {
          this.pinged = undefined; // ask again next time: the engine may have come up
          const err = isFlowSessionError(e)
            ? e
            : new FlowSessionError(
                'engine-error',
                e instanceof Error ? e.message : String(e),
                'Check flowsession.dockerHost and flowsession.engine.',
              );
          if (current.generation === this.generation) this.setState('unreachable', err);
          throw err;
        },
      );
    }
    await this.pinged;
    return services;
  }

  /** The services when they are already built (no engine call). */
  loadedServices(): Services | undefined {
    return this.current?.loaded;
  }

  private ensureBuilt(): NonNullable<Ctx['current']> {
    if (this.current) return this.current;
    const generation = ++this.generation;
    const settings = this.settingsValue;
    const entry: NonNullable<Ctx['current']> = {
      generation,
      services: import('./services').then((m) => {
        let services: Services;
        try {
          services = m.createServices(settings, (line) => this.log.debug(line));
        } catch (e) {
          if (this.current === entry) {
            if (isFlowSessionError(e)) this.setState('unreachable', e);
            this.current = undefined;
          }
          throw e;
        }
        entry.loaded = services;
        // settings changed while these were being built: the views follow the newer services, not these
        if (this.current !== entry) return services;
        this.sessionSubscription = services.manager.onDidChange((change) => {
          // an engine the settings have moved away from says nothing about the current one
          if (entry.generation !== this.generation) return;
          if (change.action === 'engine-disconnected')
            this.setState(
              'unreachable',
              new FlowSessionError(
                'engine-not-running',
                `Lost the connection to the Docker engine at ${services.engine.endpoint.host}.`,
                'Start Docker, then Retry.',
              ),
            );
          else if (change.action === 'engine-connected') this.setState('reachable');
          this.sessionEmitter.fire(change);
        });
        this.runsSubscription = services.runs.onDidChangeActiveRuns(() => this.runsEmitter.fire());
        return services;
      }),
    };
    this.current = entry;
    return entry;
  }

  /** Drops the engine connection; the next use connects again with the current settings. */
  rebuild(reason: string): void {
    this.log.info(`Reconnecting to the engine (${reason})`);
    const old = this.current;
    this.current = undefined;
    this.pinged = undefined;
    this.sessionSubscription?.dispose();
    this.sessionSubscription = undefined;
    this.runsSubscription?.dispose();
    this.runsSubscription = undefined;
    old?.loaded?.dispose();
    this.setState('unknown');
    this.servicesEmitter.fire();
  }

  /** "Retry" after an unreachable engine: connect again and tell the views. */
  async retry(): Promise<boolean> {
    this.rebuild('retry');
    try {
      await this.services();
      return true;
    } catch {
      return false;
    }
  }

  dispose(): void {
    this.sessionSubscription?.dispose();
    this.runsSubscription?.dispose();
    this.current?.loaded?.dispose();
    this.current = undefined;
    for (const d of this.disposables) d.dispose();
  }
}
