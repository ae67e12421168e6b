/**
 * Tenants, users and tokens for the auth, notification and route-sweep tests: every call makes a
 * new tenant (random name) so tests never see each other's rows, and the tenant pool connects as
 * farmiq_app — the role that row-level security applies to — to the test database.
 */
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Express } from 'express';
import { Pool } from 'pg';
import { createTenant, createUser } from '../../auth/admin';
import type { Role } from '../../auth/roles';
import { issueToken, tokenConfig, type TokenConfig } from '../../auth/tokens';
import { settings } from '../../config/settings';
import { testCloudAppDatabaseUrl, testCloudDatabaseUrl } from '../support/stack';

export const testJwtSecret = 'farmiq-test-secret-for-dashboard-tokens';

/** This install's token lifetimes (AUTH_TOKEN_TTL, AUTH_TOKEN_MAX_TTL) with the tests' own key. */
export const testTokens: TokenConfig = { ...tokenConfig(settings()), secret: testJwtSecret };

/** The test database as farmiq_app (RLS applies) — same server and database, other role. */
export { testCloudAppDatabaseUrl };

export function ownerPool(): Pool {
  return new Pool({ connectionString: testCloudDatabaseUrl, max: 4 });
}

export function tenantPool(): Pool {
  return new Pool({ connectionString: testCloudAppDatabaseUrl, max: 6 });
}

export interface TestUser {
  id: string;
  email: string;
  role: Role;
  token: string;
}

export interface TestTenant {
  id: string;
  name: string;
  viewer: TestUser;
  operator: TestUser;
  admin: TestUser;
}

export async function seedTenant(owner: Pool, label: string): Promise<TestTenant> {
  const suffix = randomBytes(4).toString('hex');
  const tenant = await createTenant(owner, `${label} ${suffix}`);
  const users = {} as Record<Role, TestUser>;
  for (const role of ['viewer', 'operator', 'admin'] as const) {
    const email = `${role}-${suffix}@${label.toLowerCase().replace(/[^a-z0-9]/g, '')}.example`;
    const u = await createUser(owner, { tenantId: tenant.id, email, role, displayName: `${label} ${role}` });
    users[role] = { id: u.id, email, role, token: issueToken({ userId: u.id, tenantId: tenant.id, role }, testTokens) };
  }
  return { id: tenant.id, name: tenant.name, ...users };
}

/** An express app listening on a random loopback port. */
export async function listen(app: Express | http.RequestListener): Promise<{ url: string; close(): Promise<void> }> {
  const server = http.createServer(app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export interface CallResult {
  status: number;
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any
  text: string;
  headers: Headers;
}

export async function call(
  base: string,
  method: string,
  path: string,
  opts: { token?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<CallResult> {
  const res = await fetch(base + path, {
    method,
    headers: {
      ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}),
      ...(opts.body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...opts.headers,
    },
    body: opts.body !== undefined ? JSON.stringify(opts.body) : undefined,
  });
  const text = await res.text();
  let body: unknown;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = undefined;
  }
  return { status: res.status, body, text, headers: res.headers };
}
