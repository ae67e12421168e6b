/**
 * What a database error says about retrying — the one place that decides it (bridge, cloud
 * ingestion, consumers, activities):
 *
 * - `transient`: Postgres is not there right now, or this attempt lost a race (connection lost,
 *   timeout, shutting down, too many connections, serialization failure, deadlock). The data is
 *   fine; the same statement succeeds later. Retry, and do not count it against the data.
 * - `refused`: Postgres refuses this data (SQLSTATE class 22 data exception — NUL in text,
 *   numeric overflow, a time out of range —, class 23 integrity constraint, class 54 program
 *   limit such as a jsonb nesting limit). The same statement fails again with the same rows:
 *   narrow the batch to the offending row(s) and quarantine them; never retry them as a whole.
 * - `failed`: anything else (a missing table, a permission, a bug). Neither retrying the data
 *   elsewhere nor quarantining it is right; the caller keeps it and reports unhealthy.
 */
export type DatabaseFailure = 'transient' | 'refused' | 'failed';

const transientCodes = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'EAI_AGAIN',
  '57P01', // admin_shutdown
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now (starting up, in recovery)
  '57014', // query_canceled (statement_timeout)
  '53000', // insufficient_resources
  '53100', // disk_full
  '53200', // out_of_memory
  '53300', // too_many_connections
  '55P03', // lock_not_available
  '40001', // serialization_failure
  '40P01', // deadlock_detected
]);

const transientMessage =
  /timeout exceeded when trying to connect|Connection terminated|connection to server .* failed|Client has encountered a connection error|Cannot use a pool after calling end|Query read timeout/i;

/** The SQLSTATE (or Node error code) a database error carries, if any. */
export function sqlState(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

export function classifyDatabaseError(err: unknown): DatabaseFailure {
  const code = sqlState(err);
  if (code && (transientCodes.has(code) || code.startsWith('08'))) return 'transient'; // class 08: connection exception
  const message = (err as { message?: unknown } | null)?.message;
  if (typeof message === 'string' && transientMessage.test(message)) return 'transient';
  if (code && /^(22|23|54)[0-9A-Z]{3}$/.test(code)) return 'refused';
  return 'failed';
}

/** "Postgres is not there right now": retry later, the data is fine. */
export function isDatabaseUnavailable(err: unknown): boolean {
  return classifyDatabaseError(err) === 'transient';
}

/** "Postgres refuses this data": the same rows fail every time. */
export function isDataRefusal(err: unknown): boolean {
  return classifyDatabaseError(err) === 'refused';
}

/** The stable reject reason for a row the database refused: `storage_refused:<SQLSTATE>`. */
export function refusalReason(err: unknown): `storage_refused:${string}` {
  return `storage_refused:${sqlState(err) ?? 'unknown'}`;
}
