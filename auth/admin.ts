/**
 * Tenant and user administration on the owner pool, and the only writer of tenants and users (CLOUD_DATABASE_URL): what `farmiq tenants|users|tokens`
 * runs to create a tenant, its first admin, and a dashboard token. Not reachable over HTTP.
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
