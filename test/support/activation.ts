import * as fs from 'fs';
import * as path from 'path';
import Module from 'module';
import * as net from 'net';

/**
 * Loads the built bundle (dist/extension.js) against a stand-in `vscode` module and measures what VS Code
 * measures as activation: loading the module plus `activate`. Goal ≤ 50 ms; no engine may be touched.
 */
const bundle = path.resolve(__dirname, '../../dist/extension.js');

function fakeVscode(calls: string[]): unknown {
  const anything: unknown = new Proxy(
    function () {
      /* callable */
    },
    {
      get: (_t, prop) => (prop === 'then' ? undefined : prop === Symbol.toPrimitive ? () => '' : anything),
      apply: () => anything,
      construct: () => anything as object,
      set: () => true,
      defineProperty: () => true,
      getOwnPropertyDescriptor: (t, p) => (p === 'prototype' ? Reflect.getOwnPropertyDescriptor(t, p) : undefined),
    },
  );
  class EventEmitter {
    private listeners: ((e: unknown) => void)[] = [];
    event = (l: (e: unknown) => void) => {
      this.listeners.push(l);
      return { dispose: () => undefined };
    };
    fire(e: unknown) {
      for (const l of this.listeners) l(e);
    }
    dispose() {
      this.listeners = [];
    }
  }
  const api: Record<string, unknown> = {
    EventEmitter,
    Disposable: class {
      static from() {
        return { dispose: () => undefined };
      }
      constructor(private readonly f: () => void) {}
      dispose() {
        this.f();
      }
    },
    commands: {
      registerCommand: (id: string) => {
        calls.push(`command ${id}`);
        return { dispose: () => undefined };
      },
      executeCommand: async () => undefined,
    },
    debug: {
      registerDebugConfigurationProvider: (type: string) => {
        calls.push(`debug configurations ${type}`);
        return { dispose: () => undefined };
      },
      registerDebugAdapterDescriptorFactory: (type: string) => {
        calls.push(`debug adapter ${type}`);
        return { dispose: () => undefined };
      },
    },
    workspace: new Proxy(
      {
        findFiles: async () => {
          calls.push('findFiles');
          return [];
        },
        getConfiguration: () => ({ get: () => undefined }),
        workspaceFolders: [],
      },
      { get: (t, p) => (p in t ? (t as Record<string | symbol, unknown>)[p] : anything) },
    ),
  };
  for (const name of [
    'window',
    'languages',
    'env',
    'extensions',
    'ProgressLocation',
    'TreeItem',
    'ThemeIcon',
    'ThemeColor',
    'Uri',
    'StatusBarAlignment',
    'MarkdownString',
    'Range',
    'Diagnostic',
    'DiagnosticSeverity',
    'TreeItemCollapsibleState',
    'ViewColumn',
    'RelativePattern',
    'WorkspaceEdit',
  ])
    api[name] ??= anything;
  return new Proxy(api, { get: (t, p) => (p in t ? t[p as string] : anything) });
}

export interface ActivationMeasure {
  /** load + activate of the fastest of `runs` fresh loads, in ms */
  total: number;
  /** activate() alone in that load */
  activate: number;
  commands: string[];
  /** whether anything opened a socket (an engine connection) during activation */
  connected: boolean;
  /** the size of every file of dist/ that activation loaded (the extension's bundle and any library it pulled in) */
  bundleBytes: number;
  bundleFiles: string[];
}

/** Loads the bundle `runs` times against a stand-in `vscode` and reports the fastest load + activate. */
export function measureActivation(runs = 3): ActivationMeasure {
  if (!fs.existsSync(bundle)) throw new Error(`${bundle} is missing: run \`npm run build\` first.`);
  const calls: string[] = [];
  const vscode = fakeVscode(calls);
  const original = (Module as unknown as { _load: (...a: unknown[]) => unknown })._load;
  let connected = false;
  (Module as unknown as { _load: (...a: unknown[]) => unknown })._load = function (this: unknown, request: unknown, ...rest: unknown[]) {
    if (request === 'vscode') return vscode;
    return original.call(this, request, ...rest);
  };
  const connect = net.Socket.prototype.connect;
  net.Socket.prototype.connect = function (this: import('net').Socket, ...args: unknown[]) {
    connected = true;
    return (connect as (...a: unknown[]) => import('net').Socket).apply(this, args);
  } as typeof connect;
  try {
    const loads: { total: number; activate: number }[] = [];
    const distDir = path.dirname(bundle) + path.sep;
    const loadedFromDist = () => Object.keys(require.cache).filter((f) => f.startsWith(distDir));
    let loaded: string[] = [];
    for (let i = 0; i < runs; i++) {
      for (const f of loadedFromDist()) delete require.cache[f];
      const t0 = performance.now();
      // eslint-disable-next-line @typescript-eslint/no-require-imports -- loading the bundle is what is measured
      const ext = require(bundle) as { activate(c: unknown): { activationMs: number } };
      const api = ext.activate({
        subscriptions: [],
        extensionUri: anything(),
        workspaceState: { get: (_k: string, d: unknown) => d, update: async () => undefined },
        secrets: {},
      });
      loads.push({ total: performance.now() - t0, activate: api.activationMs });
      loaded = loadedFromDist();
    }
    loads.sort((a, b) => a.total - b.total);
    const bundleBytes = loaded.reduce((n, f) => n + fs.statSync(f).size, 0);
    return { ...loads[0], commands: calls, connected, bundleBytes, bundleFiles: loaded.map((f) => path.relative(distDir, f)) };
  } finally {
    (Module as unknown as { _load: unknown })._load = original;
    net.Socket.prototype.connect = connect;
  }
}

function anything(): unknown {
  return { fsPath: '/ext', toString: () => 'file:///ext' };
}
