/**
 * The edge HTTP API as an express app, without a listening socket: edge-main.ts serves it, tests
 * serve it on an ephemeral port.
 */
import express, { type Express } from 'express';
import type { Pool } from 'pg';
import { logger, type Logger } from '../../platform/logger';
import { errorHandler, notFound } from './errors';
import { healthRouter, type Phase } from './health';
import { ingressRejectsRouter } from './ingress-rejects';
import { requestId } from './request-id';

export interface EdgeAppDeps {
  pool: Pool;
  log?: Logger;
  /** Lets main.ts report `stopping` on /health while it drains; ready by default. */
  phase?: () => Phase;
}

export function createEdgeApp({ pool, log = logger('edge-http'), phase }: EdgeAppDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.use(requestId);
  app.use(
    healthRouter(
      'edge-http',
      {
        database: async () => {
          await pool.query('SELECT 1');
          return { ok: true };
        },
      },
      phase,
    ),
  );
  app.use('/api/v1/ingress/rejects', ingressRejectsRouter(pool));
  app.use(notFound);
  app.use(errorHandler(log));
  return app;
}
