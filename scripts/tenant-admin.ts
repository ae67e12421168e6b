/**
 * Tenants, dashboard users and dashboard tokens (issue 5: the first admin of a tenant).
 *
 *   npx tsx scripts/tenant-admin.ts tenant create --name "Green Valley Farms"
 *   npx tsx scripts/tenant-admin.ts user create --tenant <uuid> --email ops@example.com --role admin [--password …] [--name …]
 *   npx tsx scripts/tenant-admin.ts token issue --user <uuid> [--expires-in 1h]
 *
 * Prints the new id (or the token) on stdout, or a JSON object with --json. Works on the owner
 * database (CLOUD_DATABASE_URL, or --url); tokens are signed with AUTH_JWT_SECRET.
 */
import { Command } from 'commander';
import { Pool } from 'pg';
import { createTenant, createUser, issueTokenForUser } from '../auth/admin';
import { isRole, roles } from '../auth/roles';
import { tokenConfig } from '../auth/tokens';
import { settings } from '../config/settings';

async function withPool<T>(url: string | undefined, fn: (pool: Pool) => Promise<T>): Promise<T> {
  const pool = new Pool({ connectionString: url ?? settings().CLOUD_DATABASE_URL, max: 2, connectionTimeoutMillis: 5000 });
  try {
    return await fn(pool);
  } finally {
    await pool.end();
  }
}

function print(json: boolean, value: Record<string, unknown>, plain: string): void {
  console.log(json ? JSON.stringify(value) : plain);
}

const program = new Command()
  .name('tenant-admin')
  .description('FarmIQ tenants, dashboard users and tokens')
  .option('--url <url>', 'cloud database URL (default CLOUD_DATABASE_URL)');
const url = () => program.opts<{ url?: string }>().url;

const tenant = program.command('tenant').description('tenants');
tenant
  .command('create')
  .requiredOption('--name <name>', 'display name of the tenant')
  .option('--json', 'print JSON')
  .action(async (o: { name: string; json?: boolean }) => {
    const t = await withPool(url(), (pool) => createTenant(pool, o.name));
    print(Boolean(o.json), { tenant_id: t.id, name: t.name }, t.id);
  });

const user = program.command('user').description('dashboard users');
user
  .command('create')
  .requiredOption('--tenant <uuid>', 'tenant id')
  .requiredOption('--email <email>', 'sign-in and notification email')
  .requiredOption('--role <role>', `one of ${roles.join(', ')}`)
  .option('--password <password>', 'stored as an scrypt hash (for a sign-in flow; tokens do not need it)')
  .option('--name <name>', 'display name')
  .option('--json', 'print JSON')
  .action(async (o: { tenant: string; email: string; role: string; password?: string; name?: string; json?: boolean }) => {
    if (!isRole(o.role)) throw new Error(`--role must be one of ${roles.join(', ')}`);
    const role = o.role;
    const u = await withPool(url(), (pool) => createUser(pool, { tenantId: o.tenant, email: o.email, role, displayName: o.name, password: o.password }));
    print(Boolean(o.json), { user_id: u.id, tenant_id: u.tenantId, email: u.email, role: u.role }, u.id);
  });

const token = program.command('token').description('dashboard tokens');
token
  .command('issue')
  .requiredOption('--user <uuid>', 'user id')
  .option('--expires-in <duration>', 'seconds or e.g. 15m, 1h (default AUTH_TOKEN_TTL, at most AUTH_TOKEN_MAX_TTL)')
  .option('--json', 'print JSON')
  .action(async (o: { user: string; expiresIn?: string; json?: boolean }) => {
    const expiresIn = o.expiresIn && /^\d+$/.test(o.expiresIn) ? Number(o.expiresIn) : o.expiresIn;
    const { token: jwt, user: u } = await withPool(url(), (pool) => issueTokenForUser(pool, o.user, tokenConfig(settings()), { expiresIn }));
    print(Boolean(o.json), { token: jwt, user_id: u.id, tenant_id: u.tenantId, role: u.role }, jwt);
  });

program.parseAsync().catch((err: Error) => {
  console.error(err.message);
  process.exit(1);
});
