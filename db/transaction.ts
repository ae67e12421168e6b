/**
 * One transaction on a pooled connection: BEGIN, the work, COMMIT — or ROLLBACK and rethrow. A
 * connection whose transaction failed is given back broken (closed, not reused), since the failure
 * may have been the connection itself.
 */
import type { Pool, PoolClient } from 'pg';

export interface TransactionOptions {
  /**
   * SET LOCAL statement_timeout, e.g. '20s': keep it inside the caller's own deadline (an activity's
   * start-to-close timeout), so a stuck statement fails this attempt instead of running on beside
   * the next one.
   */
  statementTimeout?: string;
}

export async function inTransaction<T>(pool: Pool, work: (client: PoolClient) => Promise<T>, opts: TransactionOptions = {}): Promise<T> {
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    await client.query('BEGIN');
    if (opts.statementTimeout) await client.query(`SET LOCAL statement_timeout = '${opts.statementTimeout.replace(/'/g, '')}'`);
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (err) {
    broken = err as Error;
    await client.query('ROLLBACK').catch(() => {});
    throw err;
  } finally {
    client.release(broken);
  }
}
