/** Debian's chromium driven by playwright-core: never a browser of playwright's own. */
import * as path from 'path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { hermeticEnv } from './server';
import { requireInstalled } from './paths';

export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-dev-shm-usage',
];

export interface BrowserSession {
  browser: Browser;
  context: BrowserContext;
  page: Page;
  close(): Promise<void>;
}

export async function openBrowser(runDir: string, opts: { headless?: boolean } = {}): Promise<BrowserSession> {
  const tools = requireInstalled();
  const env = hermeticEnv(runDir);
  const browser = await chromium.launch({
    executablePath: tools.chromium,
    headless: opts.headless ?? process.env.FLOWSESSION_E2E_HEADED !== '1',
    args: CHROMIUM_ARGS,
    env: env as Record<string, string>,
    downloadsPath: path.join(runDir, 'downloads'),
    timeout: 60_000,
  });
  // identity: the 19 MB workbench script is not re-gzipped on every load
  const context = await browser.newContext({
    viewport: { width: 1400, height: 900 },
    extraHTTPHeaders: { 'Accept-Encoding': 'identity' },
  });
  const page = await context.newPage();
  const close = async () => {
    await context.close().catch(() => undefined);
    await browser.close().catch(() => undefined);
  };
  return { browser, context, page, close };
}
