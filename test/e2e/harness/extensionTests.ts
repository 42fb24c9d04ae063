/**
 * Mode A: runs an `extensionTestsPath` suite (a CommonJS module exporting `run(): Promise<void>`) in
 * code-server's Node extension host, as @vscode/test-electron does in desktop VS Code (E2E.md, A).
 *
 * The workbench's exit code is trusted only when the server's "Extension Host Process exited" line agrees
 * (a test calling process.exit(n) or a killed host is reported by the workbench as 0), and only when the
 * suite entry printed its "mocha finished" line (see suiteEntry.ts); a run that never settles hits the
 * harness timeout.
 */
import * as fs from 'fs';
import * as path from 'path';
import { format } from 'util';
import { openBrowser } from './browser';
import { startCodeServer, type CodeServer } from './server';
import { installVsix, packageExtension } from './vsix';
import { EXT_HOST_MARK, SUITE_DONE_MARK } from './marks';

export const EXIT = {
  passed: 0,
  failed: 1,
  harnessError: 2,
  hostAbnormal: 3,
  timeout: 4,
} as const;

export interface ExtensionTestOptions {
  runDir: string;
  /** folder of the extension under development (its package.json) */
  extensionDevelopmentPath: string;
  /** more extensions, packaged from their folders and installed beside it (the bench's baseline extension) */
  extraExtensions?: string[];
  /** compiled suite entry (.js) */
  extensionTestsPath: string;
  /** folder (workspace) to open */
  folder: string;
  /** environment of the extension host (extensionEnvironment) */
  env?: Record<string, string>;
  /** whole-run timeout (default $FLOWSESSION_E2E_TIMEOUT_MS or 20 min) */
  timeoutMs?: number;
  /** require the suite entry's "mocha finished" line before trusting a 0 (default true) */
  requireDoneMark?: boolean;
  settings?: Record<string, unknown>;
  /** where the suite's output goes (default stdout) */
  out?: (line: string) => void;
}

export interface ExtensionTestResult {
  code: number;
  reason: string;
  durationMs: number;
  runDir: string;
}

const HOST_EXIT = /Extension Host Process exited with code: (-?\d+|null|undefined), signal: (\S+)\.?/;

export function remoteUri(absPath: string): string {
  return `vscode-remote://remote${path.resolve(absPath)}`;
}

export function payloadUrl(
  base: string,
  o: Pick<ExtensionTestOptions, 'extensionDevelopmentPath' | 'extensionTestsPath' | 'folder' | 'env'>,
): string {
  const payload = [
    ['extensionDevelopmentPath', remoteUri(o.extensionDevelopmentPath)],
    ['extensionTestsPath', remoteUri(o.extensionTestsPath)],
    ['extensionEnvironment', JSON.stringify({ ...o.env, FLOWSESSION_E2E_HARNESS: '1' })],
  ];
  return `${base}/?folder=${encodeURIComponent(path.resolve(o.folder))}&payload=${encodeURIComponent(JSON.stringify(payload))}`;
}

/** console arguments as the console would print them */
function text(args: unknown): string {
  if (Array.isArray(args)) return format(...args.map((a) => (a !== null && typeof a === 'object' ? JSON.stringify(a) : a)));
  return typeof args === 'string' ? args : JSON.stringify(args);
}

export async function runExtensionTests(o: ExtensionTestOptions): Promise<ExtensionTestResult> {
  const t0 = Date.now();
  const timeoutMs = o.timeoutMs ?? Number(process.env.FLOWSESSION_E2E_TIMEOUT_MS || 20 * 60_000);
  const out = o.out ?? ((l: string) => process.stdout.write(`${l}\n`));
  const testLog = fs.createWriteStream(path.join(o.runDir, 'tests.log'));
  const result = (code: number, reason: string): ExtensionTestResult => ({ code, reason, durationMs: Date.now() - t0, runDir: o.runDir });
  const manifests = [o.extensionDevelopmentPath, ...(o.extraExtensions ?? [])].map((d) => path.join(d, 'package.json'));
  for (const f of [o.extensionTestsPath, ...manifests, o.folder]) {
    if (!fs.existsSync(f)) return result(EXIT.harnessError, `${f} does not exist`);
  }

  let server: CodeServer | undefined;
  let closeBrowser: (() => Promise<void>) | undefined;
  let timer: NodeJS.Timeout | undefined;
  let doneMark = false;
  try {
    const extensionsDir = path.join(o.runDir, 'server', 'extensions');
    for (const dir of o.extraExtensions ?? []) installVsix(packageExtension(o.runDir, dir), extensionsDir, o.runDir);
    server = await startCodeServer({ runDir: o.runDir, smokeTestDriver: true, settings: o.settings, extensionsDir });
    const srv = server;
    const b = await openBrowser(o.runDir);
    closeBrowser = b.close;
    const page = b.page;

    let onExit: (code: number) => void = () => undefined;
    const workbenchExit = new Promise<number>((resolve) => (onExit = resolve));
    await page.exposeFunction('codeAutomationLog', (_level: string, args: unknown) => {
      // everything goes to tests.log; only the extension host's output (marked by the suite entry) to out
      const raw = text(args);
      const fromHost = raw.includes(EXT_HOST_MARK);
      const line = raw.split(EXT_HOST_MARK).join('');
      if (fromHost && line.includes(SUITE_DONE_MARK)) doneMark = true;
      testLog.write(`${fromHost ? '' : '[workbench] '}${line}\n`);
      if (fromHost) out(line);
    });
    await page.exposeFunction('codeAutomationExit', (code: number) => onExit(typeof code === 'number' ? code : 1));
    page.on('pageerror', (e) => testLog.write(`[page error] ${e.message}\n`));

    type Outcome =
      | { kind: 'exit'; code: number }
      | { kind: 'timeout' }
      | { kind: 'server'; code: number | null }
      | { kind: 'host'; m: RegExpMatchArray }
      | { kind: 'crash' };
    const outcomes: Promise<Outcome>[] = [
      workbenchExit.then((code) => ({ kind: 'exit', code })),
      new Promise((r) => (timer = setTimeout(() => r({ kind: 'timeout' }), timeoutMs))),
      srv.exited.then((code) => ({ kind: 'server', code })),
      new Promise((r) => page.on('crash', () => r({ kind: 'crash' }))),
      // a host that dies without the workbench noticing (give the workbench 15 s to report first)
      srv.waitForLine(HOST_EXIT, timeoutMs + 60_000).then(
        (m) => new Promise<Outcome>((r) => setTimeout(() => r({ kind: 'host', m }), 15_000)),
        () => new Promise<Outcome>(() => undefined),
      ),
    ];
    await page.goto(payloadUrl(srv.url, o), { waitUntil: 'domcontentloaded' });
    const first = await Promise.race(outcomes);

    if (first.kind === 'timeout') return result(EXIT.timeout, `the suite did not finish within ${timeoutMs} ms`);
    if (first.kind === 'server') return result(EXIT.harnessError, `code-server exited (code ${first.code}) during the run`);
    if (first.kind === 'crash') return result(EXIT.harnessError, 'the browser page crashed');
    if (first.kind === 'host')
      return result(
        EXIT.hostAbnormal,
        `the extension host exited (code ${first.m[1]}, signal ${first.m[2]}) and the workbench reported nothing`,
      );

    // the workbench reported an exit code: check it against the host's own exit
    const host = await srv.waitForLine(HOST_EXIT, 15_000).catch(() => undefined);
    if (!host) return result(EXIT.hostAbnormal, `the workbench reported ${first.code} but the server logged no extension host exit`);
    const [hostCode, hostSignal] = [host[1], host[2].replace(/\.$/, '')];
    const cleanHost = hostCode === '0' && (hostSignal === 'null' || hostSignal === 'undefined');
    if (first.code !== 0)
      return result(EXIT.failed, `run() rejected (workbench exit ${first.code}; host code ${hostCode}, signal ${hostSignal})`);
    if (!cleanHost)
      return result(
        EXIT.hostAbnormal,
        `the workbench reported 0 but the extension host exited with code ${hostCode}, signal ${hostSignal}`,
      );
    if ((o.requireDoneMark ?? true) && !doneMark)
      return result(EXIT.hostAbnormal, 'the extension host exited cleanly before mocha finished (process.exit in a test?)');
    return result(EXIT.passed, 'run() resolved');
  } catch (e) {
    return result(EXIT.harnessError, `harness error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
  } finally {
    if (timer) clearTimeout(timer);
    await closeBrowser?.();
    await server?.stop();
    await new Promise<void>((r) => testLog.end(r));
  }
}
