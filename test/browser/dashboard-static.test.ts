/**
 * How the cloud HTTP app serves the built dashboard (gateways/http/dashboard/dashboard-static.ts):
 * hashed assets cached for good, index.html for every app path and never cached, a strict CSP,
 * the API's paths left alone, and a plain 503 notice when nothing is built.
 */
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import express from 'express';
import type { Server } from 'node:http';
import { dashboardRouter } from '../../gateways/http/dashboard/dashboard-static';

const servers: Server[] = [];
const dirs: string[] = [];

async function serve(distDir: string): Promise<string> {
  const app = express();
  app.use(dashboardRouter({ distDir }));
  // What the cloud app does after it: the API answers (here: a stand-in), everything else 404.
  app.get('/api/v1/ping', (_req, res) => res.json({ ok: true }));
  app.use((_req, res) => res.status(404).json({ error: { code: 'not_found' } }));
  const server = await new Promise<Server>((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  servers.push(server);
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

function builtDist(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'farmiq-dashboard-dist-'));
  dirs.push(dir);
  fs.mkdirSync(path.join(dir, 'assets'));
  fs.writeFileSync(path.join(dir, 'index.html'), '<!doctype html><title>FarmIQ</title><script type="module" src="/assets/index-abc123.js"></script>');
  fs.writeFileSync(path.join(dir, 'assets', 'index-abc123.js'), 'console.log("farmiq")');
  return dir;
}

afterAll(async () => {
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

test('every app path answers index.html, not cached, under a strict CSP', async () => {
  const base = await serve(builtDist());
  for (const p of ['/', '/farms/demo-farm', '/farms/demo-farm/barns/broiler-house-1', '/inbox', '/admin/users']) {
    const res = await fetch(base + p);
    expect({ p, status: res.status }).toEqual({ p, status: 200 });
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    expect(res.headers.get('cache-control')).toBe('no-cache');
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    expect(csp).toContain("frame-ancestors 'none'");
    expect(await res.text()).toContain('<title>FarmIQ</title>');
  }
});

test('hashed assets are cached for a year; a missing one is a 404, never the page', async () => {
  const base = await serve(builtDist());
  const res = await fetch(`${base}/assets/index-abc123.js`);
  expect(res.status).toBe(200);
  expect(res.headers.get('cache-control')).toMatch(/max-age=31536000.*immutable/);
  expect(res.headers.get('content-type')).toMatch(/javascript/);
  const missing = await fetch(`${base}/assets/index-gone.js`);
  expect(missing.status).toBe(404);
  expect(await missing.text()).not.toContain('<title>FarmIQ</title>');
});

test('assets go gzipped to a client that accepts it, as they are to one that does not', async () => {
  const dist = builtDist();
  const script = `/* ${'the farm overview '.repeat(2000)} */\nconsole.log("farmiq");\n`;
  fs.writeFileSync(path.join(dist, 'assets', 'index-big456.js'), script);
  const base = await serve(dist);
  const get = (encoding: string) =>
    new Promise<{ encoding: string | undefined; body: Buffer }>((resolve, reject) => {
      http
        .get(`${base}/assets/index-big456.js`, { headers: { 'accept-encoding': encoding } }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ encoding: res.headers['content-encoding'], body: Buffer.concat(chunks) }));
        })
        .on('error', reject);
    });
  const gz = await get('gzip');
  expect(gz.encoding).toBe('gzip');
  expect(gz.body.length).toBeLessThan(script.length / 10);
  expect(zlib.gunzipSync(gz.body).toString()).toBe(script);
  const plain = await get('identity');
  expect(plain.encoding).toBeUndefined();
  expect(plain.body.toString()).toBe(script);
});

test('the API, /health and /metrics are not the dashboard’s', async () => {
  const base = await serve(builtDist());
  const ping = await fetch(`${base}/api/v1/ping`);
  expect(await ping.json()).toEqual({ ok: true });
  expect(ping.headers.get('content-security-policy')).toBeNull();
  for (const p of ['/api/v1/nothing-here', '/api', '/health', '/metrics']) {
    const res = await fetch(base + p);
    expect({ p, status: res.status }).toEqual({ p, status: 404 });
    expect(res.headers.get('content-type')).toMatch(/json/);
  }
  // A POST to an app path is not a page either.
  expect((await fetch(`${base}/farms/demo-farm`, { method: 'POST' })).status).toBe(404);
});

test('without a build: 503 saying how to build it', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'farmiq-dashboard-none-'));
  dirs.push(dir);
  const base = await serve(path.join(dir, 'dist'));
  const res = await fetch(`${base}/farms/demo-farm`);
  expect(res.status).toBe(503);
  expect(res.headers.get('cache-control')).toBe('no-store');
  const text = await res.text();
  expect(text).toContain('make setup');
  expect(text).toContain('npm run build:dashboard');
  expect((await fetch(`${base}/api/v1/ping`)).status).toBe(200);
});
