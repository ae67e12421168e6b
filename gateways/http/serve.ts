/**
 * Runs an HTTP gateway process: waits for its database, listens on each of its listeners (one app
 * per address), and on SIGTERM reports `stopping` on /health, stops accepting connections on all of
 * them, lets in-flight requests finish within SHUTDOWN_GRACE_SECONDS, then closes the pool.
 */
import http from 'node:http';
import type { Express } from 'express';
import type { Pool } from 'pg';
import { Lifecycle } from '../../platform/lifecycle';
import { waitFor } from '../../platform/wait-for';
import type { Logger } from '../../platform/logger';
import { createPool, safeDatabaseName } from '../../db/pool';
import type { Phase } from './health';

export interface ListenerSpec {
  /** For logs: `station`, `operator`. */
  name: string;
  host: string;
  port: number;
  createApp: (deps: { pool: Pool; log: Logger; phase: () => Phase }) => Express;
}

export interface GatewaySpec {
  component: string;
  databaseUrl: string;
  log: Logger;
  /** One HTTP server per listener, sharing the pool and the lifecycle; each on its own address. */
  listeners: ListenerSpec[];
  /** SHUTDOWN_GRACE_SECONDS: how long in-flight requests may take to finish on SIGTERM. */
  shutdownGraceSeconds: number;
  /** DEPENDENCY_WAIT_SECONDS: how long start-up waits for the database. */
  dependencyWaitSeconds: number;
}

export async function serveGateway(spec: GatewaySpec): Promise<void> {
  const { log } = spec;
  const lifecycle = new Lifecycle(log, spec.shutdownGraceSeconds);
  lifecycle.installSignalHandlers();
  let phase: Phase = 'starting';

  const pool = createPool(spec.databaseUrl, { applicationName: `farmiq-${spec.component}`, log });
  lifecycle.onStop('database pool', () => pool.end());
  await waitFor(`database ${safeDatabaseName(spec.databaseUrl)}`, () => pool.query('SELECT 1'), {
    log,
    timeoutSeconds: spec.dependencyWaitSeconds,
    signal: lifecycle.abort.signal,
  });

  const servers: http.Server[] = [];
  // All listeners stop accepting at once, then in-flight requests finish on each.
  lifecycle.onStop('http servers', async () => {
    await Promise.all(
      servers.map((server) => {
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeIdleConnections();
        return closed;
      }),
    );
  });
  for (const listener of spec.listeners) {
    const app = listener.createApp({ pool, log, phase: () => phase });
    const server = http.createServer(app);
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err: Error) => reject(new Error(`${listener.name} listener on ${listener.host}:${listener.port}: ${err.message}`)));
      server.listen(listener.port, listener.host, () => resolve());
    });
    servers.push(server);
    log.info({ listener: listener.name, host: listener.host, port: listener.port }, `${spec.component} ${listener.name} listener up`);
  }
  lifecycle.onStop('health phase', async () => {
    phase = 'stopping';
  });
  phase = 'ready';
  log.info({ listeners: spec.listeners.map((l) => `${l.name} ${l.host}:${l.port}`) }, `${spec.component} listening`);
}

/** main() of a gateway: a start-up failure is logged and exits non-zero. */
export function runGateway(spec: GatewaySpec): void {
  serveGateway(spec).catch((err: Error) => {
    if (err.message.startsWith('stopped while waiting')) return; // SIGTERM during start-up: the Lifecycle exits
    spec.log.fatal({ err: err.message }, `${spec.component} could not start`);
    process.exit(1);
  });
}
