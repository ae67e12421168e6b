/**
 * Stable, machine-readable reasons for refusing a device message or an API event. These strings
 * are stored in the quarantine table and returned by APIs: never rename one, only add.
 */
export type RejectReason =
  | 'payload_too_large'
  | 'unknown_topic'
  | 'invalid_encoding'
  | 'invalid_json'
  | 'event_type_mismatch'
  | 'tenant_mismatch'
  | 'device_mismatch'
  | 'metric_mismatch'
  /** A WeighVision event for a session whose workflow has already ended (late, or a replay of one it had). */
  | 'session_closed'
  /** A WeighVision event for a session another device (or another farm/barn) opened: only the station whose event started it may write to it. */
  | 'session_not_owned'
  /** A valid WeighVision event whose signal Temporal refused for what it carries (INVALID_ARGUMENT, OUT_OF_RANGE). */
  | 'temporal_refused'
  /** A flock event for a flock id the edge has no placement of (flocks/flock-store.ts). */
  | 'unknown_flock'
  /** Mortality for a flock that has left its barn. */
  | 'flock_depopulated'
  /** Mortality from a device in another farm or barn than the flock's. */
  | 'flock_barn_mismatch'
  /** Mortality for a day before the flock's placement day. */
  | 'flock_day_out_of_range'
  /** A telemetry unit that is not one the metric accepts (domain/contracts/units.ts). */
  | 'unit_not_accepted'
  | `schema_violation:${string}`
  /** Valid by the contract, yet refused by the database (SQLSTATE); quarantined alone, the rest of its batch committed. */
  | `storage_refused:${string}`;

export interface Rejection {
  ok: false;
  reason: RejectReason;
  /** A sentence for a human reading the quarantine table. */
  detail: string;
}

export function reject(reason: RejectReason, detail: string): Rejection {
  return { ok: false, reason, detail };
}

/** `schema_violation:<path>` for the first zod issue; the root is named `$`. */
export function schemaViolation(issues: readonly { path: PropertyKey[]; message: string }[]): Rejection {
  const first = issues[0];
  const path = first && first.path.length > 0 ? first.path.map(String).join('.') : '$';
  return reject(`schema_violation:${path}`, first ? `${path}: ${first.message}` : 'schema violation');
}
