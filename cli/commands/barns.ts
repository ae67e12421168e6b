/**
 * `farmiq barns`: the barns (houses) of a farm in the cloud directory (cloud/farm-directory.ts,
 * the only writer of barns). The flock in a barn comes from the farm server (`farmiq flocks`).
 */
import type { Command } from 'commander';
import { createBarn, listBarns } from '../../cloud/farm-directory';
import type { CliContext, CommandGroup } from '../context';
import { table } from '../output';

const barnJson = (b: Awaited<ReturnType<typeof listBarns>>[number]) => ({
  tenant_id: b.tenantId,
  farm_id: b.farmId,
  barn_id: b.barnId,
  name: b.name,
  created_at: b.createdAt,
});

function register(program: Command, ctx: CliContext): void {
  const barns = program.command('barns').description('barns of a farm in the cloud directory (cloud database, barns)');

  barns
    .command('create')
    .description('add a barn to a farm of the directory')
    .requiredOption('--tenant <uuid>', 'tenant id')
    .requiredOption('--farm <id>', 'farm id (created with farms create)')
    .requiredOption('--barn <id>', 'barn id, as devices and the farm server name it')
    .requiredOption('--name <name>', 'display name, e.g. "House 1"')
    .action(async (o: { tenant: string; farm: string; barn: string; name: string }) => {
      const b = await ctx.cloud((pool) => createBarn(pool, { tenantId: o.tenant, farmId: o.farm, barnId: o.barn, name: o.name }));
      ctx.out.data(barnJson(b), (x) => `barn ${x.farm_id}/${x.barn_id} created`);
    });

  barns
    .command('list')
    .description("a tenant's barns, of one farm with --farm")
    .requiredOption('--tenant <uuid>', 'tenant id')
    .option('--farm <id>', 'only this farm')
    .action(async (o: { tenant: string; farm?: string }) => {
      const list = await ctx.cloud((pool) => listBarns(pool, o.tenant, o.farm));
      ctx.out.data(list.map(barnJson), (rows) =>
        table(
          rows.map(({ tenant_id: _t, ...rest }) => rest),
          'no barns',
        ),
      );
    });
}

export const group: CommandGroup = { name: 'barns', register };
