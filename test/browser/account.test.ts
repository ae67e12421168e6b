/**
 * The account page, the sign-in page's edge cases (tenant choice, lockout) and the farm servers'
 * health on the overview, in Chromium against a real demo stack of its own (databaseTag
 * demo_account, so it does not collide with dashboard.test.ts). The password change and lockout use
 * users this test creates as admin: the demo's accounts stay as other tests expect them.
 */
import { Pool } from 'pg';
import type { Browser, Page, Request } from 'playwright-core';
import { createTenant, createUser } from '../../auth/admin';
import { startDemoStack, type DemoAccount, type DemoStack } from '../support/demo-stack';
import { account, apiToken, demoFarm, launchBrowser, newPage, phone, requireBuiltDashboard, screenshot, scrollsSideways, signIn } from './support';

jest.setTimeout(10 * 60_000);

let stack: DemoStack;
let browser: Browser;
let base: string;
const run = Math.random().toString(36).slice(2, 8);

beforeAll(async () => {
  requireBuiltDashboard();
  stack = await startDemoStack({ databaseTag: 'demo_account' });
  base = stack.cloudUrl;
  browser = await launchBrowser();
}, 15 * 60_000);

afterAll(async () => {
  await browser?.close();
  await stack?.dispose();
}, 5 * 60_000);

/** A user of the demo tenant, created through the API by the demo admin. */
async function newUser(label: string, role: DemoAccount['role']): Promise<DemoAccount> {
  const who: DemoAccount = { email: `${label}-${run}@example.test`, password: `${label}-pass-${run}`, role };
  const token = await apiToken(base, account(stack, 'admin'));
  const res = await fetch(new URL('/api/v1/users', base), {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ email: who.email, display_name: `${label} ${run}`, role, password: who.password }),
  });
  if (res.status !== 201) throw new Error(`POST /users answered ${res.status}: ${await res.text()}`);
  return who;
}

async function signInStatus(email: string, password: string): Promise<number> {
  const res = await fetch(new URL('/api/v1/auth/sign-in', base), {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email, password }),
  });
  return res.status;
}

function healthRequests(page: Page): Request[] {
  const seen: Request[] = [];
  page.on('request', (r) => {
    if (/^\/api\/v1\/edges\/[^/]+\/health$/.test(new URL(r.url()).pathname)) seen.push(r);
  });
  return seen;
}

test('the account page: shows the user, refuses a wrong current password and a weak one, then changes it', async () => {
  const who = await newUser('account', 'viewer');
  const { context, page } = await newPage(browser, phone);
  await signIn(page, base, who);
  await page.getByRole('link', { name: /Your account/ }).click();
  await page.getByRole('heading', { name: 'Your account' }).waitFor();
  await page.locator('#main').getByText(who.email).waitFor();
  await page.locator('#main').getByText('viewer', { exact: true }).waitFor();

  const newPassword = `${who.password}-new`;
  await page.getByLabel('Current password').fill(`${who.password}-wrong`);
  await page.getByLabel('New password', { exact: true }).fill(newPassword);
  await page.getByLabel('Repeat the new password').fill(newPassword);
  await page.getByRole('button', { name: 'Change password' }).click();
  await page.getByText('The current password is wrong.').waitFor();

  await page.getByLabel('Current password').fill(who.password);
  await page.getByLabel('New password', { exact: true }).fill('short');
  await page.getByLabel('Repeat the new password').fill('short');
  await page.getByRole('button', { name: 'Change password' }).click();
  await page.getByText(/The new password is too weak/).waitFor();

  await page.getByLabel('Current password').fill(who.password);
  await page.getByLabel('New password', { exact: true }).fill(newPassword);
  await page.getByLabel('Repeat the new password').fill(newPassword);
  await page.getByRole('button', { name: 'Change password' }).click();
  await page.getByText(/Your other sessions were signed out/).waitFor();
  expect((await scrollsSideways(page)).sideways).toBe(false);
  await screenshot(page, 'account');
  await context.close();

  expect(await signInStatus(who.email, who.password)).toBe(401);
  expect(await signInStatus(who.email, newPassword)).toBe(200);
});

test('sign-in: after wrong passwords the page says it is locked and until when', async () => {
  const who = await newUser('lockout', 'viewer');
  const { context, page } = await newPage(browser);
  await page.goto(base);
  await page.getByLabel('Email').fill(who.email);
  let locked = false;
  for (let i = 0; i < 8 && !locked; i++) {
    await page.getByLabel('Password').fill(`${who.password}-wrong-${i}`);
    await page.getByRole('button', { name: 'Sign in' }).click();
    const notice = page.getByRole('alert');
    await notice.filter({ hasText: /not right|locked/ }).waitFor();
    locked = /locked until/.test(await notice.innerText());
    if (!locked) await page.getByRole('button', { name: 'Sign in' }).isEnabled();
  }
  expect(locked).toBe(true);
  expect(await page.getByRole('alert').innerText()).toMatch(/Too many attempts: signing in is locked until \d/);
  // Even the right password is refused while locked.
  expect(await signInStatus(who.email, who.password)).toBe(429);
  await context.close();
});

test('sign-in: an email in two tenants asks which account, then signs in to the chosen one', async () => {
  const who = await newUser('twotenants', 'viewer');
  const owner = new Pool({ connectionString: stack.cloudDatabaseUrl });
  const second = await createTenant(owner, `Second farm co ${run}`);
  try {
    await createUser(owner, { tenantId: second.id, email: who.email, role: 'operator', password: who.password, displayName: 'second' });
  } finally {
    await owner.end();
  }
  const { context, page } = await newPage(browser);
  await page.goto(base);
  await page.getByLabel('Email').fill(who.email);
  await page.getByLabel('Password').fill(who.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByText(/choose which to sign in to/).waitFor();
  await page.getByLabel('Account').selectOption({ label: second.name });
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.locator('header.top').waitFor();
  expect(await page.locator('header .tenant').innerText()).toBe(second.name);
  expect(await page.locator('header .role').innerText()).toBe('operator');
  await context.close();
});

test('farm server health: an operator sees it on the overview; a viewer never asks for it', async () => {
  const farmPath = `/farms/${demoFarm.farm_id}`;
  const op = await newPage(browser);
  const opHealth = healthRequests(op.page);
  await signIn(op.page, base, account(stack, 'operator'), farmPath);
  const facts = op.page.getByTestId('edge-health').first();
  await facts.waitFor();
  expect(opHealth.length).toBeGreaterThan(0);
  const text = await facts.innerText();
  expect(text).toMatch(/Events \/ min/);
  expect(text).toMatch(/Backlog\s*(not reported|\d[\d,]* pending)/);
  await op.context.close();

  const viewer = await newPage(browser);
  const viewerHealth = healthRequests(viewer.page);
  await signIn(viewer.page, base, account(stack, 'viewer'), farmPath);
  await viewer.page.getByRole('heading', { name: 'Farm servers' }).waitFor();
  await viewer.page.waitForLoadState('networkidle');
  expect(await viewer.page.getByTestId('edge-health').count()).toBe(0);
  expect(viewerHealth).toHaveLength(0);
  await viewer.context.close();
});
