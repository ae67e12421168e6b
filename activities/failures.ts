/**
 * What an activity does with a failure, by what it says about retrying (issue 8 point 1; the
 * database side of the decision is db/errors.ts, the one classifier):
 *
 * - transient (connection lost, timeout, Postgres shutting down, serialization failure): thrown
 *   as it is. Temporal retries it within the activity's preset (workflows/*activity-options.ts),
 *   which bounds the attempts.
 * - refused (Postgres refuses *this data*, or Temporal would refuse this payload): the same call
 *   fails the same way on every attempt. Where an activity can narrow a refusal to rows
 *   (narrowRefusals), it quarantines those and carries on; whatever refusal is left becomes one
 *   non-retryable ApplicationFailure of type DataRefused (dataRefused, refusalsAreFinal), with
 *   the SQLSTATE in its details.
 * - anything else (a bug, a missing table): thrown as it is, retried within the preset, visible.
 *
 * No pg and no activity context here (the callers pass their client); the workflows' presets
 * take dataRefusedType from domain/failure-types.ts.
 */
import { ApplicationFailure } from '@temporalio/common';
import { isDataRefusal, refusalReason, sqlState } from '../db/errors';
import { toStorableText } from '../domain/contracts/storable';
import { dataRefusedType } from '../domain/failure-types';

export { dataRefusedType };

export interface DataRefusedDetails {
  refusedBy: 'postgres' | 'temporal';
  /** `storage_refused:<SQLSTATE>` (Postgres) or `payload_too_large` (Temporal). */
  reason: string;
  /** The SQLSTATE Postgres answered with. */
  sqlState?: string;
  /** What the activity was doing. */
  step: string;
  /** A payload's size and the limit it broke (Temporal). */
  bytes?: number;
  limitBytes?: number;
}

/** The non-retryable failure of data Postgres refused (err is the pg error). */
export function dataRefused(step: string, err: unknown): ApplicationFailure {
  const reason = refusalReason(err);
  const code = sqlState(err);
  const details: DataRefusedDetails = { refusedBy: 'postgres', reason, step, ...(code ? { sqlState: code } : {}) };
  return ApplicationFailure.create({
    type: dataRefusedType,
    message: `${step}: the database refuses this data (${reason}): ${toStorableText(String((err as Error)?.message ?? err)).slice(0, 500)}`,
    nonRetryable: true,
    details: [details],
    cause: err instanceof Error ? err : undefined,
  });
}

/**
 * The largest activity input or result FarmIQ hands to Temporal. Temporal refuses a payload over
 * 2 MiB (the server's default BlobSizeLimitError; it warns from 512 KiB), and a refused workflow
 * command is retried by the server as a workflow task failure for as long as the run lives. An
 * activity result is often the next activity's input (the feature summary is passed on three
 * times), so the bound leaves room for what the next step adds.
 */
export const maxActivityPayloadBytes = 1024 * 1024;

/** `value` itself when its JSON fits in limitBytes, else a non-retryable DataRefused (payload_too_large). */
export function boundedPayload<T>(step: string, value: T, limitBytes = maxActivityPayloadBytes): T {
  const json = JSON.stringify(value);
  const bytes = json === undefined ? 0 : Buffer.byteLength(json, 'utf8');
  if (bytes <= limitBytes) return value;
  const details: DataRefusedDetails = { refusedBy: 'temporal', reason: 'payload_too_large', step, bytes, limitBytes };
  throw ApplicationFailure.create({
    type: dataRefusedType,
    message: `${step}: the result is ${bytes} bytes, more than the ${limitBytes} bytes Temporal is given (payload_too_large)`,
    nonRetryable: true,
    details: [details],
  });
}

/** Runs `work`; a refusal that escapes it becomes DataRefused, everything else is thrown as it is. */
export async function refusalsAreFinal<T>(step: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    if (isDataRefusal(err)) throw dataRefused(step, err);
    throw err;
  }
}

/** The record of a row quarantined because Postgres refused it: `storage_refused:<SQLSTATE>: what: message`. */
export function refusalNote(err: unknown, what: string, max = 2000): string {
  return toStorableText(`${refusalReason(err)}: ${what}: ${String((err as Error)?.message ?? err)}`).slice(0, max);
}

/**
 * A deep copy with every string (and key) made storable (domain/contracts/storable.ts: NUL and
 * unpaired surrogates, which text and jsonb refuse, become U+FFFD). For text that is written as
 * it came from outside (an LLM's answer, an error body), where refusing it would lose the rest.
 */
export function storableJson<T>(value: T): T {
  if (typeof value === 'string') return toStorableText(value) as T;
  if (Array.isArray(value)) return (value as unknown[]).map((v) => storableJson(v)) as T;
  if (value !== null && typeof value === 'object' && !(value instanceof Date)) {
    return Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([k, v]) => [toStorableText(k), storableJson(v)])) as T;
  }
  return value;
}
