/**
 * A long-running process's database: one pool, closed at shutdown, checked by /health, and waited
 * for at start-up (a farm or cloud server may start the process before Postgres is up).
 */
import type { Pool } from 'pg';
import { createPool, safeDatabaseName } from '../db/pool';
import type { HealthServer } from './health';
import type { Lifecycle } from './lifecycle';
import type { Logger } from './logger';
import { waitFor } from './wait-for';

export async function openProcessDatabase(
  url: string,
  opts: { applicationName: string; max: number; log: Logger; lifecycle: Lifecycle; health: HealthServer; waitSeconds: number },
): Promise<Pool> {
  const pool = createPool(url, { applicationName: opts.applicationName, max: opts.max, log: opts.log });
  opts.lifecycle.onStop('database pool', () => pool.end());
  opts.health.addCheck('database', async () => {
    await pool.query('SELECT 1');
    return { ok: true };
  });
  await waitFor(`database ${safeDatabaseName(url)}`, () => pool.query('SELECT 1'), {
    log: opts.log,
    timeoutSeconds: opts.waitSeconds,
    signal: opts.lifecycle.abort.signal,
  });
  return pool;
}
