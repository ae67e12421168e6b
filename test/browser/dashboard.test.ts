/**
 * The dashboard in a real browser against the real stack (`make up` with the demo farm: the
 * cloud HTTP app serves the built dashboard at / and the API at /api/v1). Chromium is Debian's
 * (/usr/bin/chromium), driven by playwright-core. Screenshots of the main pages land in
 * docs/screenshots/.
 */
import type { Browser, Page, Request } from 'playwright-core';
import { startDemoStack, type DemoStack } from '../support/demo-stack';
import { until } from '../support/until';
import {
  account,
  apiToken,
  demoFarm,
  desktop,
  launchBrowser,
  newPage,
  paintedPixels,
  requireBuiltDashboard,
  phone,
  screenshot,
  scrollsSideways,
  setVisibility,
  signIn,
  unreadBadge,
} from './support';

jest.setTimeout(10 * 60_000);

let stack: DemoStack;
let browser: Browser;
let base: string;
const farmPath = `/farms/${demoFarm.farm_id}`;

beforeAll(async () => {
  requireBuiltDashboard();
  stack = await startDemoStack();
  base = stack.cloudUrl;
  browser = await launchBrowser();
}, 15 * 60_000);

afterAll(async () => {
  await browser?.close();
  await stack?.dispose();
}, 5 * 60_000);

/** Every request the page makes to the API, as it goes out. */
function apiRequests(page: Page, pathPrefix = '/api/v1/'): Request[] {
  const seen: Request[] = [];
  page.on('request', (r) => {
    if (new URL(r.url()).pathname.startsWith(pathPrefix)) seen.push(r);
  });
  return seen;
}

/** A notification for the whole tenant, sent through the API by the operator. */
async function sendAlert(title: string): Promise<string> {
  const token = await apiToken(base, account(stack, 'operator'));
  const res = await fetch(new URL('/api/v1/notifications/send', base), {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ channel: 'in_app', recipient_user_id: null, title, body: `${title}: the browser test sent this.` }),
  });
  if (res.status !== 201) throw new Error(`send answered ${res.status}: ${await res.text()}`);
  return ((await res.json()) as { notification: { id: string } }).notification.id;
}

test('signing in: a wrong password is refused on the page; the right one opens the farm, with the token in memory only', async () => {
  const { context, page } = await newPage(browser);
  const requests = apiRequests(page);
  await page.goto(base);
  await page.getByRole('heading', { name: /FarmIQ/ }).waitFor();
  await screenshot(page, 'sign-in');

  const admin = account(stack, 'admin');
  await page.getByLabel('Email').fill(admin.email);
  await page.getByLabel('Password').fill(`${admin.password}-wrong`);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByText('The email or password is not right.').waitFor();

  await page.getByLabel('Password').fill(admin.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(`**${farmPath}`);
  await page.locator('.barn-card').first().waitFor();
  expect(await page.locator('header.top .role').textContent()).toBe('admin');

  const stored = await page.evaluate(() => ({ local: JSON.stringify(localStorage), session: JSON.stringify(sessionStorage) }));
  expect(stored.local).not.toMatch(/ey[A-Za-z0-9_-]{10,}\./); // no JWT anywhere in web storage
  expect(stored.session).not.toMatch(/ey[A-Za-z0-9_-]{10,}\./);
  expect(await page.evaluate(() => localStorage.length + sessionStorage.length)).toBe(0);

  // Every API call carried its own request id.
  expect(requests.length).toBeGreaterThan(2);
  for (const r of requests) expect(r.headers()['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);

  // Signing out ends the session: a reload shows the sign-in page again (the refresh cookie is gone).
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.getByRole('button', { name: 'Sign in' }).waitFor();
  await page.reload();
  await page.getByRole('button', { name: 'Sign in' }).waitFor();
  await context.close();
});

test('a reload keeps the session through the refresh cookie (POST /auth/refresh with the CSRF header)', async () => {
  const { context, page } = await newPage(browser);
  await signIn(page, base, account(stack, 'viewer'));
  const refreshes = apiRequests(page, '/api/v1/auth/refresh');
  await page.reload();
  await page.locator('header.top').waitFor();
  expect(refreshes.length).toBeGreaterThanOrEqual(1);
  expect(refreshes[0].headers()['x-farmiq-csrf']).toBe('1');
  await context.close();
});

test('the farm overview shows every demo barn with live values', async () => {
  const { context, page } = await newPage(browser);
  await signIn(page, base, account(stack, 'viewer'));
  await page.waitForURL(`**${farmPath}`);
  for (const barn of demoFarm.barns) {
    const card = page.locator(`.barn-card[data-barn="${barn.barn_id}"]`);
    await card.waitFor();
    await card.getByRole('heading', { name: barn.name }).waitFor();
    // The simulator's climate reaches the cloud: the card shows a number for at least temperature.
    await card.locator('[data-metric="temperature"] [data-testid="live-value"]').waitFor({ timeout: 120_000 });
    const values = await card.locator('[data-testid="live-value"]').allTextContents();
    expect(values.length).toBeGreaterThan(0);
    for (const v of values) expect(v).toMatch(/\d/);
    expect(await card.locator('dd').first().textContent()).toMatch(/\d+ days/); // the flock's age
  }
  await screenshot(page, 'overview');
  await context.close();
});

test("a barn's charts draw: uPlot canvases with data, the range buttons refetch", async () => {
  const { context, page } = await newPage(browser);
  const barn = demoFarm.barns[0];
  await signIn(page, base, account(stack, 'viewer'), `${farmPath}/barns/${barn.barn_id}`);
  const temperature = page.locator('.panel[data-metric="temperature"] figure.chart');
  await temperature.locator('.uplot canvas').waitFor();
  expect(Number(await temperature.getAttribute('data-points'))).toBeGreaterThan(0);
  // The canvas has pixels drawn on it (the series), not just an empty frame.
  expect(await paintedPixels(page, '.panel[data-metric="temperature"] .uplot canvas')).toBeGreaterThan(100);
  await page.locator('#growth-title').waitFor();
  await page.locator('[aria-labelledby="growth-title"] figure.chart .uplot canvas').waitFor();

  const climateCalls = apiRequests(page, `/api/v1/farms/${demoFarm.farm_id}/barns/${barn.barn_id}/climate`);
  await page.getByRole('button', { name: '7 d' }).click();
  await page.locator('.segmented button[aria-pressed="true"]', { hasText: '7 d' }).waitFor();
  await temperature.locator('.uplot canvas').waitFor();
  expect(climateCalls.some((r) => r.url().includes('metric=temperature'))).toBe(true);
  await screenshot(page, 'barn');
  await context.close();
});

test('an insight requested from the UI appears, with its request id shown while it runs', async () => {
  const { context, page } = await newPage(browser);
  await signIn(page, base, account(stack, 'operator'), `${farmPath}/insights`);
  const generate = apiRequests(page, '/api/v1/dashboard/insights/generate');
  await page.getByLabel('Barn').selectOption(demoFarm.barns[0].barn_id);
  await page.getByRole('button', { name: 'Generate insight' }).click();
  const progress = page.getByTestId('insight-progress');
  await progress.waitFor();
  expect(await progress.textContent()).toMatch(/find it in the Temporal UI by this id/);
  const shownId = await progress.locator('code').textContent();

  await page.getByTestId('insight').waitFor({ timeout: 180_000 });
  expect(generate.length).toBeGreaterThanOrEqual(1);
  expect(generate.every((r) => r.headers()['x-request-id'] === shownId)).toBe(true);
  expect(await page.getByTestId('insight').locator('code').textContent()).toBe(shownId);
  const title = (await page.getByTestId('insight').locator('h1').textContent())!;
  expect(title.length).toBeGreaterThan(0);
  await screenshot(page, 'insight');

  await page.getByRole('link', { name: 'Insights' }).first().click();
  await page.getByTestId('insight-list').getByText(title).first().waitFor();
  await screenshot(page, 'insights');
  await context.close();
});

test('a notification is read from the inbox; the unread badge follows', async () => {
  const title = `Browser test alert ${Date.now()}`;
  const id = await sendAlert(title);
  const { context, page } = await newPage(browser);
  await signIn(page, base, account(stack, 'operator'), '/inbox');
  const item = page.locator(`[data-notification="${id}"]`);
  await item.waitFor();
  expect(await item.getAttribute('data-read')).toBe('no');
  const before = Number(await page.getByTestId('unread-badge').textContent());
  expect(before).toBeGreaterThanOrEqual(1);
  await screenshot(page, 'inbox');

  await item.getByRole('button', { name: 'Mark read' }).click();
  await page.locator(`[data-notification="${id}"][data-read="yes"]`).waitFor();
  expect(await page.locator(`[data-notification="${id}"] button`).count()).toBe(0);
  // The API has it read, and the badge shows the API's unread count (the demo may add alerts meanwhile).
  const token = await apiToken(base, account(stack, 'operator'));
  const inbox = async () => {
    const res = await fetch(new URL('/api/v1/notifications/inbox?limit=100', base), { headers: { authorization: `Bearer ${token}` } });
    return (await res.json()) as { items: { id: string; read_at: string | null }[]; unread_count: number };
  };
  expect((await inbox()).items.find((n) => n.id === id)?.read_at).toEqual(expect.any(String));
  await until('the unread badge to show the inbox’s unread count', 15_000, async () => (await unreadBadge(page)) === (await inbox()).unread_count);
  await context.close();
});

test('a viewer sees no admin page and no control that writes', async () => {
  await sendAlert(`Unread for the viewer ${Date.now()}`);
  const { context, page } = await newPage(browser);
  await signIn(page, base, account(stack, 'viewer'));
  await page.locator('.barn-card').first().waitFor();
  expect(await page.getByRole('link', { name: 'Admin' }).count()).toBe(0);

  // Only reading controls: the range buttons, CSV downloads, signing out.
  const allowed = new Set(['Sign out', 'Download CSV', '24 h', '7 d', '42 d']);
  const pages = ['/', farmPath, `${farmPath}/barns/${demoFarm.barns[0].barn_id}`, `${farmPath}/insights`, '/inbox'];
  for (const p of pages) {
    await page.goto(new URL(p, base).toString());
    await page.locator('main h1').first().waitFor();
    await page.waitForLoadState('networkidle');
    const buttons = (await page.getByRole('button').allTextContents()).map((t) => t.trim());
    expect({ page: p, extra: buttons.filter((b) => !allowed.has(b)) }).toEqual({ page: p, extra: [] });
    expect(await page.locator('main form, main input, main select:not([disabled])').count()).toBe(0);
  }
  expect(await page.locator('.note.unread').count()).toBeGreaterThan(0); // there was something to mark, and no button for it

  for (const p of ['/admin', '/admin/users', '/admin/devices', '/admin/farm-servers', '/admin/farms']) {
    await page.goto(new URL(p, base).toString());
    await page.getByText('This page does not exist').waitFor();
    expect(await page.locator('.subnav').count()).toBe(0);
  }
  await context.close();
});

test('an operator has no admin pages', async () => {
  const { context, page } = await newPage(browser);
  await signIn(page, base, account(stack, 'operator'));
  await page.locator('.barn-card').first().waitFor();
  expect(await page.getByRole('link', { name: 'Admin' }).count()).toBe(0);
  await page.goto(new URL('/admin/users', base).toString());
  await page.getByText('This page does not exist').waitFor();
  await context.close();
});

test('the inbox stops polling while the page is hidden and resumes when it is shown', async () => {
  const { context, page } = await newPage(browser);
  // The page's own clock, moved on by the test: a minute of polling takes no minute of waiting.
  await page.clock.install();
  await signIn(page, base, account(stack, 'viewer'), '/inbox');
  await page.locator('main h1', { hasText: 'Inbox' }).waitFor();
  await page.waitForLoadState('networkidle');
  const polls = apiRequests(page, '/api/v1/notifications/inbox');
  /** The next inbox answer, read to the end (so the page has stored it before its clock moves on). */
  const nextPoll = async () => {
    const res = await page.waitForResponse((r) => r.url().includes('/api/v1/notifications/inbox'));
    await res.finished();
    await page.waitForTimeout(200);
  };

  // Visible: a poll a minute.
  let polled = nextPoll();
  await page.clock.runFor(61_000);
  await polled;
  expect(polls.length).toBe(1);

  // Hidden: five minutes of the page's time, not one request.
  await setVisibility(page, 'hidden');
  await page.clock.runFor(5 * 61_000);
  await page.waitForTimeout(1000);
  expect(polls.length).toBe(1);

  // Shown again: the inbox is fetched at once (it is stale by now) and the minute polls go on.
  polled = nextPoll();
  await setVisibility(page, 'visible');
  await polled;
  expect(polls.length).toBe(2);
  polled = nextPoll();
  await page.clock.runFor(61_000);
  await polled;
  expect(polls.length).toBe(3);
  await context.close();
});

test('on a phone (390×844) no main page scrolls sideways; screenshots of every main page', async () => {
  const barnPaths = demoFarm.barns.map((b) => `${farmPath}/barns/${b.barn_id}`);
  const main = [
    { path: farmPath, name: 'overview' },
    { path: barnPaths[0], name: 'barn' },
    ...barnPaths.slice(1).map((p, i) => ({ path: p, name: `barn-${i + 2}` })),
    { path: `${farmPath}/insights`, name: 'insights' },
    { path: '/inbox', name: 'inbox' },
    { path: '/admin/farms', name: 'admin-farms' },
    { path: '/admin/devices', name: 'admin-devices' },
    { path: '/admin/farm-servers', name: 'admin-farm-servers' },
    { path: '/admin/users', name: 'admin-users' },
  ];
  const { context, page } = await newPage(browser, phone);
  await page.goto(base);
  await page.getByRole('button', { name: 'Sign in' }).waitFor();
  expect((await scrollsSideways(page)).sideways).toBe(false);
  await screenshot(page, 'phone-sign-in');
  await signIn(page, base, account(stack, 'admin'));
  for (const m of main) {
    await page.goto(new URL(m.path, base).toString());
    await page.locator('main h1').first().waitFor();
    await page.waitForLoadState('networkidle');
    const s = await scrollsSideways(page);
    expect({ page: m.path, ...s }).toEqual({ page: m.path, scrollWidth: s.clientWidth, clientWidth: s.clientWidth, sideways: false });
    if (['overview', 'barn', 'insights', 'inbox', 'admin-farms'].includes(m.name)) await screenshot(page, `phone-${m.name}`);
  }
  await context.close();

  // The admin pages on a desktop, for the docs.
  const desk = await newPage(browser, desktop);
  await signIn(desk.page, base, account(stack, 'admin'));
  for (const p of ['farms', 'devices', 'farm-servers', 'users']) {
    await desk.page.goto(new URL(`/admin/${p}`, base).toString());
    await desk.page.locator('.subnav').waitFor();
    await screenshot(desk.page, `admin-${p}`);
  }
  await desk.context.close();
});

// Last: it adds a barn, a farm server and a user, which the pages above need not show.
test('an admin adds and removes a device, registers a farm server (its key shown once), rotates its key, adds and disables a user, adds a barn', async () => {
  const { context, page } = await newPage(browser);
  page.on('dialog', (d) => void d.accept());
  const tag = Date.now().toString(36);
  await signIn(page, base, account(stack, 'admin'), '/admin/devices');

  // A device: registered in the cloud, provisioned on the farm server with the command the API gave.
  const deviceId = `browser-sensor-${tag}`;
  await page.getByLabel('Device id').fill(deviceId);
  await page.getByRole('button', { name: 'Add device' }).click();
  const provisioning = page.getByTestId('provisioning');
  await provisioning.waitFor();
  expect(await provisioning.textContent()).toContain('The device is provisioned on the farm server with:');
  expect(await provisioning.locator('pre.command').textContent()).toMatch(/^farmiq .*devices/);
  const row = page.locator('tr', { hasText: deviceId });
  await row.waitFor();
  await row.getByRole('button', { name: 'Remove' }).click();
  await row.waitFor({ state: 'detached' });

  // A farm server: the private key once, never again after it is put away.
  await page.goto(new URL('/admin/farm-servers', base).toString());
  const edgeId = `browser-edge-${tag}`;
  await page.getByLabel('Farm server id').fill(edgeId);
  await page.getByRole('button', { name: 'Register' }).click();
  const key = page.getByTestId('private-key');
  await key.waitFor();
  expect(await key.locator('pre').textContent()).toContain('BEGIN PRIVATE KEY');
  await key.getByRole('button', { name: 'I have stored it' }).click();
  await key.waitFor({ state: 'detached' });
  const edgeRow = page.locator('tr', { hasText: edgeId });
  expect(await edgeRow.locator('.pill').textContent()).toBe('never');
  await page.reload();
  await edgeRow.waitFor();
  expect(await page.getByTestId('private-key').count()).toBe(0);
  await edgeRow.getByRole('button', { name: 'Rotate key' }).click();
  await key.waitFor();
  expect(await key.locator('pre').textContent()).toContain('BEGIN PRIVATE KEY');

  // A user: added as an operator, then disabled.
  await page.goto(new URL('/admin/users', base).toString());
  const email = `browser-${tag}@demo.farmiq.local`;
  await page.getByLabel('Email').fill(email);
  await page.locator('form select[name="role"]').selectOption('operator');
  await page.getByLabel('First password').fill(`pw-${tag}-long-enough`);
  await page.getByRole('button', { name: 'Add user' }).click();
  const userRow = page.locator('tr', { hasText: email });
  await userRow.waitFor();
  expect(await userRow.getByLabel(`Role of ${email}`).inputValue()).toBe('operator');
  await userRow.getByRole('button', { name: 'Disable' }).click();
  await userRow.getByRole('button', { name: 'Enable' }).waitFor();

  // A barn on the demo farm.
  await page.goto(new URL('/admin/farms', base).toString());
  const barnId = `browser-barn-${tag}`;
  const farmCard = page.locator('section', { has: page.locator(`#farm-${demoFarm.farm_id}`) });
  await farmCard.getByLabel('New barn id').fill(barnId);
  await farmCard.getByLabel('New barn name').fill(`Browser barn ${tag}`);
  await farmCard.getByRole('button', { name: 'Add barn' }).click();
  await farmCard.getByText(barnId).waitFor();
  await context.close();
});
