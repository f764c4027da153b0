// Real headless Chromium (Debian's) driven by playwright-core, against the app listening on loopback.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import type { AppContext } from '../../src/context.js';
import { buildServer } from '../../src/web/server.js';

export const SCREENSHOTS = join(process.cwd(), 'test-output', 'screenshots');

export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
      '--disable-sync', '--no-first-run', '--disable-quic'],
  });
}

/** Starts the real HTTP server on a free loopback port; publicUrl is set to it so QR links point here. */
export async function startApp(ctx: AppContext): Promise<{ url: string; close(): Promise<void> }> {
  const app = await buildServer(ctx);
  const address = await app.listen({ port: 0, host: '127.0.0.1' });
  ctx.config.publicUrl = address;
  return { url: address, close: () => app.close() };
}

/** A French browser context; downloads accepted. */
export function frenchContext(browser: Browser, opts: { mobile?: boolean } = {}): Promise<BrowserContext> {
  return browser.newContext({
    locale: 'fr-FR',
    acceptDownloads: true,
    ...(opts.mobile ? { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 } : {}),
  });
}

export function screenshotPath(name: string): string {
  mkdirSync(SCREENSHOTS, { recursive: true });
  return join(SCREENSHOTS, `${name}.png`);
}

/** Signs in through the login form and waits for the home the role lands on (console, class view or account). */
export async function signIn(page: Page, baseUrl: string, login: string, password: string, home: RegExp = /\/(console|classe|mon-compte)/): Promise<void> {
  await page.goto(`${baseUrl}/connexion`);
  await page.fill('#f-login', login);
  await page.fill('#f-password', password);
  await Promise.all([page.waitForURL(home), page.click('main form[action="/connexion"] button[type="submit"]')]);
}
