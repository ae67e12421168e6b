/**
 * One pg Pool per database per process. The error listener matters: pg emits 'error' on the pool
 * when an idle client loses its connection (Postgres restarted, network cut), and an unhandled
 * 'error' event would kill the process. Logged instead, the pool simply opens a new connection on
 * the next query.
 */
import { Pool, type PoolConfig } from 'pg';

export interface PoolLogger {
  warn(obj: object, msg: string): void;
}

export interface PoolOptions {
  /** Shown in pg_stat_activity so an operator can tell the processes apart. */
  applicationName?: string;
  max?: number;
  idleTimeoutMillis?: number;
  connectionTimeoutMillis?: number;
  /** Any pino-style logger; without one, idle-connection errors are ignored (the next query reconnects). */
  log?: PoolLogger;
  /** Extra pg settings, for the rare caller that needs one not listed above. */
  extra?: Omit<PoolConfig, 'connectionString'>;
}

export function createPool(url: string, opts: PoolOptions = {}): Pool {
  const pool = new Pool({
    connectionString: url,
    application_name: opts.applicationName ?? 'farmiq',
    max: opts.max ?? 10,
    idleTimeoutMillis: opts.idleTimeoutMillis ?? 30_000,
    // A dependency that is down must fail a query quickly (and be retried), not hang it.
    connectionTimeoutMillis: opts.connectionTimeoutMillis ?? 5_000,
    ...opts.extra,
  });
  pool.on('error', (err) => {
    opts.log?.warn({ err: err.message, database: safeDatabaseName(url) }, 'idle database connection lost');
  });
  return pool;
}

/** The database name of a connection URL, never its password (for logs). */
export function safeDatabaseName(url: string): string {
  try {
    const u = new URL(url);
    return `${u.hostname}:${u.port || '5432'}${u.pathname}`;
  } catch {
    return '<invalid url>';
  }
}
