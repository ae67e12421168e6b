/**
 * scripts/tenant-admin.ts end to end, as an operator runs it: a tenant, its first admin (with a
 * password stored as a hash, never in clear) and a token that verifies to that admin.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Pool } from 'pg';
import { verifyPassword } from '../../auth/passwords';
import { verifyToken } from '../../auth/tokens';
import { repoRoot, testCloudDatabaseUrl } from '../support/stack';
import { ownerPool, testJwtSecret, testTokens } from './support';

const run = promisify(execFile);

async function cli(...args: string[]): Promise<string> {
  const { stdout } = await run(path.join(repoRoot, 'node_modules', '.bin', 'tsx'), ['scripts/tenant-admin.ts', ...args], {
    cwd: repoRoot,
    env: { ...process.env, CLOUD_DATABASE_URL: testCloudDatabaseUrl, AUTH_JWT_SECRET: testJwtSecret, LOG_LEVEL: 'silent' },
  });
  return stdout.trim();
}

let owner: Pool;
beforeAll(() => {
  owner = ownerPool();
});
afterAll(() => owner.end());

test('tenant create → user create (first admin) → token issue', async () => {
  const tenantId = await cli('tenant', 'create', '--name', `CLI Farms ${Date.now()}`);
  expect(tenantId).toMatch(/^[0-9a-f-]{36}$/);

  const created = JSON.parse(
    await cli(
      'user',
      'create',
      '--tenant',
      tenantId,
      '--email',
      `admin-${Date.now()}@cli.example`,
      '--role',
      'admin',
      '--password',
      'correct horse battery',
      '--json',
    ),
  );
  expect(created).toMatchObject({ tenant_id: tenantId, role: 'admin' });
  const stored = await owner.query('SELECT role, password_hash FROM users WHERE id = $1', [created.user_id]);
  expect(stored.rows[0].role).toBe('admin');
  expect(stored.rows[0].password_hash).toMatch(/^scrypt\$/);
  expect(stored.rows[0].password_hash).not.toContain('correct horse');
  expect(await verifyPassword('correct horse battery', stored.rows[0].password_hash)).toBe(true);
  expect(await verifyPassword('wrong horse battery', stored.rows[0].password_hash)).toBe(false);

  const token = await cli('token', 'issue', '--user', created.user_id, '--expires-in', '15m');
  expect(verifyToken(token, testTokens)).toEqual({ userId: created.user_id, tenantId, role: 'admin' });
});

test('refusals: unknown role, unknown tenant, unknown user, a second user with the same email', async () => {
  const tenantId = await cli('tenant', 'create', '--name', `CLI Refusals ${Date.now()}`);
  await expect(cli('user', 'create', '--tenant', tenantId, '--email', 'x@cli.example', '--role', 'root')).rejects.toThrow(/--role must be one of/);
  await expect(cli('user', 'create', '--tenant', '00000000-0000-4000-8000-000000000000', '--email', 'x@cli.example', '--role', 'viewer')).rejects.toThrow(
    /no tenant/,
  );
  await expect(cli('token', 'issue', '--user', '00000000-0000-4000-8000-000000000000')).rejects.toThrow(/no user/);
  await cli('user', 'create', '--tenant', tenantId, '--email', 'same@cli.example', '--role', 'viewer');
  await expect(cli('user', 'create', '--tenant', tenantId, '--email', 'SAME@cli.example', '--role', 'viewer')).rejects.toThrow(/already has a user/);
});
