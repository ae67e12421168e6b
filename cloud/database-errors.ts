/**
 * Which database errors mean "Postgres is not there right now" (retry later, the data is fine)
 * rather than "this statement is wrong for this data" (retrying will not help). Ingestion answers
 * the first with 503 so the edge backs off without spending attempts; consumers hold their
 * messages and retry instead of counting a delivery against them.
 */
const unavailableCodes = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EHOSTUNREACH',
  '57P01', // admin_shutdown
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now (starting up, in recovery)
  '53300', // too_many_connections
  '40001', // serialization_failure
  '40P01', // deadlock_detected
]);

export function isDatabaseUnavailable(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown } | null;
  const code = typeof e?.code === 'string' ? e.code : undefined;
  if (code && (unavailableCodes.has(code) || code.startsWith('08'))) return true; // class 08: connection exception
  const message = typeof e?.message === 'string' ? e.message : '';
  return /timeout exceeded when trying to connect|Connection terminated|connection to server .* failed|Client has encountered a connection error|Cannot use a pool after calling end/i.test(message);
}
