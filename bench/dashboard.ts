/**
 * Dashboard benchmark (issue 12):  npm run bench -- dashboard
 *
 * The real demo farm (demo/farm.json) with 90 days of history, started by the project's own
 * `make up` script beside the running servers (test/support/demo-stack.ts: its own FARMIQ_HOME,
 * databases farmiq_{edge,cloud}_demo_bench, vhost, namespaces and free ports). Once the cloud has
 * caught up with the farm server, it measures, in one run:
 *
 *   (a) the barn page's API calls for broiler-house-1, sequential requests after a warm-up, rounds
 *       interleaved so every call sees the same noise: each call's p50/p95, the whole set one after
 *       another, and the set sent at once (as the browser does);
 *   (b) the 42-day temperature series (hour rollups);
 *   (c) the floor of (a) and (b): GET /api/v1/bench-floor, which passes token verification
 *       (requireUser) and answers 404 from the not-found handler with no work; GET /api/v1/me (one
 *       row read) as a second reference. Ratio = p95 ÷ floor p50;
 *   (d) the barn page in headless Chromium (Debian's, through playwright-core): cold loads, each in
 *       a fresh browser context (empty cache, signed in through the API so the app's refresh cookie
 *       is set), from navigation start to the first uPlot chart drawn with data: a chart whose
 *       figure says it has points and whose canvas has painted pixels, seen at an animation frame
 *       (performance.now() in the page, whose origin is navigation start). Its floor: the same fresh
 *       context loading /health from the same server;
 *   (e) the compressed script bundle: gzip -9 of every dashboard-web/dist/assets/*.js.
 *
 * Targets on 2 cores: API p95 ≤ 200 ms, drawn chart ≤ 1.5 s, compressed script ≤ 300 KB.
 * Results: bench/results/dashboard-<time>.json.
 */
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import express from 'express';
import { Client } from 'pg';
import { chromium, type Browser } from 'playwright-core';
import { dashboardRouter } from '../gateways/http/dashboard/dashboard-static';
import { createDemoStack, type DemoStack } from '../test/support/demo-stack';
import { repoRoot } from '../test/support/stack';
import { distribution, machine } from './support/stats';

export interface DashboardBenchOptions {
  runs: number;
  warmup: number;
  loads: number;
  historyDays: number;
  catchUpTimeout: number;
}

const farmId = 'demo-farm';
const barnId = 'broiler-house-1';
const chromiumPath = '/usr/bin/chromium';
const targets = { apiP95Ms: 200, drawnChartMs: 1500, scriptGzipKB: 300 };

type Distribution = ReturnType<typeof distribution>;

interface Call {
  name: string;
  path: string;
  query?: Record<string, string>;
  /** The answer this call must get (the floor is a 404 on purpose). */
  status: number;
  /** Part of the barn page's set of calls. */
  page: boolean;
}

const seconds = (ms: number) => Math.round(ms / 100) / 10;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function urlOf(base: string, call: Call): string {
  const u = new URL(call.path, base);
  for (const [k, v] of Object.entries(call.query ?? {})) u.searchParams.set(k, v);
  return u.toString();
}

/** One request, timed to the last byte of the body; its status checked. */
async function timed(url: string, token: string, expected: number): Promise<{ ms: number; bytes: number }> {
  const start = performance.now();
  const res = await fetch(url, { headers: { authorization: `Bearer ${token}`, accept: 'application/json' } });
  const body = await res.arrayBuffer();
  const ms = performance.now() - start;
  if (res.status !== expected) throw new Error(`${url} answered ${res.status}, not ${expected}: ${Buffer.from(body).toString('utf8').slice(0, 300)}`);
  return { ms, bytes: body.byteLength };
}

async function getJson<T>(base: string, p: string, token: string): Promise<T> {
  const res = await fetch(new URL(p, base), { headers: { authorization: `Bearer ${token}` } });
  if (res.status !== 200) throw new Error(`GET ${p} answered ${res.status}: ${(await res.text()).slice(0, 300)}`);
  return (await res.json()) as T;
}

async function signIn(base: string, email: string, password: string): Promise<string> {
  const res = await fetch(new URL('/api/v1/auth/sign-in', base), {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email, password }),
  });
  if (res.status !== 200) throw new Error(`sign-in answered ${res.status}: ${(await res.text()).slice(0, 300)}`);
  return ((await res.json()) as { access_token: string }).access_token;
}

async function queryOne<T>(url: string, sql: string, params: unknown[] = []): Promise<T[]> {
  const c = new Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query(sql, params)).rows as T[];
  } finally {
    await c.end();
  }
}

/** What the cloud holds for the tenant, and what the farm server still has to send. */
async function progress(stack: DemoStack, tenantId: string) {
  const [cloud] = await queryOne<Record<string, string>>(
    stack.cloudDatabaseUrl,
    `SELECT (SELECT count(*) FROM telemetry_rollups WHERE tenant_id = $1) AS rollups,
            (SELECT count(*) FROM weighvision_sessions WHERE tenant_id = $1) AS sessions,
            (SELECT count(*) FROM feed_intake WHERE tenant_id = $1) AS feed,
            (SELECT count(*) FROM flock_daily_counts WHERE tenant_id = $1) AS daily_counts`,
    [tenantId],
  );
  const [edge] = await queryOne<{ unsent: string }>(
    stack.edgeDatabaseUrl,
    `SELECT count(*) AS unsent FROM sync_outbox WHERE status IN ('pending', 'claimed', 'sending')`,
  );
  return {
    rollups: Number(cloud.rollups),
    sessions: Number(cloud.sessions),
    feed: Number(cloud.feed),
    dailyCounts: Number(cloud.daily_counts),
    edgeUnsent: Number(edge.unsent),
  };
}

/**
 * Waits until the farm server's outbox is drained and the cloud's counts have stopped moving
 * (the live demo keeps adding a little: a change under 0.5 % over 10 s counts as caught up).
 */
async function waitForCatchUp(stack: DemoStack, tenantId: string, timeoutS: number) {
  const started = Date.now();
  let last = await progress(stack, tenantId);
  let steady = 0;
  for (;;) {
    await sleep(5000);
    const now = await progress(stack, tenantId);
    const moved = (['rollups', 'sessions', 'feed', 'dailyCounts'] as const).some((k) => now[k] - last[k] > Math.max(2, last[k] * 0.005));
    steady = !moved && now.edgeUnsent < 50 ? steady + 1 : 0;
    console.log(`catching up: ${JSON.stringify(now)}${steady ? ` (steady ${steady})` : ''}`);
    last = now;
    if (steady >= 2) return { seconds: seconds(Date.now() - started), counts: now };
    if (Date.now() - started > timeoutS * 1000) throw new Error(`the cloud did not catch up in ${timeoutS} s: ${JSON.stringify(now)}`);
  }
}

/** The history that actually exists per barn (the simulator plays only the days after a flock's placement). */
async function historyPerBarn(stack: DemoStack, tenantId: string) {
  return queryOne<Record<string, unknown>>(
    stack.cloudDatabaseUrl,
    `SELECT b.barn_id,
            (SELECT count(*) FROM telemetry_rollups r WHERE r.tenant_id = $1 AND r.barn_id = b.barn_id AND bucket_width = '1h')::int AS hour_rollups,
            (SELECT count(*) FROM telemetry_rollups r WHERE r.tenant_id = $1 AND r.barn_id = b.barn_id AND bucket_width = '1m')::int AS minute_rollups,
            (SELECT min(bucket_start) FROM telemetry_rollups r WHERE r.tenant_id = $1 AND r.barn_id = b.barn_id) AS climate_from,
            (SELECT max(bucket_start) FROM telemetry_rollups r WHERE r.tenant_id = $1 AND r.barn_id = b.barn_id) AS climate_to,
            (SELECT count(DISTINCT metric) FROM telemetry_rollups r WHERE r.tenant_id = $1 AND r.barn_id = b.barn_id)::int AS metrics,
            (SELECT count(*) FROM telemetry_raw t WHERE t.tenant_id = $1 AND t.barn_id = b.barn_id)::int AS raw_readings,
            (SELECT count(*) FROM weighvision_sessions s WHERE s.tenant_id = $1 AND s.barn_id = b.barn_id)::int AS sessions,
            (SELECT min(started_at) FROM weighvision_sessions s WHERE s.tenant_id = $1 AND s.barn_id = b.barn_id) AS sessions_from,
            (SELECT count(*) FROM feed_intake f WHERE f.tenant_id = $1 AND f.barn_id = b.barn_id)::int AS feed_events,
            (SELECT min(dispensed_at) FROM feed_intake f WHERE f.tenant_id = $1 AND f.barn_id = b.barn_id) AS feed_from,
            (SELECT count(*) FROM flock_daily_counts d WHERE d.tenant_id = $1 AND d.barn_id = b.barn_id)::int AS daily_counts
       FROM barns b WHERE b.tenant_id = $1 ORDER BY b.barn_id`,
    [tenantId],
  );
}

/** Rounds of every call in turn (so each sees the same noise), after `warmup` rounds not counted. */
async function measureApi(base: string, token: string, calls: Call[], runs: number, warmup: number) {
  const samples = new Map<string, number[]>(calls.map((c) => [c.name, []]));
  const bytes = new Map<string, number>();
  const setSequential: number[] = [];
  const setAtOnce: number[] = [];
  const pageCalls = calls.filter((c) => c.page);
  for (let round = 0; round < warmup + runs; round++) {
    let sum = 0;
    for (const call of calls) {
      const r = await timed(urlOf(base, call), token, call.status);
      if (round < warmup) continue;
      samples.get(call.name)!.push(r.ms);
      bytes.set(call.name, r.bytes);
      if (call.page) sum += r.ms;
    }
    // The same set all at once, as the page sends it (the browser opens up to 6 connections).
    const start = performance.now();
    await Promise.all(pageCalls.map((c) => timed(urlOf(base, c), token, c.status)));
    if (round < warmup) continue;
    setSequential.push(sum);
    setAtOnce.push(performance.now() - start);
  }
  const perCall = Object.fromEntries(
    calls.map((c) => [c.name, { path: urlOf('http://x', c).slice('http://x'.length), bytes: bytes.get(c.name), ms: distribution(samples.get(c.name)!) }]),
  );
  const pooled = distribution(pageCalls.flatMap((c) => samples.get(c.name)!));
  return { perCall, pageCallsPooled: pooled, pageSetSequential: distribution(setSequential), pageSetAtOnce: distribution(setAtOnce) };
}

/** What the functions run in the page read there (this project's tsconfig has no DOM types; they run in the browser, not here). */
interface PageGlobals {
  performance: { getEntriesByType(type: string): Record<string, unknown>[] };
  __farmiqChartDrawn?: { at: number; label: string };
}

/** Marks, at the first animation frame that shows one, a uPlot chart drawn with data. */
const chartProbe = `(() => {
  const drawn = () => {
    for (const fig of document.querySelectorAll('figure.chart')) {
      if (!(Number(fig.getAttribute('data-points')) > 0)) continue;
      for (const c of fig.querySelectorAll('.uplot canvas')) {
        if (!c.width || !c.height) continue;
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        for (let i = 3; i < d.length; i += 4) if (d[i] > 0) return fig.getAttribute('aria-label') || 'chart';
      }
    }
    return null;
  };
  const tick = () => {
    const label = drawn();
    if (label) window.__farmiqChartDrawn = { at: performance.now(), label };
    else requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
})();`;

async function measureBrowser(browser: Browser, base: string, email: string, password: string, loads: number) {
  const pageUrl = `${base}/farms/${farmId}/barns/${barnId}`;
  const drawn: number[] = [];
  const floor: number[] = [];
  const details: { drawnMs: number; label: string; domContentLoadedMs: number; scriptBytes: number; apiRequests: number }[] = [];
  // One load first, not counted: the server's first answers of the page's queries.
  for (let i = 0; i < loads + 1; i++) {
    // The floor: a fresh context loading a tiny answer from the same server.
    {
      const context = await browser.newContext();
      const page = await context.newPage();
      await page.goto(`${base}/health`, { waitUntil: 'load' });
      const ms = await page.evaluate(() => Number((globalThis as unknown as PageGlobals).performance.getEntriesByType('navigation')[0].loadEventEnd));
      if (i > 0) floor.push(ms);
      await context.close();
    }
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    try {
      const res = await context.request.post(`${base}/api/v1/auth/sign-in`, { data: { email, password } });
      if (res.status() !== 200) throw new Error(`browser sign-in answered ${res.status()}`);
      await context.addInitScript(chartProbe);
      const page = await context.newPage();
      let apiRequests = 0;
      page.on('request', (r) => {
        if (new URL(r.url()).pathname.startsWith('/api/v1/')) apiRequests++;
      });
      await page.goto(pageUrl, { waitUntil: 'commit' });
      // A function, not a string: the page's CSP (script-src 'self') refuses the eval a string predicate needs.
      await page.waitForFunction(() => (globalThis as unknown as PageGlobals).__farmiqChartDrawn !== undefined, undefined, { timeout: 60_000, polling: 50 });
      // A function, as above: the page's CSP would refuse a string.
      const r = await page.evaluate(() => {
        const g = globalThis as unknown as PageGlobals;
        return {
          drawn: g.__farmiqChartDrawn!,
          dcl: Number(g.performance.getEntriesByType('navigation')[0].domContentLoadedEventEnd),
          scriptBytes: g.performance
            .getEntriesByType('resource')
            .filter((e) => e.initiatorType === 'script')
            .reduce((sum, e) => sum + Number(e.transferSize), 0),
        };
      });
      if (i > 0) {
        drawn.push(r.drawn.at);
        details.push({ drawnMs: Math.round(r.drawn.at), label: r.drawn.label, domContentLoadedMs: Math.round(r.dcl), scriptBytes: r.scriptBytes, apiRequests });
      }
    } finally {
      await context.close();
    }
  }
  return { url: pageUrl, drawnChartMs: distribution(drawn), floorHealthLoadMs: distribution(floor), loads: details };
}

function bundleSizes() {
  const dir = path.join(repoRoot, 'dashboard-web', 'dist', 'assets');
  if (!fs.existsSync(dir)) return null;
  const files = fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.js'))
    .map((f) => {
      const raw = fs.readFileSync(path.join(dir, f));
      return { file: f, bytes: raw.length, gzipBytes: gzipSync(raw, { level: 9 }).length };
    });
  const css = fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.css'))
    .map((f) => ({ file: f, gzipBytes: gzipSync(fs.readFileSync(path.join(dir, f)), { level: 9 }).length }));
  return { files, totalBytes: files.reduce((a, f) => a + f.bytes, 0), totalGzipBytes: files.reduce((a, f) => a + f.gzipBytes, 0), css };
}

/** Does the cloud HTTP process serve the built dashboard (an HTML page loading a script from /assets/)? */
async function dashboardServed(base: string): Promise<string | null> {
  const res = await fetch(`${base}/farms/${farmId}`);
  const text = await res.text();
  if (res.status === 200 && /<script[^>]+src="\/assets\/[^"]+\.js"/.test(text)) return null;
  return `GET /farms/${farmId} answered ${res.status} ${res.headers.get('content-type')}: ${text.slice(0, 120).replace(/\s+/g, ' ')}`;
}

/**
 * Only while the cloud HTTP app does not mount the dashboard yet: the built files served by the
 * project's own dashboardRouter in this process, everything else forwarded to the cloud HTTP
 * process as it came (one more local hop for every API call; the result says so).
 */
async function stopgapDashboard(cloudBase: string): Promise<{ base: string; close: () => Promise<void> }> {
  const target = new URL(cloudBase);
  const agent = new http.Agent({ keepAlive: true });
  const app = express();
  app.use(dashboardRouter({ distDir: path.join(repoRoot, 'dashboard-web', 'dist') }));
  app.use((req, res) => {
    const upstream = http.request(
      { host: target.hostname, port: target.port, method: req.method, path: req.originalUrl, headers: req.headers, agent },
      (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      },
    );
    upstream.on('error', (e) => res.destroy(e));
    req.pipe(upstream);
  });
  const server = await new Promise<http.Server>((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  return {
    base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => {
      agent.destroy();
      server.closeAllConnections();
      return new Promise((r) => server.close(() => r()));
    },
  };
}

export async function benchDashboard(o: DashboardBenchOptions): Promise<void> {
  const facts = machine();
  const at = new Date().toISOString();
  const stack = await createDemoStack({ historyDays: o.historyDays, databaseTag: 'demo_bench' });
  let browser: Browser | undefined;
  let stopgap: Awaited<ReturnType<typeof stopgapDashboard>> | undefined;
  const result: Record<string, unknown> = { benchmark: 'dashboard', at, machine: facts, options: o, targets };
  try {
    const upStart = Date.now();
    const up = await stack.up();
    result.makeUpSeconds = seconds(Date.now() - upStart);
    if (up.code !== 0) throw new Error(`make up failed (${up.code}):\n${up.output.slice(-4000)}`);
    console.log(`make up with ${o.historyDays} days of history: ${String(result.makeUpSeconds)} s`);

    const admin = stack.accounts.users.find((u) => u.role === 'admin');
    if (!admin) throw new Error('the demo has no admin account');
    const base = stack.cloudUrl;
    let token = await signIn(base, admin.email, admin.password);
    const me = await getJson<{ tenant_id: string }>(base, '/api/v1/me', token);
    result.catchUp = await waitForCatchUp(stack, me.tenant_id, o.catchUpTimeout);
    result.history = await historyPerBarn(stack, me.tenant_id);
    console.table(result.history);
    // A fresh token for the measurements (the first may be near its expiry after a long catch-up).
    token = await signIn(base, admin.email, admin.password);

    const barnBase = `/api/v1/farms/${farmId}/barns/${barnId}`;
    const stored = await getJson<{ items: { metric: string; unit: string; last_at: string }[] }>(base, `${barnBase}/climate/metrics`, token);
    result.storedMetrics = stored.items;
    const wanted = ['temperature', 'humidity', 'co2', 'nh3'];
    const missing = wanted.filter((m) => !stored.items.some((s) => s.metric === m));
    if (missing.length) console.log(`metrics not stored for ${barnId}: ${missing.join(', ')} (stored: ${stored.items.map((s) => s.metric).join(', ')})`);
    // The windows the page asks for: fixed to the next minute when the range is chosen.
    const end = Math.ceil(Date.now() / 60_000) * 60_000;
    const window = (ms: number) => ({ from: new Date(end - ms).toISOString(), to: new Date(end).toISOString() });
    const calls: Call[] = [
      { name: 'floor: 404 after requireUser', path: '/api/v1/bench-floor', status: 404, page: false },
      { name: 'reference: GET /me', path: '/api/v1/me', status: 200, page: false },
      { name: 'farms', path: '/api/v1/farms', status: 200, page: true },
      { name: 'farm', path: `/api/v1/farms/${farmId}`, status: 200, page: true },
      { name: 'inbox', path: '/api/v1/notifications/inbox', query: { limit: '50' }, status: 200, page: true },
      { name: 'overview', path: `/api/v1/farms/${farmId}/overview`, status: 200, page: true },
      ...wanted
        .filter((m) => !missing.includes(m))
        .map((m) => ({ name: `climate 24 h ${m}`, path: `${barnBase}/climate`, query: { metric: m, ...window(24 * 3_600_000) }, status: 200, page: true })),
      { name: 'weighings', path: `${barnBase}/weighings`, query: { limit: '25' }, status: 200, page: true },
      { name: 'growth', path: `${barnBase}/growth`, status: 200, page: true },
      { name: 'feed', path: `${barnBase}/feed`, status: 200, page: true },
      { name: 'mortality', path: `${barnBase}/mortality`, status: 200, page: true },
      { name: 'kpis', path: `${barnBase}/kpis`, status: 200, page: true },
      { name: 'climate 42 d temperature', path: `${barnBase}/climate`, query: { metric: 'temperature', ...window(42 * 86_400_000) }, status: 200, page: false },
    ];
    const points = async (q: Record<string, string>) =>
      await getJson<{ resolution: string; points: unknown[] }>(
        base,
        urlOf(base, { name: '', path: `${barnBase}/climate`, query: q, status: 200, page: false }),
        token,
      );
    const s24 = await points({ metric: 'temperature', ...window(24 * 3_600_000) });
    const s42 = await points({ metric: 'temperature', ...window(42 * 86_400_000) });
    result.series = {
      temperature24h: { resolution: s24.resolution, points: s24.points.length },
      temperature42d: { resolution: s42.resolution, points: s42.points.length },
    };

    const loadBefore = os.loadavg();
    const apiStart = Date.now();
    const api = await measureApi(base, token, calls, o.runs, o.warmup);
    const floorP50 = api.perCall['floor: 404 after requireUser'].ms.p50;
    const ratios = Object.fromEntries(Object.entries(api.perCall).map(([k, v]) => [k, Math.round((v.ms.p95 / floorP50) * 10) / 10]));
    result.api = {
      ...api,
      seconds: seconds(Date.now() - apiStart),
      floorP50Ms: floorP50,
      ratioP95ToFloorP50: ratios,
      loadAverageBefore: loadBefore.map((l) => Number(l.toFixed(2))),
      loadAverageAfter: os.loadavg().map((l) => Number(l.toFixed(2))),
    };

    result.bundle = bundleSizes();
    const notServed = await dashboardServed(base);
    let pageBase = base;
    let servedBy = 'the cloud HTTP process';
    if (notServed && !fs.existsSync(path.join(repoRoot, 'dashboard-web', 'dist', 'index.html'))) {
      result.browser = { measured: false, reason: `the cloud HTTP process does not serve the dashboard (${notServed}) and dashboard-web/dist is not built` };
    } else {
      if (notServed) {
        stopgap = await stopgapDashboard(base);
        pageBase = stopgap.base;
        servedBy = `this process (dashboardRouter, API forwarded to the cloud HTTP process), because the cloud HTTP process does not serve the dashboard: ${notServed}`;
        console.log(`dashboard served by ${servedBy}`);
      }
      browser = await chromium.launch({ executablePath: chromiumPath, args: ['--no-sandbox'] });
      result.browser = {
        measured: true,
        servedBy,
        chromium: browser.version(),
        ...(await measureBrowser(browser, pageBase, admin.email, admin.password, o.loads)),
      };
    }
    result.loadAverageAtEnd = os.loadavg().map((l) => Number(l.toFixed(2)));
  } catch (err) {
    // What was measured before the failure is still written, with the failure.
    result.error = err instanceof Error ? err.message : String(err);
    throw err;
  } finally {
    await browser?.close();
    await stopgap?.close();
    const down = Date.now();
    await stack.dispose();
    result.disposeSeconds = seconds(Date.now() - down);
    const dir = path.join(repoRoot, 'bench', 'results');
    fs.mkdirSync(dir, { recursive: true });
    const file = path.join(dir, `dashboard-${at.replace(/[:.]/g, '-')}.json`);
    fs.writeFileSync(file, JSON.stringify(result, null, 2) + '\n');
    if (!result.error) report(result);
    console.log(`\nwritten: ${path.relative(repoRoot, file)}`);
  }
}

function report(result: Record<string, unknown>) {
  const api = result.api as {
    perCall: Record<string, { bytes?: number; ms: Distribution }>;
    pageCallsPooled: Distribution;
    pageSetSequential: Distribution;
    pageSetAtOnce: Distribution;
    floorP50Ms: number;
    ratioP95ToFloorP50: Record<string, number>;
  };
  const floor = api.floorP50Ms;
  const row = (name: string, d: Distribution, target?: number) => ({
    measurement: name,
    p50: d.p50,
    p95: d.p95,
    max: d.max,
    'p95 ÷ floor p50': Math.round((d.p95 / floor) * 10) / 10,
    target: target === undefined ? '' : `≤ ${target} ms ${d.p95 <= target ? 'met' : 'NOT met'}`,
  });
  const rows = Object.entries(api.perCall).map(([k, v]) => row(k, v.ms, k.startsWith('floor') || k.startsWith('reference') ? undefined : targets.apiP95Ms));
  rows.push(row('page calls pooled', api.pageCallsPooled, targets.apiP95Ms));
  rows.push(row('page set, one after another', api.pageSetSequential));
  rows.push(row('page set, all at once', api.pageSetAtOnce));
  console.log(`\nAPI (ms), ${JSON.stringify((result.series as object) ?? {})}`);
  console.table(rows);
  const b = result.browser as { measured: boolean; reason?: string; servedBy?: string; drawnChartMs?: Distribution; floorHealthLoadMs?: Distribution };
  if (b.measured && b.drawnChartMs && b.floorHealthLoadMs) {
    const d = b.drawnChartMs;
    console.log(`dashboard served by ${b.servedBy}`);
    console.log(
      `drawn chart (ms): p50 ${d.p50} p95 ${d.p95} max ${d.max} (n ${d.n}); browser floor (fresh context, /health load) p50 ${b.floorHealthLoadMs.p50}; ratio p95 ÷ floor p50 ${(d.p95 / b.floorHealthLoadMs.p50).toFixed(1)}; target ≤ ${targets.drawnChartMs} ms ${d.p95 <= targets.drawnChartMs ? 'met' : 'NOT met'}`,
    );
  } else console.log(`drawn chart: not measured (${b.reason})`);
  const bundle = result.bundle as { totalGzipBytes: number; files: unknown[] } | null;
  if (bundle)
    console.log(
      `script bundle: ${bundle.files.length} file(s), ${(bundle.totalGzipBytes / 1024).toFixed(1)} KB gzip -9; target ≤ ${targets.scriptGzipKB} KB ${bundle.totalGzipBytes / 1024 <= targets.scriptGzipKB ? 'met' : 'NOT met'}`,
    );
  else console.log('script bundle: dashboard-web/dist/assets missing');
  console.log(
    `make up: ${String(result.makeUpSeconds)} s; catch-up ${(result.catchUp as { seconds: number }).seconds} s; load ${JSON.stringify(result.loadAverageAtEnd)}`,
  );
}
