/**
 * The only writer of tenants and users. Two kinds of caller:
 *   - `farmiq tenants|users|tokens` and the demo, on the owner pool (CLOUD_DATABASE_URL): create a
 *     tenant, its first admin, a service token;
 *   - the dashboard's sign-in and user administration (gateways/http/auth/, docs/auth.md): sign-in
 *     looks users up across tenants on the owner pool (no tenant is known yet); everything else runs
 *     on a withTenant() client of the tenant pool, so row-level security applies as well.
 */
import type { Pool } from 'pg';
import type { Queryable } from '../db/transaction';
import { hashPassword } from './passwords';
import { isRole, type Role } from './roles';
import { issueToken, type IssueOptions, type TokenConfig } from './tokens';

export interface Tenant {
  id: string;
  name: string;
}

export interface User {
  id: string;
  tenantId: string;
  email: string;
  displayName: string | null;
  role: Role;
}

export async function createTenant(pool: Pool, name: string): Promise<Tenant> {
  if (!name.trim()) throw new Error('a tenant needs a name');
  const r = await pool.query<{ id: string; name: string }>('INSERT INTO tenants (name) VALUES ($1) RETURNING id, name', [name.trim()]);
  return r.rows[0];
}

/**
 * Makes sure each tenant id exists, named after its id when new (an edge registered for a tenant
 * the cloud has not seen yet). Runs on the caller's client, inside its transaction.
 */
export async function ensureTenants(db: Queryable, tenantIds: string[]): Promise<void> {
  await db.query(`INSERT INTO tenants (id, name) SELECT t, 'tenant ' || t FROM unnest($1::uuid[]) AS t ON CONFLICT (id) DO NOTHING`, [tenantIds]);
}

export interface NewUser {
  tenantId: string;
  email: string;
  role: Role;
  displayName?: string;
  password?: string;
}

export async function createUser(pool: Pool, u: NewUser): Promise<User> {
  if (!isRole(u.role)) throw new Error(`unknown role ${String(u.role)}: use viewer, operator or admin`);
  if (!/^[^\s@]+@[^\s@]+$/.test(u.email)) throw new Error(`${u.email} is not an email address`);
  const tenant = await pool.query('SELECT 1 FROM tenants WHERE id = $1', [u.tenantId]);
  if (tenant.rowCount === 0) throw new Error(`no tenant ${u.tenantId}`);
  const hash = u.password ? await hashPassword(u.password) : null;
  try {
    const r = await pool.query<{ id: string }>(
      `INSERT INTO users (tenant_id, email, display_name, role, password_hash) VALUES ($1, $2, $3, $4, $5) RETURNING id`,
      [u.tenantId, u.email, u.displayName ?? null, u.role, hash],
    );
    return { id: r.rows[0].id, tenantId: u.tenantId, email: u.email, displayName: u.displayName ?? null, role: u.role };
  } catch (err) {
    if ((err as { code?: string }).code === '23505') throw new Error(`tenant ${u.tenantId} already has a user ${u.email}`, { cause: err });
    throw err;
  }
}

/** A dashboard token for an existing, enabled user, with the tenant and role stored for them. */
export async function issueTokenForUser(pool: Pool, userId: string, config: TokenConfig, opts: IssueOptions = {}): Promise<{ token: string; user: User }> {
  const r = await pool.query<{ id: string; tenant_id: string; email: string; display_name: string | null; role: Role; disabled_at: Date | null }>(
    'SELECT id, tenant_id, email, display_name, role, disabled_at FROM users WHERE id = $1',
    [userId],
  );
  const row = r.rows[0];
  if (!row) throw new Error(`no user ${userId}`);
  if (row.disabled_at) throw new Error(`user ${userId} is disabled`);
  const user: User = { id: row.id, tenantId: row.tenant_id, email: row.email, displayName: row.display_name, role: row.role };
  return { token: issueToken({ userId: user.id, tenantId: user.tenantId, role: user.role }, config, opts), user };
}

/** Creates the tenant with this id and name, or renames it (the demo's tenant has a fixed id). */
export async function ensureNamedTenant(pool: Pool, tenant: Tenant): Promise<void> {
  await pool.query('INSERT INTO tenants (id, name) VALUES ($1, $2) ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name', [tenant.id, tenant.name]);
}

/**
 * The user with this email in the tenant, created when missing; its role, display name and
 * password are set to the given ones either way, so signing in with them works after a re-run.
 */
export async function ensureUser(pool: Pool, u: NewUser & { password: string }): Promise<User> {
  if (!isRole(u.role)) throw new Error(`unknown role ${String(u.role)}: use viewer, operator or admin`);
  const hash = await hashPassword(u.password);
  const r = await pool.query<{ id: string }>(
    `INSERT INTO users (tenant_id, email, display_name, role, password_hash) VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (tenant_id, lower(email)) DO UPDATE SET display_name = EXCLUDED.display_name, role = EXCLUDED.role,
       password_hash = EXCLUDED.password_hash, disabled_at = NULL
     RETURNING id`,
    [u.tenantId, u.email, u.displayName ?? null, u.role, hash],
  );
  return { id: r.rows[0].id, tenantId: u.tenantId, email: u.email, displayName: u.displayName ?? null, role: u.role };
}

/** What auth/passwords.ts hashPassword() demands; checked first so the refusal has its own reason. */
export const minPasswordLength = 10;

export type UserAdminProblem = 'email_taken' | 'weak_password' | 'last_admin';

/** A refusal of user administration with a stable reason (the HTTP layer maps it to its code). */
export class UserAdminError extends Error {
  constructor(
    readonly problem: UserAdminProblem,
    message: string,
  ) {
    super(message);
    this.name = 'UserAdminError';
  }
}

function checkPassword(password: string): void {
  if (password.length < minPasswordLength) throw new UserAdminError('weak_password', `a password needs at least ${minPasswordLength} characters`);
}

/** A user whose email a sign-in named, with what the password is checked against. */
export interface SignInCandidate {
  userId: string;
  tenantId: string;
  tenantName: string;
  email: string;
  displayName: string | null;
  role: Role;
  /** Null for a user without a password (an identity provider's). */
  passwordHash: string | null;
  disabled: boolean;
}

/** Every user with this email (case-insensitive), in every tenant or the one named. Owner pool: no tenant is known yet. */
export async function findSignInCandidates(db: Queryable, email: string, tenantId?: string): Promise<SignInCandidate[]> {
  const r = await db.query<{
    id: string;
    tenant_id: string;
    tenant_name: string;
    email: string;
    display_name: string | null;
    role: Role;
    password_hash: string | null;
    disabled_at: Date | null;
  }>(
    `SELECT u.id, u.tenant_id, t.name AS tenant_name, u.email, u.display_name, u.role, u.password_hash, u.disabled_at
       FROM users u JOIN tenants t ON t.id = u.tenant_id
      WHERE lower(u.email) = lower($1) AND ($2::uuid IS NULL OR u.tenant_id = $2::uuid)
      ORDER BY t.name, u.tenant_id`,
    [email.trim(), tenantId ?? null],
  );
  return r.rows.map((u) => ({
    userId: u.id,
    tenantId: u.tenant_id,
    tenantName: u.tenant_name,
    email: u.email,
    displayName: u.display_name,
    role: u.role,
    passwordHash: u.password_hash,
    disabled: u.disabled_at !== null,
  }));
}

/** A user as the dashboard shows it. */
export interface UserRecord {
  id: string;
  tenantId: string;
  email: string;
  displayName: string | null;
  role: Role;
  createdAt: Date;
  disabledAt: Date | null;
}

/** A user and their tenant's name: who "me" is. */
export interface UserProfile extends UserRecord {
  tenantName: string;
}

const userColumns = 'u.id, u.tenant_id, u.email, u.display_name, u.role, u.created_at, u.disabled_at';

interface UserRow {
  id: string;
  tenant_id: string;
  email: string;
  display_name: string | null;
  role: Role;
  created_at: Date;
  disabled_at: Date | null;
}

function userRecord(r: UserRow): UserRecord {
  return { id: r.id, tenantId: r.tenant_id, email: r.email, displayName: r.display_name, role: r.role, createdAt: r.created_at, disabledAt: r.disabled_at };
}

/** The user and their tenant's name; undefined when there is none (or RLS hides it). */
export async function userProfile(db: Queryable, userId: string): Promise<UserProfile | undefined> {
  const r = await db.query<UserRow & { tenant_name: string }>(
    `SELECT ${userColumns}, t.name AS tenant_name FROM users u JOIN tenants t ON t.id = u.tenant_id WHERE u.id = $1`,
    [userId],
  );
  return r.rows[0] && { ...userRecord(r.rows[0]), tenantName: r.rows[0].tenant_name };
}

/** The tenant's users, by email. */
export async function listUsers(db: Queryable, tenantId: string): Promise<UserRecord[]> {
  const r = await db.query<UserRow>(`SELECT ${userColumns} FROM users u WHERE u.tenant_id = $1 ORDER BY lower(u.email), u.id`, [tenantId]);
  return r.rows.map(userRecord);
}

/** Adds a user with a password to the tenant; UserAdminError email_taken / weak_password. */
export async function addUser(db: Queryable, u: NewUser & { password: string }): Promise<UserRecord> {
  if (!isRole(u.role)) throw new Error(`unknown role ${String(u.role)}: use viewer, operator or admin`);
  checkPassword(u.password);
  const hash = await hashPassword(u.password);
  try {
    const r = await db.query<UserRow>(
      `INSERT INTO users AS u (tenant_id, email, display_name, role, password_hash) VALUES ($1, $2, $3, $4, $5) RETURNING ${userColumns}`,
      [u.tenantId, u.email.trim(), u.displayName ?? null, u.role, hash],
    );
    return userRecord(r.rows[0]);
  } catch (err) {
    if ((err as { code?: string }).code === '23505') throw new UserAdminError('email_taken', `this tenant already has a user ${u.email.trim()}`);
    throw err;
  }
}

export interface UserChange {
  role?: Role;
  /** null clears it. */
  displayName?: string | null;
  /** true disables the user (they can no longer sign in or refresh), false enables them again. */
  disabled?: boolean;
}

/**
 * Changes a user of the tenant; undefined when the tenant has no such user. A change that would
 * leave the tenant without an enabled admin is refused (UserAdminError last_admin). The tenant's
 * admins are locked first, in id order, so two admins demoting each other at once cannot both
 * succeed (the second sees the first's commit) and cannot deadlock.
 */
export async function updateUser(db: Queryable, tenantId: string, userId: string, change: UserChange, now = new Date()): Promise<UserRecord | undefined> {
  if (change.role !== undefined && !isRole(change.role)) throw new Error(`unknown role ${String(change.role)}`);
  const mayRemoveAdmin = (change.role !== undefined && change.role !== 'admin') || change.disabled === true;
  const admins = mayRemoveAdmin
    ? (
        await db.query<{ id: string }>(`SELECT id FROM users WHERE tenant_id = $1 AND role = 'admin' AND disabled_at IS NULL ORDER BY id FOR UPDATE`, [
          tenantId,
        ])
      ).rows.map((r) => r.id)
    : [];
  const current = await db.query<{ id: string }>('SELECT id FROM users WHERE tenant_id = $1 AND id = $2 FOR UPDATE', [tenantId, userId]);
  if (current.rowCount === 0) return undefined;
  if (mayRemoveAdmin && admins.includes(userId) && admins.length === 1) {
    throw new UserAdminError('last_admin', 'this is the only enabled admin of the tenant; make another user admin first');
  }
  const r = await db.query<UserRow>(
    `UPDATE users u SET
       role = coalesce($3, u.role),
       display_name = CASE WHEN $4::boolean THEN $5 ELSE u.display_name END,
       disabled_at = CASE WHEN $6::boolean IS NULL THEN u.disabled_at WHEN $6::boolean THEN coalesce(u.disabled_at, $7) ELSE NULL END
     WHERE u.tenant_id = $1 AND u.id = $2
     RETURNING ${userColumns}`,
    [tenantId, userId, change.role ?? null, change.displayName !== undefined, change.displayName ?? null, change.disabled ?? null, now],
  );
  return userRecord(r.rows[0]);
}

/** The user's stored password hash, the row locked until the transaction ends; undefined: no such user. */
export async function lockedPasswordHash(db: Queryable, userId: string): Promise<{ passwordHash: string | null; email: string } | undefined> {
  const r = await db.query<{ password_hash: string | null; email: string }>('SELECT password_hash, email FROM users WHERE id = $1 FOR UPDATE', [userId]);
  return r.rows[0] && { passwordHash: r.rows[0].password_hash, email: r.rows[0].email };
}

/** Sets a user's password; UserAdminError weak_password. */
export async function setPassword(db: Queryable, userId: string, password: string): Promise<void> {
  checkPassword(password);
  const r = await db.query('UPDATE users SET password_hash = $2 WHERE id = $1', [userId, await hashPassword(password)]);
  if (r.rowCount === 0) throw new Error(`no user ${userId}`);
}
