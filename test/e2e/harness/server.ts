/**
 * Starts code-server hermetically (E2E.md "Starting it hermetically"): empty config, no auth, loopback on a
 * free port, no telemetry or update checks, fresh user-data and extensions dirs and XDG dirs inside the run
 * folder, no marketplace, in its own process group that stop() ends as a whole.
 */
import { spawn, type ChildProcess } from 'child_process';
import * as fs from 'fs';
import * as net from 'net';
import * as path from 'path';
import { REPO_ROOT, requireInstalled } from './paths';

/** Built-ins no test of ours needs (each costs start time; some call out to the network). */
export const SKIPPED_BUILTINS = [
  'GitHub.copilot-chat',
  'vscode.git',
  'vscode.git-base',
  'vscode.github',
  'vscode.github-authentication',
  'vscode.microsoft-authentication',
  'ms-vscode.js-debug',
  'ms-vscode.js-debug-companion',
  'ms-vscode.vscode-js-profile-table',
  'vscode.debug-auto-launch',
  'vscode.debug-server-ready',
  'vscode.emmet',
  'vscode.npm',
  'vscode.typescript-language-features',
  'vscode.merge-conflict',
  'vscode.tunnel-forwarding',
  'vscode.terminal-suggest',
  'vscode.simple-browser',
  'vscode.extension-editing',
  'vscode.references-view',
  'vscode.ipynb',
  'vscode.php-language-features',
  'vscode.css-language-features',
  'vscode.html-language-features',
  'vscode.mermaid-markdown-features',
  'vscode.markdown-math',
];

export const DEFAULT_SETTINGS: Record<string, unknown> = {
  'telemetry.telemetryLevel': 'off',
  'update.mode': 'none',
  'extensions.autoCheckUpdates': false,
  'extensions.autoUpdate': false,
  'extensions.ignoreRecommendations': true,
  'workbench.enableExperiments': false,
  'workbench.tips.enabled': false,
  'workbench.startupEditor': 'none',
  'workbench.welcomePage.walkthroughs.openOnInstall': false,
  'security.workspace.trust.enabled': false,
  'git.enabled': false,
  'git.autoRepositoryDetection': false,
  'chat.disableAIFeatures': true,
  'files.autoSave': 'off',
  'workbench.secondarySideBar.defaultVisibility': 'hidden',
  // typing in tests produces exactly the typed text
  'editor.autoClosingBrackets': 'never',
  'editor.autoClosingQuotes': 'never',
  'editor.autoClosingOvertype': 'never',
  'editor.autoSurround': 'never',
  'editor.autoIndent': 'none',
  'editor.formatOnType': false,
  'editor.quickSuggestions': { other: false, comments: false, strings: false },
  'editor.suggestOnTriggerCharacters': false,
  'editor.acceptSuggestionOnEnter': 'off',
  'editor.parameterHints.enabled': false,
  'editor.hover.enabled': false,
};

export interface ServerOptions {
  runDir: string;
  /** pass `--vscode-option enable-smoke-test-driver` (mode A) */
  smokeTestDriver?: boolean;
  /** defaults to <runDir>/extensions (fresh) */
  extensionsDir?: string;
  /**
   * extra user settings, merged over DEFAULT_SETTINGS; `'security.workspace.trust.enabled': true` turns Workspace
   * Trust on, and the folder opens in Restricted Mode (no startup prompt)
   */
  settings?: Record<string, unknown>;
  /** extra environment of the server (and so of the extension host) */
  env?: Record<string, string>;
  skipBuiltins?: string[];
  /** fixed port instead of a free one (serve.mjs) */
  port?: number;
  readyTimeoutMs?: number;
  /** echo the server's output to stderr */
  echo?: boolean;
}

export interface CodeServer {
  url: string;
  port: number;
  runDir: string;
  extensionsDir: string;
  logFile: string;
  /** lines printed so far (stdout and stderr) */
  lines: string[];
  /** resolves with the first line (past or future) matching re */
  waitForLine(re: RegExp, timeoutMs: number): Promise<RegExpMatchArray>;
  /** resolves when the server process has exited */
  exited: Promise<number | null>;
  stop(): Promise<void>;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

/** This process's environment without what `npm test` adds (scripts/e2e/cleanEnv.cjs). */
function outerNpmFree(): NodeJS.ProcessEnv {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- a CommonJS module of the scripts, loaded at run time
  const { withoutOuterNpm } = require(path.join(REPO_ROOT, 'scripts', 'e2e', 'cleanEnv.cjs')) as {
    withoutOuterNpm(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv;
  };
  return withoutOuterNpm(process.env);
}

/** The environment of a code-server (or chromium) confined to the run folder. */
export function hermeticEnv(runDir: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const xdg = (n: string) => {
    const d = path.join(runDir, 'xdg', n);
    fs.mkdirSync(d, { recursive: true });
    return d;
  };
  return {
    ...outerNpmFree(),
    XDG_CONFIG_HOME: xdg('config'),
    XDG_DATA_HOME: xdg('data'),
    XDG_CACHE_HOME: xdg('cache'),
    XDG_STATE_HOME: xdg('state'),
    ...extra,
  };
}

const live = new Set<ChildProcess>();
process.on('exit', () => {
  for (const c of live) killGroup(c, 'SIGKILL');
});
// code-server runs detached: a harness stopped by a signal takes its servers along
for (const [signal, code] of [
  ['SIGINT', 130],
  ['SIGTERM', 143],
  ['SIGHUP', 129],
] as const) {
  process.once(signal, () => {
    for (const c of live) killGroup(c, 'SIGKILL');
    if (process.listenerCount(signal) === 0) process.exit(code);
  });
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    /* already gone */
  }
}

function writeSettings(userDataDir: string, settings: Record<string, unknown>): void {
  const user = path.join(userDataDir, 'User');
  fs.mkdirSync(user, { recursive: true });
  fs.writeFileSync(path.join(user, 'settings.json'), JSON.stringify(settings, null, 2));
}

export async function startCodeServer(opts: ServerOptions): Promise<CodeServer> {
  const tools = requireInstalled();
  const runDir = opts.runDir;
  const serverDir = path.join(runDir, 'server');
  const userDataDir = path.join(serverDir, 'user-data');
  const extensionsDir = opts.extensionsDir ?? path.join(serverDir, 'extensions');
  fs.mkdirSync(extensionsDir, { recursive: true });
  const settings = { ...DEFAULT_SETTINGS, ...opts.settings };
  const trust = settings['security.workspace.trust.enabled'] === true;
  writeSettings(userDataDir, trust ? { 'security.workspace.trust.startupPrompt': 'never', ...settings } : settings);
  const configFile = path.join(serverDir, 'config.yaml');
  fs.writeFileSync(configFile, '');
  const logFile = path.join(runDir, 'server.log');
  const logStream = fs.createWriteStream(logFile, { flags: 'a' });

  const port = opts.port ?? (await freePort());
  const args = [
    tools.codeServerEntry,
    '--config',
    configFile,
    '--auth',
    'none',
    '--bind-addr',
    `127.0.0.1:${port}`,
    '--disable-telemetry',
    '--disable-update-check',
    ...(trust ? [] : ['--disable-workspace-trust']),
    '--disable-getting-started-override',
    '--user-data-dir',
    userDataDir,
    '--extensions-dir',
    extensionsDir,
    ...(opts.smokeTestDriver ? ['--vscode-option', 'enable-smoke-test-driver'] : []),
  ];
  const env = hermeticEnv(runDir, {
    PATH: `${tools.nodeBin}${path.delimiter}${outerNpmFree().PATH ?? ''}`,
    EXTENSIONS_GALLERY: '{}',
    VSCODE_SKIP_BUILTIN_EXTENSIONS: (opts.skipBuiltins ?? SKIPPED_BUILTINS).join(','),
    ...opts.env,
  });
  // code-server must not inherit a parent code-server's or VS Code's IPC variables
  for (const k of Object.keys(env)) if (/^(VSCODE_IPC_HOOK|VSCODE_PID|ELECTRON_RUN_AS_NODE)/.test(k)) delete env[k];

  const child = spawn(tools.node, args, { env, detached: true, stdio: ['ignore', 'pipe', 'pipe'], cwd: runDir });
  live.add(child);
  const lines: string[] = [];
  const waiters: { re: RegExp; resolve: (m: RegExpMatchArray) => void }[] = [];
  const onData = (buf: Buffer) => {
    logStream.write(buf);
    if (opts.echo) process.stderr.write(buf);
    for (const line of buf.toString('utf8').split(/\r?\n/)) {
      if (!line) continue;
      lines.push(line);
      for (let i = waiters.length - 1; i >= 0; i--) {
        const m = line.match(waiters[i].re);
        if (m) waiters.splice(i, 1)[0].resolve(m);
      }
    }
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  const exited = new Promise<number | null>((resolve) =>
    child.on('exit', (code) => {
      live.delete(child);
      resolve(code);
    }),
  );

  const waitForLine = (re: RegExp, timeoutMs: number): Promise<RegExpMatchArray> => {
    for (const l of lines) {
      const m = l.match(re);
      if (m) return Promise.resolve(m);
    }
    return new Promise((resolve, reject) => {
      const w = { re, resolve: (m: RegExpMatchArray) => (clearTimeout(t), resolve(m)) };
      const t = setTimeout(() => {
        waiters.splice(waiters.indexOf(w), 1);
        reject(new Error(`code-server printed no line matching ${re} within ${timeoutMs} ms (log: ${logFile})`));
      }, timeoutMs);
      waiters.push(w);
    });
  };

  const stop = async () => {
    killGroup(child, 'SIGTERM');
    const done = await Promise.race([exited.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 5000))]);
    if (!done) killGroup(child, 'SIGKILL');
    // the group may hold children (extension host, pty host) that outlive the server
    killGroup(child, 'SIGKILL');
    try {
      if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
    } catch {
      /* group gone */
    }
    await new Promise<void>((r) => logStream.end(r));
  };

  const ready = waitForLine(/HTTP server listening/, opts.readyTimeoutMs ?? 60_000);
  const early = exited.then((code) => {
    throw new Error(`code-server exited with code ${code} before it was ready (log: ${logFile}):\n${lines.slice(-20).join('\n')}`);
  });
  try {
    await Promise.race([ready, early]);
  } catch (e) {
    await stop();
    throw e;
  }
  early.catch(() => undefined);
  return { url: `http://127.0.0.1:${port}`, port, runDir, extensionsDir, logFile, lines, waitForLine, exited, stop };
}
