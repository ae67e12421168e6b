/**
 * What the dashboard's browser tests share: Debian's Chromium through playwright-core (never a
 * downloaded browser; --no-sandbox because the tests run as root), signing in through the sign-in
 * page as one of the demo's accounts, and screenshots for docs/screenshots/.
 */
import fs from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import type { DemoAccount, DemoStack } from '../support/demo-stack';
import { repoRoot } from '../support/stack';

export const chromiumPath = process.env.FARMIQ_CHROMIUM ?? '/usr/bin/chromium';
export const screenshotDir = path.join(repoRoot, 'docs', 'screenshots');

export const desktop = { width: 1280, height: 900 };
export const phone = { width: 390, height: 844 };

/** The demo farm the stack plays (demo/farm.json): its farm id and barns. */
export const demoFarm = JSON.parse(fs.readFileSync(path.join(repoRoot, 'demo', 'farm.json'), 'utf8')) as {
  farm_id: string;
  barns: { barn_id: string; name: string }[];
};

/** The built app the cloud HTTP server serves (make setup builds it); without it every page is the 503 notice. */
export function requireBuiltDashboard(): void {
  const index = path.join(repoRoot, 'dashboard-web', 'dist', 'index.html');
  if (!fs.existsSync(index)) throw new Error(`${index} is missing: run make setup (npm run build:dashboard) before the browser tests`);
}

export function launchBrowser(): Promise<Browser> {
  if (!fs.existsSync(chromiumPath)) throw new Error(`no Chromium at ${chromiumPath}: make setup installs Debian's chromium package`);
  return chromium.launch({ executablePath: chromiumPath, args: ['--no-sandbox'] });
}

export function account(stack: DemoStack, role: DemoAccount['role']): DemoAccount {
  const a = stack.accounts.users.find((u) => u.role === role);
  if (!a) throw new Error(`the demo has no ${role} account`);
  return a;
}

export async function newPage(browser: Browser, viewport = desktop): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  return { context, page };
}

/** Signs in through the sign-in page and waits for the signed-in header. */
export async function signIn(page: Page, baseUrl: string, who: DemoAccount, at = '/'): Promise<void> {
  await page.goto(new URL(at, baseUrl).toString());
  await page.getByLabel('Email').fill(who.email);
  await page.getByLabel('Password').fill(who.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.locator('header.top').waitFor();
}

/** A full-page screenshot docs/screenshots/<name>.png, once what the page shows has settled. */
export async function screenshot(page: Page, name: string): Promise<void> {
  fs.mkdirSync(screenshotDir, { recursive: true });
  await page.waitForLoadState('networkidle');
  await page.screenshot({ path: path.join(screenshotDir, `${name}.png`), fullPage: true });
}

/** True when the page itself scrolls sideways (tables may scroll inside their own box). */
export function scrollsSideways(page: Page): Promise<{ scrollWidth: number; clientWidth: number; sideways: boolean }> {
  // A string: this runs in the page, and the tests' TypeScript has no DOM library.
  return page.evaluate(`(() => {
    const el = document.scrollingElement || document.documentElement;
    return { scrollWidth: el.scrollWidth, clientWidth: el.clientWidth, sideways: el.scrollWidth > el.clientWidth };
  })()`);
}

/** How many pixels of the first canvas inside `selector` are painted (not transparent). */
export function paintedPixels(page: Page, selector: string): Promise<number> {
  return page.evaluate(`(() => {
    const c = document.querySelector(${JSON.stringify(selector)});
    if (!c) return 0;
    const { data } = c.getContext('2d').getImageData(0, 0, c.width, c.height);
    let n = 0;
    for (let i = 3; i < data.length; i += 4) if (data[i] > 0) n++;
    return n;
  })()`);
}

/** The number the unread badge shows (0 when there is none). */
export function unreadBadge(page: Page): Promise<number> {
  return page.evaluate(`(() => {
    const b = document.querySelector('[data-testid="unread-badge"]');
    return b ? Number(b.textContent) : 0;
  })()`);
}

/**
 * Makes the page report itself hidden (or visible) the way a browser does when the tab is in the
 * background: document.visibilityState and document.hidden change, then `visibilitychange` fires —
 * what the dashboard's poller (React Query's focusManager) listens to and reads.
 */
export async function setVisibility(page: Page, state: 'hidden' | 'visible'): Promise<void> {
  await page.evaluate(`(() => {
    const s = ${JSON.stringify(state)};
    Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => s });
    Object.defineProperty(document, 'hidden', { configurable: true, get: () => s === 'hidden' });
    document.dispatchEvent(new Event('visibilitychange', { bubbles: true }));
  })()`);
}

/** Signs in through the API (for a test's own set-up: a notification to read). */
export async function apiToken(baseUrl: string, who: DemoAccount): Promise<string> {
  const res = await fetch(new URL('/api/v1/auth/sign-in', baseUrl), {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: who.email, password: who.password }),
  });
  if (!res.ok) throw new Error(`sign-in of ${who.email} answered ${res.status}: ${await res.text()}`);
  return ((await res.json()) as { access_token: string }).access_token;
}
