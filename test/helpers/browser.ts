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

/** The app on loopback and a French Chromium page signed in to it: what a browser test drives. */
export interface SignedInBrowser {
  /** The server's address (also ctx.config.publicUrl). */
  url: string;
  browser: Browser;
  context: BrowserContext;
  page: Page;
  /** Closes the browser and the server (not ctx). */
  close(): Promise<void>;
}

/**
 * Starts the app on `ctx` (startApp), a French browser context with one page (`viewport` when given) and signs in
 * as `login` through the form, waiting for `home` (signIn's default when absent).
 */
export async function signedInBrowser(
  ctx: AppContext,
  login: string,
  password: string,
  o: { home?: RegExp; viewport?: { width: number; height: number } } = {},
): Promise<SignedInBrowser> {
  const server = await startApp(ctx);
  let browser: Browser | undefined;
  const close = async () => {
    await browser?.close();
    await server.close();
  };
  try {
    browser = await launchBrowser();
    const context = await frenchContext(browser);
    const page = await context.newPage();
    if (o.viewport) await page.setViewportSize(o.viewport);
    await signIn(page, server.url, login, password, o.home);
    return { url: server.url, browser, context, page, close };
  } catch (e) {
    await close();
    throw e;
  }
}

/** The focused element's id once the page has settled (autofocus runs after load): `expected` or what has focus. */
export async function focusedId(page: Page, expected: string): Promise<string> {
  await page.waitForFunction(`document.activeElement && document.activeElement.id === ${JSON.stringify(expected)}`, undefined, { timeout: 3_000 }).catch(() => undefined);
  return page.evaluate('document.activeElement ? document.activeElement.id : ""') as Promise<string>;
}
