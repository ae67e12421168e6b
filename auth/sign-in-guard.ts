/**
 * Protection against password guessing (docs/auth.md), and the only writer of sign_in_failures.
 *
 * Two counts, each in a fixed window (AUTH_LOCKOUT_WINDOW): per account (the lower-cased email,
 * whether or not a user has it) and per client address. When a count reaches its limit the key is
 * locked for AUTH_LOCKOUT_DURATION: every attempt is refused, even with the right password, and
 * without checking it. A successful password clears the account's count and gives the address
 * its attempt back.
 *
 * Each attempt is charged BEFORE the password is checked, under a row lock, and refunded when the
 * password was right: a burst of parallel guesses gets exactly the limit's worth of checks, not
 * one per request in flight. The counts are rows in Postgres, so restarting the API resets nothing.
 */
import type { Pool } from 'pg';
import { inTransaction } from '../db/transaction';

export interface GuardLimits {
  /** AUTH_LOCKOUT_ACCOUNT_FAILURES */
  accountFailures: number;
  /** AUTH_LOCKOUT_ADDRESS_FAILURES */
  addressFailures: number;
  /** AUTH_LOCKOUT_WINDOW in seconds */
  windowSeconds: number;
  /** AUTH_LOCKOUT_DURATION in seconds */
  lockSeconds: number;
}

export type GuardScope = 'account' | 'address';

/** Whose attempt this is: the email as typed and the client's address. */
export interface Attempter {
  email: string;
  address: string;
}

export type Admission = { admitted: true } | { admitted: false; scope: GuardScope; lockedUntil: Date; retryAfterSeconds: number };

/** One key's count, as stored. */
export interface GuardState {
  failures: number;
  windowStartedAt: Date;
  lockedUntil: Date | null;
}

/**
 * Charges one attempt to a key (pure: the decision the database row is updated with). A lapsed
 * window or an expired lock starts a fresh count; a count already at the limit (attempts still
 * being checked) locks the key now.
 */
export function charge(state: GuardState | undefined, limit: number, limits: GuardLimits, now: Date): { state: GuardState; lockedUntil?: Date } {
  if (state?.lockedUntil && state.lockedUntil > now) return { state, lockedUntil: state.lockedUntil };
  const lapsed = !state || state.windowStartedAt.getTime() <= now.getTime() - limits.windowSeconds * 1000 || state.lockedUntil !== null;
  const base: GuardState = lapsed ? { failures: 0, windowStartedAt: now, lockedUntil: null } : state;
  if (base.failures >= limit) {
    const lockedUntil = new Date(now.getTime() + limits.lockSeconds * 1000);
    return { state: { ...base, lockedUntil }, lockedUntil };
  }
  return { state: { ...base, failures: base.failures + 1 } };
}

const subjectOf = (scope: GuardScope, who: Attempter) => (scope === 'account' ? who.email.trim().toLowerCase() : who.address);

export class SignInGuard {
  constructor(
    private readonly pool: Pool,
    private readonly limits: GuardLimits,
    private readonly clock: () => Date = () => new Date(),
  ) {}

  private limitOf(scope: GuardScope): number {
    return scope === 'account' ? this.limits.accountFailures : this.limits.addressFailures;
  }

  /** Charges the attempt to the account, then the address; refused (nothing left charged) when either is locked. */
  async admit(who: Attempter): Promise<Admission> {
    const now = this.clock();
    for (const scope of ['account', 'address'] as const) {
      const lockedUntil = await this.chargeKey(scope, subjectOf(scope, who), now);
      if (lockedUntil) {
        if (scope === 'address') await this.refund('account', subjectOf('account', who));
        return { admitted: false, scope, lockedUntil, retryAfterSeconds: Math.max(1, Math.ceil((lockedUntil.getTime() - now.getTime()) / 1000)) };
      }
    }
    return { admitted: true };
  }

  /** The password was wrong: a key whose count reached its limit is locked from now. */
  async failed(who: Attempter): Promise<void> {
    const now = this.clock();
    for (const scope of ['account', 'address'] as const) {
      await this.pool.query(
        `UPDATE sign_in_failures
            SET locked_until = CASE WHEN failures >= $3 THEN greatest(coalesce(locked_until, $4), $4::timestamptz + make_interval(secs => $5)) ELSE locked_until END,
                updated_at = $4
          WHERE kind = $1 AND subject = $2`,
        [scope, subjectOf(scope, who), this.limitOf(scope), now, this.limits.lockSeconds],
      );
    }
  }

  /** The password was right: the account starts again from nothing, the address gets its attempt back. */
  async succeeded(who: Attempter): Promise<void> {
    await this.pool.query(`DELETE FROM sign_in_failures WHERE kind = 'account' AND subject = $1`, [subjectOf('account', who)]);
    await this.refund('address', who.address);
  }

  private async refund(scope: GuardScope, subject: string): Promise<void> {
    await this.pool.query('UPDATE sign_in_failures SET failures = greatest(failures - 1, 0) WHERE kind = $1 AND subject = $2', [scope, subject]);
  }

  /** Charges one key under its row lock; the lock's end when refused. */
  private async chargeKey(scope: GuardScope, subject: string, now: Date): Promise<Date | undefined> {
    return inTransaction(this.pool, async (db) => {
      // Counts long past their window and lock are dropped on the way (an address tried once).
      await db.query(
        `DELETE FROM sign_in_failures WHERE updated_at < $1::timestamptz - make_interval(secs => $2) AND (locked_until IS NULL OR locked_until < $1)`,
        [now, Math.max(this.limits.windowSeconds, this.limits.lockSeconds)],
      );
      await db.query(
        `INSERT INTO sign_in_failures (kind, subject, failures, window_started_at, updated_at) VALUES ($1, $2, 0, $3, $3) ON CONFLICT (kind, subject) DO NOTHING`,
        [scope, subject, now],
      );
      const r = await db.query<{ failures: number; window_started_at: Date; locked_until: Date | null }>(
        'SELECT failures, window_started_at, locked_until FROM sign_in_failures WHERE kind = $1 AND subject = $2 FOR UPDATE',
        [scope, subject],
      );
      const row = r.rows[0];
      const { state, lockedUntil } = charge(
        { failures: row.failures, windowStartedAt: row.window_started_at, lockedUntil: row.locked_until },
        this.limitOf(scope),
        this.limits,
        now,
      );
      await db.query('UPDATE sign_in_failures SET failures = $3, window_started_at = $4, locked_until = $5, updated_at = $6 WHERE kind = $1 AND subject = $2', [
        scope,
        subject,
        state.failures,
        state.windowStartedAt,
        state.lockedUntil,
        now,
      ]);
      return lockedUntil;
    });
  }
}
