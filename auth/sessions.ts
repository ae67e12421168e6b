/**
 * Sign-in sessions: the refresh side of dashboard sign-in (docs/auth.md), and the only writer of
 * auth_sessions and auth_refresh_tokens (owner pool: a refresh names a session, not a tenant).
 *
 * A session is what one sign-in started. Its refresh token is 32 random bytes, stored only as a
 * SHA-256 (a random 256-bit token needs no slow hash), and replaced on every refresh. The old one
 * stays on record as rotated: presenting it again means someone kept a copy, and the whole session
 * is revoked — the thief and the user both sign in again (RFC 9700 §4.14.2, refresh token
 * rotation). A session expires at a fixed time after sign-in (AUTH_REFRESH_TTL); refreshing never
 * extends it.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Pool } from 'pg';
import { inTransaction, type Queryable } from '../db/transaction';

export type RevokeReason = 'signed_out' | 'token_reused' | 'password_changed' | 'user_disabled';

export interface SessionOwner {
  tenantId: string;
  userId: string;
}

export interface StartedSession extends SessionOwner {
  sessionId: string;
  /** The new refresh token: for the cookie only, never stored. */
  refreshToken: string;
  expiresAt: Date;
}

/** Why a refresh was refused: expired (or never issued) → sign in again; revoked → signed out, reused, or the user disabled. */
export type RefreshRefusal = { refused: 'expired' } | { refused: 'revoked'; reason: RevokeReason };

function newToken(): string {
  return randomBytes(32).toString('base64url');
}

function tokenHash(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}

/** A new session for a user who just signed in; sessions that expired a day ago or more are removed on the way. */
export async function startSession(
  pool: Pool,
  owner: SessionOwner & { clientAddress?: string; userAgent?: string },
  lifetimeSeconds: number,
  now: Date,
): Promise<StartedSession> {
  const expiresAt = new Date(now.getTime() + lifetimeSeconds * 1000);
  const refreshToken = newToken();
  return inTransaction(pool, async (db) => {
    // Housekeeping: a rotated token only matters while its session could still be refreshed.
    await db.query(`DELETE FROM auth_sessions WHERE expires_at < $1::timestamptz - interval '1 day'`, [now]);
    const r = await db.query<{ id: string }>(
      `INSERT INTO auth_sessions (tenant_id, user_id, created_at, expires_at, client_address, user_agent) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`,
      [owner.tenantId, owner.userId, now, expiresAt, owner.clientAddress?.slice(0, 200) ?? null, owner.userAgent?.slice(0, 500) ?? null],
    );
    const sessionId = r.rows[0].id;
    await db.query('INSERT INTO auth_refresh_tokens (token_hash, session_id, issued_at) VALUES ($1, $2, $3)', [tokenHash(refreshToken), sessionId, now]);
    return { sessionId, tenantId: owner.tenantId, userId: owner.userId, refreshToken, expiresAt };
  });
}

/**
 * Exchanges a refresh token for a new one in the same session. Refused when the token is unknown
 * or its session expired (expired), when the session was revoked, when the token was already
 * exchanged (the session is revoked now: token_reused) or when the user is disabled (the session
 * is revoked now: user_disabled). Two refreshes with the same token at once: the row lock makes
 * the second one a reuse.
 */
export async function rotateRefreshToken(pool: Pool, refreshToken: string, now: Date): Promise<StartedSession | RefreshRefusal> {
  return inTransaction(pool, async (db) => {
    const r = await db.query<{
      session_id: string;
      rotated_at: Date | null;
      tenant_id: string;
      user_id: string;
      expires_at: Date;
      revoked_reason: RevokeReason | null;
      user_disabled: boolean;
    }>(
      `SELECT t.session_id, t.rotated_at, s.tenant_id, s.user_id, s.expires_at, s.revoked_reason, u.disabled_at IS NOT NULL AS user_disabled
         FROM auth_refresh_tokens t
         JOIN auth_sessions s ON s.id = t.session_id
         JOIN users u ON u.tenant_id = s.tenant_id AND u.id = s.user_id
        WHERE t.token_hash = $1
        FOR UPDATE OF t, s`,
      [tokenHash(refreshToken)],
    );
    const row = r.rows[0];
    if (!row || row.expires_at.getTime() <= now.getTime()) return { refused: 'expired' as const };
    if (row.revoked_reason) return { refused: 'revoked' as const, reason: row.revoked_reason };
    const revokeFor = row.rotated_at ? 'token_reused' : row.user_disabled ? 'user_disabled' : undefined;
    if (revokeFor) {
      await revoke(db, 'id = $1', [row.session_id], revokeFor, now);
      return { refused: 'revoked' as const, reason: revokeFor };
    }
    const next = newToken();
    await db.query('UPDATE auth_refresh_tokens SET rotated_at = $2 WHERE token_hash = $1', [tokenHash(refreshToken), now]);
    await db.query('INSERT INTO auth_refresh_tokens (token_hash, session_id, issued_at) VALUES ($1, $2, $3)', [tokenHash(next), row.session_id, now]);
    await db.query('UPDATE auth_sessions SET last_refreshed_at = $2 WHERE id = $1', [row.session_id, now]);
    return { sessionId: row.session_id, tenantId: row.tenant_id, userId: row.user_id, refreshToken: next, expiresAt: row.expires_at };
  });
}

async function revoke(db: Queryable, where: string, params: unknown[], reason: RevokeReason, now: Date): Promise<number> {
  const r = await db.query(
    `UPDATE auth_sessions SET revoked_at = $${params.length + 1}, revoked_reason = $${params.length + 2} WHERE revoked_at IS NULL AND ${where}`,
    [...params, now, reason],
  );
  return r.rowCount ?? 0;
}

/** Sign-out: revokes the session this refresh token (current or already rotated) belongs to; false when none is known. */
export async function endSession(pool: Pool, refreshToken: string, now: Date): Promise<boolean> {
  const n = await revoke(pool, 'id = (SELECT session_id FROM auth_refresh_tokens WHERE token_hash = $1)', [tokenHash(refreshToken)], 'signed_out', now);
  return n > 0;
}

/** Revokes every open session of the user, except `keep` (the session that changed the password); how many were revoked. */
export async function revokeUserSessions(pool: Pool, userId: string, reason: RevokeReason, now: Date, keep?: string): Promise<number> {
  return revoke(pool, 'user_id = $1 AND ($2::uuid IS NULL OR id <> $2::uuid)', [userId, keep ?? null], reason, now);
}

/** The session's state, for tests and diagnostics. */
export async function sessionState(pool: Pool, sessionId: string): Promise<{ revokedReason: RevokeReason | null; expiresAt: Date } | undefined> {
  const r = await pool.query<{ revoked_reason: RevokeReason | null; expires_at: Date }>('SELECT revoked_reason, expires_at FROM auth_sessions WHERE id = $1', [
    sessionId,
  ]);
  return r.rows[0] && { revokedReason: r.rows[0].revoked_reason, expiresAt: r.rows[0].expires_at };
}
