/**
 * The dashboard's alarms in Chromium against a real demo stack of its own (databaseTag
 * demo_alarms): the alarms page (open first, severity as colour and word, the barn, the farm's
 * clock), the banner of open critical alarms on the overview and the barn page, an alarm's detail
 * and history, an acknowledgement sent from the page ("waiting for the farm server" until the farm
 * server answers), the farm server's commands on the overview, a viewer without any button, the
 * 30 s polling paused while hidden, and the phone layout.
 *
 * The alarms are the cloud's record of a farm server's events, written here the way
 * cloud-alarm-service writes them (cloud/alarms/alarm-store.ts, owner pool), for a farm server this
 * test registers and never runs: so the acknowledgement's command stays queued until the test
 * plays the farm server's answer (cloud/downlink/command-queue.ts recordOutcomes, then the
 * alarm.acknowledged event). The real farm server's side is tested in test/downlink and test/cloud.
 */
import { randomUUID } from 'node:crypto';
import { Pool } from 'pg';
import type { Browser, Page, Request } from 'playwright-core';
import { recordAcknowledged, recordCleared, recordEscalated, recordRaised, type AlarmRaised } from '../../cloud/alarms/alarm-store';
import { recordOutcomes } from '../../cloud/downlink/command-queue';
import { startDemoStack, type DemoStack } from '../support/demo-stack';
import {
  account,
  apiToken,
  demoFarm,
  desktop,
  launchBrowser,
  newPage,
  phone,
  requireBuiltDashboard,
  screenshot,
  scrollsSideways,
  setVisibility,
  signIn,
} from './support';

jest.setTimeout(10 * 60_000);

let stack: DemoStack;
let browser: Browser;
let base: string;
let owner: Pool;
let tenantId: string;
let farmTimeZone: string;
const run = Math.random().toString(36).slice(2, 8);
const edgeId = `alarm-edge-${run}`;
const farmPath = `/farms/${demoFarm.farm_id}`;
const [barn1, barn2] = demoFarm.barns;

/** The alarms this test writes: one per kind of card the page must show. */
const hot = { id: randomUUID(), summary: `${barn1.name} temperature 35.2 °C above 32 °C for 4 min (${run})` };
const ammonia = { id: randomUUID(), summary: `${barn1.name} NH₃ 28 ppm above 25 ppm (${run})` };
const silent = { id: randomUUID(), summary: `${barn2.name} climate-1 silent for 20 min (${run})` };
const cleared = { id: randomUUID(), summary: `${barn2.name} humidity 82 % above 80 % (${run})` };

async function apiAs(role: 'admin' | 'operator' | 'viewer', path: string, init: { method?: string; body?: unknown } = {}): Promise<Response> {
  const token = await apiToken(base, account(stack, role));
  return fetch(new URL(`/api/v1${path}`, base), {
    method: init.method ?? 'GET',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
  });
}

/** An alarm.raised event as cloud-alarm-service records it, from the test's farm server. */
async function raise(a: { id: string; summary: string }, p: Partial<AlarmRaised> & Pick<AlarmRaised, 'rule_kind' | 'severity'>, minutesAgo: number) {
  const raisedAt = new Date(Date.now() - minutesAgo * 60_000).toISOString();
  await recordRaised(
    owner,
    { tenantId, eventId: randomUUID(), edgeId },
    {
      alarm_id: a.id,
      rule_id: `${p.rule_kind}-${run}`,
      farm_id: demoFarm.farm_id,
      barn_id: barn1.barn_id,
      condition_since: new Date(Date.parse(raisedAt) - 120_000).toISOString(),
      raised_at: raisedAt,
      summary: a.summary,
      ...p,
    },
  );
}

function requestsTo(page: Page, pathname: string): Request[] {
  const seen: Request[] = [];
  page.on('request', (r) => {
    if (new URL(r.url()).pathname === pathname) seen.push(r);
  });
  return seen;
}

const card = (page: Page, alarmId: string) => page.locator(`article.alarm[data-alarm="${alarmId}"]`);

beforeAll(async () => {
  requireBuiltDashboard();
  stack = await startDemoStack({ databaseTag: 'demo_alarms' });
  base = stack.cloudUrl;
  owner = new Pool({ connectionString: stack.cloudDatabaseUrl });
  browser = await launchBrowser();

  tenantId = ((await (await apiAs('admin', '/me')).json()) as { tenant_id: string }).tenant_id;
  expect(tenantId).toMatch(/^[0-9a-f-]{36}$/);
  farmTimeZone = ((await (await apiAs('admin', `/farms/${demoFarm.farm_id}`)).json()) as { farm: { timezone: string } }).farm.timezone;
  // A farm server of the tenant that never runs: what is sent to it waits.
  const edge = await apiAs('admin', '/edges', { method: 'POST', body: { edge_id: edgeId, name: 'Alarm test farm server' } });
  expect(edge.status).toBe(201);

  await raise(hot, { rule_kind: 'limit', severity: 'critical', metric: 'temperature', value: 35.2, threshold: 32, unit: 'C' }, 4);
  await raise(ammonia, { rule_kind: 'limit', severity: 'critical', metric: 'nh3', value: 28, threshold: 25, unit: 'ppm' }, 30);
  // The ammonia alarm's first step: the cloud was away, so the farm server sounded its siren itself.
  await recordEscalated(
    owner,
    { tenantId, eventId: randomUUID(), edgeId },
    {
      alarm_id: ammonia.id,
      rule_id: `limit-${run}`,
      farm_id: demoFarm.farm_id,
      barn_id: barn1.barn_id,
      severity: 'critical',
      step: 0,
      kind: 'step',
      channels: ['in_app', 'mqtt_siren'],
      recipients: ['role:operator'],
      delivered_locally: ['mqtt_siren'],
      summary: ammonia.summary,
      escalated_at: new Date(Date.now() - 29 * 60_000).toISOString(),
    },
    { sent: [], unresolved: [], failed: [] },
  );
  await raise(silent, { rule_kind: 'sensor_silent', severity: 'warning', barn_id: barn2.barn_id, device_id: 'climate-1' }, 20);
  await raise(cleared, { rule_kind: 'limit', severity: 'info', barn_id: barn2.barn_id, metric: 'humidity', value: 82, threshold: 80, unit: '%' }, 90);
  await recordCleared(
    owner,
    { tenantId, eventId: randomUUID(), edgeId },
    {
      alarm_id: cleared.id,
      rule_id: `limit-${run}`,
      farm_id: demoFarm.farm_id,
      barn_id: barn2.barn_id,
      reason: 'condition',
      value: 74,
      acknowledged: false,
      cleared_at: new Date(Date.now() - 60 * 60_000).toISOString(),
    },
  );
}, 15 * 60_000);

afterAll(async () => {
  await browser?.close();
  await owner?.end();
  await stack?.dispose();
}, 5 * 60_000);

test('the alarms page: open alarms first, the most severe first, with severity, state, barn and the farm-clock time', async () => {
  const { context, page } = await newPage(browser);
  await signIn(page, base, account(stack, 'viewer'), `${farmPath}/alarms`);
  await card(page, hot.id).waitFor();
  await page.getByRole('heading', { name: 'Alarms', exact: true }).waitFor();

  const hotCard = card(page, hot.id);
  expect(await hotCard.getAttribute('data-severity')).toBe('critical');
  expect(await hotCard.getByTestId('alarm-severity').innerText()).toBe('Critical');
  expect(await hotCard.getByTestId('alarm-state').innerText()).toBe('not acknowledged');
  // The barn's name comes with the farm's barns (a query of its own): the id shows until it answers.
  await hotCard.locator('dl').getByText(barn1.name, { exact: true }).waitFor();
  const facts = await hotCard.locator('dl').innerText();
  expect(facts).toContain(barn1.name);
  expect(facts).toMatch(/35\.2 °C\s*\(limit 32 °C\)/);
  expect(facts).toMatch(/Raised\s*(today|yesterday) /);
  // On the farm's clock (its time zone), not the browser's.
  const raisedAt = await hotCard.locator('time').first().getAttribute('datetime');
  const clocks = await page.evaluate<[string, string]>(`(() => {
    const d = new Date(${JSON.stringify(raisedAt)});
    const o = { hour: '2-digit', minute: '2-digit' };
    return [d.toLocaleTimeString(undefined, { ...o, timeZone: ${JSON.stringify(farmTimeZone)} }), d.toLocaleTimeString(undefined, o)];
  })()`);
  expect(facts).toContain(clocks[0]);
  if (clocks[0] !== clocks[1]) expect(facts).not.toContain(clocks[1]);
  expect(await card(page, silent.id).getByTestId('alarm-severity').innerText()).toBe('Warning');
  await card(page, silent.id).locator('dl').getByText(barn2.name, { exact: true }).waitFor();

  // Open only, at first: the cleared one is not listed; the critical ones come before the warning.
  expect(await card(page, cleared.id).count()).toBe(0);
  const order = await page.locator('article.alarm').evaluateAll((els) => els.map((e) => e.getAttribute('data-alarm')));
  expect(order.indexOf(hot.id)).toBeLessThan(order.indexOf(silent.id));
  expect(order.indexOf(ammonia.id)).toBeLessThan(order.indexOf(silent.id));
  // A viewer reads; nothing to press.
  expect(await page.getByRole('button', { name: 'Acknowledge' }).count()).toBe(0);

  await page.getByRole('button', { name: 'All', exact: true }).click();
  await card(page, cleared.id).waitFor();
  expect(await card(page, cleared.id).getByTestId('alarm-state').innerText()).toBe('cleared');
  const all = await page.locator('article.alarm').evaluateAll((els) => els.map((e) => e.getAttribute('data-alarm')));
  expect(all.indexOf(silent.id)).toBeLessThan(all.indexOf(cleared.id));
  await context.close();
});

test('the overview and the barn page show the open critical alarms; the other barn does not list them', async () => {
  const { context, page } = await newPage(browser);
  await signIn(page, base, account(stack, 'viewer'), farmPath);
  const banner = page.getByTestId('critical-alarms');
  await banner.waitFor();
  expect(Number(await banner.getAttribute('data-count'))).toBeGreaterThanOrEqual(2);
  expect(await banner.innerText()).toMatch(/\d+ critical alarms open/);
  await banner.getByText(hot.summary).waitFor();
  expect(Number(await page.getByTestId('critical-badge').innerText())).toBeGreaterThanOrEqual(2);
  // The barn's card counts its open alarms (beside the unread alerts).
  const barnAlarms = page.locator(`.barn-card[data-barn="${barn1.barn_id}"] [data-testid="barn-alarms"]`);
  expect(await barnAlarms.innerText()).toMatch(/^\d+ open alarms$/);
  expect(Number((await barnAlarms.innerText()).split(' ')[0])).toBeGreaterThanOrEqual(2);

  await page.goto(new URL(`${farmPath}/barns/${barn1.barn_id}`, base).toString());
  await banner.getByText(hot.summary).waitFor();
  expect(await banner.innerText()).toMatch(/critical alarms? open in this barn/);
  await screenshot(page, 'alarms-barn-banner');

  await page.goto(new URL(`${farmPath}/barns/${barn2.barn_id}`, base).toString());
  await page.locator('main h1', { hasText: barn2.name }).waitFor();
  await page.waitForLoadState('networkidle');
  expect(await page.getByText(hot.summary).count()).toBe(0);
  await context.close();
});

test("an alarm's detail shows its facts and its history", async () => {
  const { context, page } = await newPage(browser);
  await signIn(page, base, account(stack, 'viewer'), `${farmPath}/alarms`);
  await card(page, ammonia.id).getByRole('link', { name: ammonia.summary }).click();
  await page.waitForURL(`**${farmPath}/alarms/${ammonia.id}`);
  await page.locator('h1', { hasText: ammonia.summary }).waitFor();
  const history = page.getByRole('list', { name: 'History' });
  await history.locator('li[data-what="raised"]').waitFor();
  expect(await history.locator('li[data-what="raised"]').innerText()).toMatch(/Raised[\s\S]*critical/);
  // Oldest first: the raise, then the step the farm server delivered on its own siren.
  expect(await history.locator('li').evaluateAll((els) => els.map((e) => e.getAttribute('data-what')))).toEqual(['raised', 'escalated']);
  expect(await history.locator('li[data-what="escalated"]').innerText()).toMatch(/Escalation step[\s\S]*delivered locally by the farm server on mqtt_siren/);
  expect(await page.locator('article.alarm').innerText()).toMatch(/Escalation steps sent\s*1/);
  expect(await page.locator('article.alarm dl').first().innerText()).toContain('28 ppm');
  expect(await page.getByText(edgeId).count()).toBe(1);
  await context.close();
});

test('an operator acknowledges with a note: "waiting for the farm server" until it answers; the overview shows the command and when it was applied', async () => {
  const { context, page } = await newPage(browser);
  await signIn(page, base, account(stack, 'operator'), `${farmPath}/alarms`);
  const hotCard = card(page, hot.id);
  await hotCard.getByRole('button', { name: 'Acknowledge', exact: true }).click();
  await hotCard.getByLabel('Note (optional)').fill('fans checked, door closed');
  const posted = page.waitForRequest((r) => r.method() === 'POST' && new URL(r.url()).pathname === `/api/v1/alarms/${hot.id}/acknowledge`);
  const answered = page.waitForResponse((r) => new URL(r.url()).pathname === `/api/v1/alarms/${hot.id}/acknowledge`);
  await hotCard.getByRole('button', { name: 'Send acknowledgement' }).click();
  expect((await posted).postDataJSON()).toEqual({ note: 'fans checked, door closed' });
  const res = await answered;
  expect(res.status()).toBe(202);
  const { command_id: commandId } = (await res.json()) as { command_id: string };

  const progress = hotCard.getByTestId('ack-progress');
  await progress.waitFor();
  expect(await progress.innerText()).toMatch(/waiting for the farm server/);
  expect(await hotCard.getByTestId('alarm-state').innerText()).toBe('not acknowledged');
  expect(await hotCard.getByRole('button', { name: 'Acknowledge', exact: true }).count()).toBe(0);
  await screenshot(page, 'alarms');

  // The farm server's commands on the overview: the acknowledgement is waiting.
  await page.goto(new URL(farmPath, base).toString());
  const commands = page.locator(`[data-testid="edge-commands"][aria-label="Commands for ${edgeId}"]`);
  const row = commands.locator(`li[data-command="${commandId}"]`);
  await row.waitFor();
  expect(await row.getAttribute('data-status')).toBe('pending');
  expect(await row.innerText()).toMatch(/Alarm acknowledgement[\s\S]*waiting for the farm server/);
  expect(await commands.innerText()).toMatch(/1 waiting for the farm server/);

  // The farm server applies it: its outcome first — the overview says when it was applied.
  const appliedAt = new Date(Date.now() - 5_000).toISOString();
  expect(await recordOutcomes(owner, edgeId, [{ command_id: commandId, status: 'applied', result: 'acknowledged', applied_at: appliedAt }])).toBe(1);
  await page.reload();
  await row.waitFor();
  expect(await row.getAttribute('data-status')).toBe('applied');
  expect(await row.innerText()).toMatch(/applied[\s\S]*\d{2}:\d{2}/);

  // Applied, but the farm server's alarm.acknowledged event has not come back yet: still on its way.
  await page.goto(new URL(`${farmPath}/alarms`, base).toString());
  await hotCard.locator('[data-testid="ack-progress"][data-status="applied"]').waitFor();
  expect(await hotCard.getByTestId('ack-progress').innerText()).toMatch(/applied the acknowledgement: waiting for its confirmation/);
  expect(await hotCard.getByTestId('alarm-state').innerText()).toBe('not acknowledged');

  // Then its alarm.acknowledged event: the alarm is acknowledged, by the operator.
  await recordAcknowledged(
    owner,
    { tenantId, eventId: randomUUID(), edgeId },
    {
      alarm_id: hot.id,
      rule_id: `limit-${run}`,
      farm_id: demoFarm.farm_id,
      barn_id: barn1.barn_id,
      acknowledged_by: account(stack, 'operator').email,
      source: 'dashboard',
      note: 'fans checked, door closed',
      acknowledged_at: appliedAt,
      command_id: commandId,
    },
  );
  await page.goto(new URL(`${farmPath}/alarms/${hot.id}`, base).toString());
  await page.locator(`article.alarm[data-state="acknowledged"]`).waitFor();
  expect(await page.locator('article.alarm dl').first().innerText()).toContain(`by ${account(stack, 'operator').email}`);
  expect(await page.getByTestId('ack-progress').count()).toBe(0);
  await page.getByRole('list', { name: 'History' }).locator('li[data-what="acknowledged"]').waitFor();
  await screenshot(page, 'alarms-detail');
  await context.close();

  // Acknowledged already: the API says so (409), and the page offers no button for it.
  expect((await apiAs('operator', `/alarms/${hot.id}/acknowledge`, { method: 'POST', body: {} })).status).toBe(409);
});

test('an acknowledgement the farm server refused says so, and sends the operator to the farm server', async () => {
  const sent = await apiAs('operator', `/alarms/${silent.id}/acknowledge`, { method: 'POST', body: { note: 'on my way' } });
  expect(sent.status).toBe(202);
  const { command_id: commandId } = (await sent.json()) as { command_id: string };
  const refusedAt = new Date().toISOString();
  expect(await recordOutcomes(owner, edgeId, [{ command_id: commandId, status: 'refused', result: 'alarm_not_running', applied_at: refusedAt }])).toBe(1);

  const { context, page } = await newPage(browser);
  await signIn(page, base, account(stack, 'operator'), `${farmPath}/alarms`);
  const silentCard = card(page, silent.id);
  await silentCard.locator('[data-testid="ack-progress"][data-status="refused"]').waitFor();
  expect(await silentCard.getByTestId('ack-progress').innerText()).toMatch(/refused the acknowledgement: acknowledge it on the farm server/);
  expect(await silentCard.getByRole('button', { name: 'Acknowledge', exact: true }).count()).toBe(0);

  await page.goto(new URL(farmPath, base).toString());
  const row = page.locator(`[data-testid="edge-commands"] li[data-command="${commandId}"]`);
  await row.waitFor();
  expect(await row.getAttribute('data-status')).toBe('refused');
  expect(await row.innerText()).toMatch(/refused[\s\S]*alarm not running/);
  await context.close();
});

test('a viewer sees the alarms but no button, and never asks for the commands', async () => {
  const { context, page } = await newPage(browser);
  const asked = requestsTo(page, `/api/v1/edges/${edgeId}/commands`);
  await signIn(page, base, account(stack, 'viewer'), `${farmPath}/alarms/${ammonia.id}`);
  await page.locator('h1', { hasText: ammonia.summary }).waitFor();
  await page.waitForLoadState('networkidle');
  expect(await page.getByRole('button', { name: /Acknowledge/ }).count()).toBe(0);
  await page.goto(new URL(farmPath, base).toString());
  await page.getByRole('heading', { name: 'Farm servers' }).waitFor();
  await page.waitForLoadState('networkidle');
  expect(await page.getByTestId('edge-commands').count()).toBe(0);
  expect(asked).toHaveLength(0);
  expect((await apiAs('viewer', `/alarms/${ammonia.id}/acknowledge`, { method: 'POST', body: {} })).status).toBe(403);
  await context.close();
});

test('the alarms are polled every 30 s while the page is visible, not at all while hidden', async () => {
  const { context, page } = await newPage(browser);
  await page.clock.install();
  await signIn(page, base, account(stack, 'viewer'), `${farmPath}/alarms`);
  await card(page, ammonia.id).waitFor();
  await page.waitForLoadState('networkidle');
  const polls = requestsTo(page, '/api/v1/alarms');
  const nextPoll = async () => {
    const res = await page.waitForResponse((r) => new URL(r.url()).pathname === '/api/v1/alarms');
    await res.finished();
    await page.waitForTimeout(200);
  };

  let polled = nextPoll();
  await page.clock.runFor(31_000);
  await polled;
  expect(polls.length).toBe(1);

  await setVisibility(page, 'hidden');
  await page.clock.runFor(5 * 61_000);
  await page.waitForTimeout(1000);
  expect(polls.length).toBe(1);

  polled = nextPoll();
  await setVisibility(page, 'visible');
  await polled;
  expect(polls.length).toBe(2);
  polled = nextPoll();
  await page.clock.runFor(31_000);
  await polled;
  expect(polls.length).toBe(3);
  await context.close();
});

test('on a phone (390×844) the alarms pages do not scroll sideways; screenshots', async () => {
  const { context, page } = await newPage(browser, phone);
  await signIn(page, base, account(stack, 'operator'), `${farmPath}/alarms`);
  await card(page, ammonia.id).waitFor();
  await page.waitForLoadState('networkidle');
  expect((await scrollsSideways(page)).sideways).toBe(false);
  await screenshot(page, 'alarms-phone');
  await card(page, ammonia.id).getByRole('button', { name: 'Acknowledge', exact: true }).click();
  await card(page, ammonia.id).getByLabel('Note (optional)').waitFor();
  expect((await scrollsSideways(page)).sideways).toBe(false);

  await page.goto(new URL(`${farmPath}/alarms/${hot.id}`, base).toString());
  await page.getByRole('list', { name: 'History' }).waitFor();
  await page.waitForLoadState('networkidle');
  expect((await scrollsSideways(page)).sideways).toBe(false);
  await screenshot(page, 'alarms-detail-phone');

  await page.goto(new URL(farmPath, base).toString());
  await page.getByTestId('critical-alarms').waitFor();
  await page.getByTestId('edge-commands').first().waitFor();
  await page.waitForLoadState('networkidle');
  expect((await scrollsSideways(page)).sideways).toBe(false);
  await screenshot(page, 'alarms-overview-phone');
  await context.close();

  const desk = await newPage(browser, desktop);
  await signIn(desk.page, base, account(stack, 'operator'), farmPath);
  await desk.page.getByTestId('critical-alarms').waitFor();
  await desk.page.getByTestId('edge-commands').first().waitFor();
  await screenshot(desk.page, 'alarms-overview');
  await desk.context.close();
});
