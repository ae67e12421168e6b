/**
 * `farmiq tenants`: the cloud's tenants (written only by auth/admin.ts). Listing reads the table
 * directly: auth/admin.ts has no reader for it.
 */
import type { Command } from 'commander';
import { createTenant } from '../../auth/admin';
import type { CliContext, CommandGroup } from '../context';
import { invalidInput } from '../errors';
import { table } from '../output';

function register(program: Command, ctx: CliContext): void {
  const tenants = program.command('tenants').description('tenants of the cloud (cloud database, tenants)');

  tenants
    .command('create')
    .description('create a tenant; prints its id')
    .requiredOption('--name <name>', 'display name, e.g. "Green Valley Farms"')
    .action(async (o: { name: string }) => {
      if (!o.name.trim()) throw invalidInput('--name must not be empty');
      const t = await ctx.cloud((pool) => createTenant(pool, o.name));
      ctx.out.data({ tenant_id: t.id, name: t.name }, (x) => x.tenant_id);
    });

  tenants
    .command('list')
    .description('every tenant, oldest first')
    .action(async () => {
      const { rows } = await ctx.cloud((pool) =>
        pool.query<{ tenant_id: string; name: string; created_at: Date }>(
          'SELECT id::text AS tenant_id, name, created_at FROM tenants ORDER BY created_at, id',
        ),
      );
      ctx.out.data(rows, (r) => table(r, 'no tenants'));
    });
}

export const group: CommandGroup = { name: 'tenants', register };
