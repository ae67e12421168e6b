/**
 * The one transaction kit: every BEGIN … COMMIT in FarmIQ goes through here.
 *
 * inTransaction: a pooled connection, BEGIN (READ ONLY when asked), the transaction-local settings
 * (statement timeout, the tenant of the RLS policies), the work, COMMIT — or ROLLBACK and rethrow
 * the work's error. The broken-connection policy, the same for every caller: a connection whose
 * ROLLBACK succeeded is healthy and goes back to the pool; one whose ROLLBACK failed (the failure
 * was the connection itself: Postgres restarted, the socket was cut) is destroyed —
 * `release(rollbackError)` — so the next caller never gets it. While the transaction holds the
 * connection, an error the connection itself reports is kept for that decision rather than left
 * to pg's 'error' event, which has no listener on a checked-out client and would end the process.
 *
 * inSavepoint: a part of the caller's transaction that can fail alone (narrowing a refusal to the
 * rows refused, keeping what the database does take).
 */
import type { Pool, PoolClient } from 'pg';

/** A pool or a client inside a transaction. */
export type Queryable = Pick<Pool | PoolClient, 'query'>;

export interface TransactionOptions {
  /**
   * statement_timeout for this transaction only, e.g. '20s' or '5000ms': keep it inside the caller's
   * own deadline (an activity's start-to-close timeout, an HTTP answer), so a stuck statement fails
   * this attempt instead of running on beside the next one.
   */
  statementTimeout?: string;
  /** BEGIN READ ONLY: the work only reads. */
  readOnly?: boolean;
  /**
   * Settings local to the transaction (set_config(name, value, true), i.e. SET LOCAL): they end
   * with it, so a pooled connection never carries one caller's setting into the next.
   */
  settings?: Readonly<Record<string, string>>;
}

function localSettings(opts: TransactionOptions): [string, string][] {
  const all = Object.entries(opts.settings ?? {});
  if (opts.statementTimeout !== undefined) all.push(['statement_timeout', opts.statementTimeout]);
  return all;
}

export async function inTransaction<T>(pool: Pool, work: (client: PoolClient) => Promise<T>, opts: TransactionOptions = {}): Promise<T> {
  const client = await pool.connect();
  let broken: Error | undefined;
  const onConnectionError = (err: Error) => {
    broken ??= err;
  };
  client.on('error', onConnectionError);
  try {
    await client.query(opts.readOnly ? 'BEGIN READ ONLY' : 'BEGIN');
    const settings = localSettings(opts);
    if (settings.length > 0) {
      await client.query(`SELECT ${settings.map((_, i) => `set_config($${2 * i + 1}, $${2 * i + 2}, true)`).join(', ')}`, settings.flat());
    }
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (err) {
    try {
      await client.query('ROLLBACK');
    } catch (rollbackErr) {
      broken ??= rollbackErr as Error;
    }
    throw err;
  } finally {
    client.removeListener('error', onConnectionError);
    client.release(broken);
  }
}

/** What inSavepoint needs of the caller's transaction. */
interface SavepointHost {
  query(sql: string): Promise<unknown>;
}

/**
 * Runs `work` inside a savepoint of the caller's transaction: a failure undoes `work` alone and is
 * rethrown; the transaction goes on. Savepoints nest (Postgres resolves the name to the newest).
 */
export async function inSavepoint<T>(db: SavepointHost, work: () => Promise<T>): Promise<T> {
  await db.query('SAVEPOINT farmiq_savepoint');
  try {
    const result = await work();
    await db.query('RELEASE SAVEPOINT farmiq_savepoint');
    return result;
  } catch (err) {
    await db.query('ROLLBACK TO SAVEPOINT farmiq_savepoint');
    throw err;
  }
}
