/**
 * Runs an HTTP gateway process: waits for its database, listens, and on SIGTERM reports
 * `stopping` on /health, stops accepting connections, lets in-flight requests finish within
 * SHUTDOWN_GRACE_SECONDS, then closes the pool.
 */
import http from 'node:http';
import type { Express } from 'express';
import type { Pool } from 'pg';
import { settings } from '../../config/settings';
import { Lifecycle } from '../../platform/lifecycle';
import { waitFor } from '../../platform/wait-for';
import type { Logger } from '../../platform/logger';
import { createPool, safeDatabaseName } from '../../db/pool';
import type { Phase } from './health';

export interface GatewaySpec {
  component: string;
  databaseUrl: string;
  port: number;
  host?: string;
  log: Logger;
  createApp: (deps: { pool: Pool; log: Logger; phase: () => Phase }) => Express;
}

export async function serveGateway(spec: GatewaySpec): Promise<void> {
  const s = settings();
  const { log } = spec;
  const lifecycle = new Lifecycle(log, s.SHUTDOWN_GRACE_SECONDS);
  lifecycle.installSignalHandlers();
  let phase: Phase = 'starting';

  const pool = createPool(spec.databaseUrl, { applicationName: `farmiq-${spec.component}`, log });
  lifecycle.onStop('database pool', () => pool.end());
  await waitFor(`database ${safeDatabaseName(spec.databaseUrl)}`, () => pool.query('SELECT 1'), {
    log,
    timeoutSeconds: s.DEPENDENCY_WAIT_SECONDS,
    signal: lifecycle.abort.signal,
  });

  const app = spec.createApp({ pool, log, phase: () => phase });
  const server = http.createServer(app);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    // Loopback until these APIs authenticate their callers (a host setting comes with auth).
    server.listen(spec.port, spec.host ?? '127.0.0.1', () => resolve());
  });
  lifecycle.onStop('http server', async () => {
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    await closed;
  });
  lifecycle.onStop('health phase', async () => {
    phase = 'stopping';
  });
  phase = 'ready';
  log.info({ port: spec.port }, `${spec.component} listening`);
}

/** main() of a gateway: a start-up failure is logged and exits non-zero. */
export function runGateway(spec: GatewaySpec): void {
  serveGateway(spec).catch((err: Error) => {
    if (err.message.startsWith('stopped while waiting')) return; // SIGTERM during start-up: the Lifecycle exits
    spec.log.fatal({ err: err.message }, `${spec.component} could not start`);
    process.exit(1);
  });
}
