/**
 * The cloud HTTP API as an express app. Only /health so far; the ingestion endpoints of spec §7
 * come with the next issue.
 */
import express, { type Express } from 'express';
import type { Pool } from 'pg';
import { logger, type Logger } from '../../platform/logger';
import { errorHandler, notFound } from './errors';
import { healthRouter, type Phase } from './health';
import { requestId } from './request-id';

export interface CloudAppDeps {
  pool: Pool;
  log?: Logger;
  phase?: () => Phase;
}

export function createCloudApp({ pool, log = logger('cloud-http'), phase }: CloudAppDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.use(requestId);
  app.use(
    healthRouter(
      'cloud-http',
      {
        database: async () => {
          await pool.query('SELECT 1');
          return { ok: true };
        },
      },
      phase,
    ),
  );
  app.use(notFound);
  app.use(errorHandler(log));
  return app;
}
