/**
 * `farmiq users`: dashboard users of a tenant (cloud database, users; written only by
 * auth/admin.ts). Listing reads the table directly: auth/admin.ts has no reader for it.
 */
import { Option, type Command } from 'commander';
import { createUser } from '../../auth/admin';
import { roles, type Role } from '../../auth/roles';
import { isUuid } from '../../domain/contracts/identifiers';
import type { CliContext, CommandGroup } from '../context';
import { invalidInput, notFound } from '../errors';
import { table } from '../output';

function tenantId(value: string): string {
  if (!isUuid(value)) throw invalidInput(`--tenant must be a tenant uuid, got "${value}"`);
  return value.toLowerCase();
}

function register(program: Command, ctx: CliContext): void {
  const users = program.command('users').description('dashboard users (cloud database, users)');

  users
    .command('create')
    .description("create a user of a tenant (e.g. the tenant's first admin); prints its id")
    .requiredOption('--tenant <uuid>', 'tenant id')
    .requiredOption('--email <email>', 'sign-in and notification email')
    .addOption(new Option('--role <role>', 'what the user may do').choices([...roles]).makeOptionMandatory())
    .option('--password <password>', 'stored as an scrypt hash (for signing in; tokens do not need it)')
    .option('--name <name>', 'display name')
    .action(async (o: { tenant: string; email: string; role: Role; password?: string; name?: string }) => {
      const u = await ctx.cloud((pool) =>
        createUser(pool, { tenantId: tenantId(o.tenant), email: o.email, role: o.role, displayName: o.name, password: o.password }),
      );
      ctx.out.data({ user_id: u.id, tenant_id: u.tenantId, email: u.email, role: u.role, display_name: u.displayName }, (x) => x.user_id);
    });

  users
    .command('list')
    .description("a tenant's users")
    .requiredOption('--tenant <uuid>', 'tenant id')
    .action(async (o: { tenant: string }) => {
      const id = tenantId(o.tenant);
      const rows = await ctx.cloud(async (pool) => {
        const tenant = await pool.query('SELECT 1 FROM tenants WHERE id = $1', [id]);
        if (tenant.rowCount === 0) throw notFound(`no tenant ${id}`);
        const r = await pool.query<{
          user_id: string;
          tenant_id: string;
          email: string;
          display_name: string | null;
          role: Role;
          created_at: Date;
          disabled_at: Date | null;
        }>(
          `SELECT id::text AS user_id, tenant_id::text, email, display_name, role, created_at, disabled_at
             FROM users WHERE tenant_id = $1 ORDER BY created_at, id`,
          [id],
        );
        return r.rows;
      });
      ctx.out.data(rows, (r) =>
        table(
          r.map(({ tenant_id: _t, ...rest }) => rest),
          'no users',
        ),
      );
    });
}

export const group: CommandGroup = { name: 'users', register };
