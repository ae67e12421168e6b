/**
 * The built dashboard (dashboard-web/dist, `npm run build:dashboard`) served by the cloud HTTP app
 * in tier 1 (public: the app's sign-in page must load without a token; every byte of data comes
 * from /api/v1, which checks the token):
 *
 *   GET /assets/*   the hashed script and style files: cached for a year, immutable (404 when unknown)
 *   GET any other path outside /api and /health, /metrics: index.html, never cached (the SPA's
 *                   routes; a new build is picked up on the next load)
 *   no dist         503 with a page saying how to build it
 *
 * Every answer carries a strict Content-Security-Policy: the build has no inline script or style
 * element, so nothing but the app's own files may run.
 */
import fs from 'node:fs';
import path from 'node:path';
import compression from 'compression';
import express, { type Request, type RequestHandler, type Router } from 'express';

export interface DashboardRouterOptions {
  /** The Vite build's output directory (dashboard-web/dist). */
  distDir: string;
}

export const dashboardCsp = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' blob:",
  "font-src 'self'",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/** Paths the dashboard never answers: the API and the open endpoints answer (or 404) themselves. */
function notDashboard(req: Request): boolean {
  return /^\/(api|health|metrics)(\/|$)/.test(req.path);
}

const securityHeaders: RequestHandler = (req, res, next) => {
  if (notDashboard(req)) return next();
  res.setHeader('content-security-policy', dashboardCsp);
  res.setHeader('x-content-type-options', 'nosniff');
  res.setHeader('referrer-policy', 'same-origin');
  res.setHeader('x-frame-options', 'DENY');
  next();
};

const missingPage = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>FarmIQ dashboard not built</title></head>
<body><h1>The FarmIQ dashboard is not built yet</h1>
<p>The API works (<a href="/api/docs">/api/docs</a>); the web app's files are missing.
Run <code>make setup</code> (or <code>npm run build:dashboard</code>) and reload this page.</p></body></html>
`;

export function dashboardRouter({ distDir }: DashboardRouterOptions): Router {
  const router = express.Router();
  const indexFile = path.join(distDir, 'index.html');
  router.use(securityHeaders);

  // The script is ~390 KB as built, ~125 KB gzipped: compressed for any client that accepts it.
  router.use('/assets', compression());
  // Hashed names: a changed file has a new name, so the old one may be kept forever.
  router.use('/assets', express.static(path.join(distDir, 'assets'), { immutable: true, maxAge: '365d', index: false }));
  // An asset of an older build (a page loaded before a rebuild): a plain 404, never index.html as script.
  router.use('/assets', (_req, res) => {
    res.status(404).setHeader('cache-control', 'no-store').type('text').send('no such dashboard asset: reload the page');
  });

  router.get(/.*/, (req, res, next) => {
    if (notDashboard(req)) return next();
    // Read on each request: a build made while the server runs is served without a restart.
    fs.readFile(indexFile, (err, html) => {
      if (err) {
        res.status(503).setHeader('cache-control', 'no-store').type('html').send(missingPage);
        return;
      }
      res.setHeader('cache-control', 'no-cache');
      res.type('html').send(html);
    });
  });
  return router;
}
