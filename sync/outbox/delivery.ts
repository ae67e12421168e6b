/**
 * A claimed batch on its way, every step fenced by its owner (held.ts): sending, what the cloud
 * answered (sent, acked, failed), a failed attempt waiting for its retry, the dead letter, or the
 * batch given back untried.
 */
import type { Queryable } from '../../db/transaction';
import { held, updateHeld } from './held';

/** claimed → sending, right before the request; the lease must outlast the request. */
export async function markSending(db: Queryable, owner: string, ids: readonly string[], leaseSeconds: number): Promise<number> {
  return updateHeld(db, owner, ids, `status = 'sending', lease_expires_at = now() + make_interval(secs => $3)`, [leaseSeconds]);
}

/** sending → sent: the cloud answered 2xx; the per-event outcomes are applied next. */
export async function markSent(db: Queryable, owner: string, ids: readonly string[]): Promise<number> {
  return updateHeld(db, owner, ids, `status = 'sent', sent_at = now()`);
}

/** → acked: the cloud accepted the event or already had it. */
export async function markAcked(db: Queryable, owner: string, ids: readonly string[]): Promise<number> {
  if (ids.length === 0) return 0;
  return updateHeld(db, owner, ids, `status = 'acked', acked_at = now(), sent_at = coalesce(sent_at, now()), lease_expires_at = NULL`);
}

/** → failed, at once and for good: the cloud rejected the event, for this reason. */
export async function markFailed(db: Queryable, owner: string, rejected: readonly { id: string; reason: string }[]): Promise<number> {
  if (rejected.length === 0) return 0;
  const r = await db.query(
    `UPDATE sync_outbox o SET status = 'failed', last_error = u.reason, sent_at = coalesce(o.sent_at, now()), lease_expires_at = NULL
     FROM unnest($1::bigint[], $2::text[]) AS u(id, reason)
     WHERE o.id = u.id AND o.claimed_by = $3 AND o.status IN ${held}`,
    [rejected.map((x) => x.id), rejected.map((x) => x.reason), owner],
  );
  return r.rowCount ?? 0;
}

export interface AttemptFailure {
  /** Attempts made so far, this one included. */
  attempt: number;
  error: string;
  nextAttemptAt: Date;
  /** Kept past the next attempt, so nobody else claims the rows while they wait for it. */
  leaseUntil: Date;
}

/** A failed attempt: the rows stay with the batch, back in `claimed`, until their retry. */
export async function recordAttemptFailure(db: Queryable, owner: string, ids: readonly string[], f: AttemptFailure): Promise<number> {
  return updateHeld(db, owner, ids, `status = 'claimed', attempt_count = $3, last_error = $4, next_attempt_at = $5, lease_expires_at = $6`, [
    f.attempt,
    f.error,
    f.nextAttemptAt,
    f.leaseUntil,
  ]);
}

/** → dlq: the retries are spent; an operator inspects and requeues. */
export async function moveToDlq(db: Queryable, owner: string, ids: readonly string[], lastError: string): Promise<number> {
  return updateHeld(db, owner, ids, `status = 'dlq', last_error = $3, lease_expires_at = NULL`, [lastError]);
}

/**
 * → pending, attempts untouched: the batch is given back without having been tried (the cloud
 * was unreachable, the forwarder paused or is rolling over to a new run). next_attempt_at is kept,
 * so a batch that was waiting for a retry still waits for it.
 */
export async function releaseClaims(db: Queryable, owner: string, ids: readonly string[]): Promise<number> {
  if (ids.length === 0) return 0;
  return updateHeld(db, owner, ids, `status = 'pending', claimed_by = NULL, claimed_at = NULL, lease_expires_at = NULL`);
}
