/**
 * Operator credentials of the farm server (table edge_operators, edge migration 0004): the people
 * and tools allowed on the operator API (ingress rejects, sync status and control, DLQ). Made and
 * revoked with `farmiq operators`, the way `farmiq devices` makes device
 * credentials.
 *
 * A token is `fiqop_` + 32 random bytes (base64url). It is returned once; the table keeps only its
 * SHA-256, which is also how a request's token is found (no name needed, nothing to compare in
 * variable time: the digest of a 256-bit secret gives nothing away).
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Pool } from 'pg';

export const operatorTokenPrefix = 'fiqop_';
/** The shape of every token this module makes; anything else is refused without a database call. */
export const operatorTokenPattern = /^fiqop_[A-Za-z0-9_-]{43}$/;
export const operatorNamePattern = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/;

export interface OperatorCredential {
  name: string;
  token: string;
}

export interface RegisteredOperator {
  name: string;
  createdAt: Date;
  rotatedAt: Date | null;
  revokedAt: Date | null;
}

export function newOperatorToken(): string {
  return operatorTokenPrefix + randomBytes(32).toString('base64url');
}

export function hashOperatorToken(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}

export class OperatorCredentialError extends Error {}

/**
 * Creates the operator `name`, or gives it a new token (the old one stops working at once) and
 * lifts a revocation. Returns the token, which is not stored anywhere.
 */
export async function addOperator(pool: Pool, opts: { name: string; token?: string }): Promise<OperatorCredential> {
  if (!operatorNamePattern.test(opts.name)) {
    throw new OperatorCredentialError(
      `operator name must be 1-64 characters of A-Z a-z 0-9 . _ @ - (starting with a letter or digit), got ${JSON.stringify(opts.name)}`,
    );
  }
  const token = opts.token ?? newOperatorToken();
  if (!operatorTokenPattern.test(token)) throw new OperatorCredentialError(`a token must look like ${operatorTokenPrefix}<43 base64url characters>`);
  await pool.query(
    `INSERT INTO edge_operators (name, token_hash) VALUES ($1, $2)
     ON CONFLICT (name) DO UPDATE SET token_hash = excluded.token_hash, rotated_at = now(), revoked_at = NULL`,
    [opts.name, hashOperatorToken(token)],
  );
  return { name: opts.name, token };
}

export async function listOperators(pool: Pool, opts: { includeRevoked?: boolean } = {}): Promise<RegisteredOperator[]> {
  const { rows } = await pool.query<{ name: string; created_at: Date; rotated_at: Date | null; revoked_at: Date | null }>(
    `SELECT name, created_at, rotated_at, revoked_at FROM edge_operators WHERE $1 OR revoked_at IS NULL ORDER BY name`,
    [Boolean(opts.includeRevoked)],
  );
  return rows.map((r) => ({ name: r.name, createdAt: r.created_at, rotatedAt: r.rotated_at, revokedAt: r.revoked_at }));
}

/** Revokes the operator's token; false when there is no active operator of that name. */
export async function revokeOperator(pool: Pool, name: string): Promise<boolean> {
  const r = await pool.query('UPDATE edge_operators SET revoked_at = now() WHERE name = $1 AND revoked_at IS NULL', [name]);
  return r.rowCount === 1;
}

/** The active operator holding this token, if any. */
export async function findOperator(pool: Pool, token: string): Promise<{ name: string } | undefined> {
  if (!operatorTokenPattern.test(token)) return undefined;
  const { rows } = await pool.query<{ name: string }>('SELECT name FROM edge_operators WHERE token_hash = $1 AND revoked_at IS NULL', [
    hashOperatorToken(token),
  ]);
  return rows[0];
}
