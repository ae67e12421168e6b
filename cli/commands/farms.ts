/**
 * `farmiq farms`: a tenant's farms in the cloud directory (cloud/farm-directory.ts, the only
 * writer of farms). An insight request for a farm the directory lacks is refused.
 */
import { Option, type Command } from 'commander';
import { createFarm, listFarms } from '../../cloud/farm-directory';
import { flockSpecies } from '../../domain/contracts/flock-payloads';
import type { CliContext, CommandGroup } from '../context';
import { invalidInput } from '../errors';
import { table } from '../output';

function celsius(flag: string) {
  return (v: string) => {
    const n = Number(v);
    if (v.trim() === '' || !Number.isFinite(n)) throw invalidInput(`${flag} must be a temperature in °C, got "${v}"`);
    return n;
  };
}

const farmJson = (f: Awaited<ReturnType<typeof listFarms>>[number]) => ({
  tenant_id: f.tenantId,
  farm_id: f.farmId,
  name: f.name,
  species: f.species,
  timezone: f.timezone,
  comfort_temp_min_c: f.comfortTempMinC,
  comfort_temp_max_c: f.comfortTempMaxC,
  created_at: f.createdAt,
});

function register(program: Command, ctx: CliContext): void {
  const farms = program.command('farms').description('farms of a tenant in the cloud directory (cloud database, farms)');

  farms
    .command('create')
    .description('add a farm to the directory')
    .requiredOption('--tenant <uuid>', 'tenant id')
    .requiredOption('--farm <id>', 'farm id, as devices and the farm server name it')
    .requiredOption('--name <name>', 'display name')
    .addOption(new Option('--species <species>', 'selects the reference growth curve and comfort bands').choices([...flockSpecies]).makeOptionMandatory())
    .option('--timezone <iana>', "where the farm's day starts for daily KPIs", 'UTC')
    .option('--comfort-min <celsius>', 'the farm’s own comfort band, lower end (with --comfort-max)', celsius('--comfort-min'))
    .option('--comfort-max <celsius>', 'the farm’s own comfort band, upper end', celsius('--comfort-max'))
    .action(
      async (o: {
        tenant: string;
        farm: string;
        name: string;
        species: (typeof flockSpecies)[number];
        timezone: string;
        comfortMin?: number;
        comfortMax?: number;
      }) => {
        const f = await ctx.cloud((pool) =>
          createFarm(pool, {
            tenantId: o.tenant,
            farmId: o.farm,
            name: o.name,
            species: o.species,
            timezone: o.timezone,
            comfortTempMinC: o.comfortMin,
            comfortTempMaxC: o.comfortMax,
          }),
        );
        ctx.out.data(farmJson(f), (x) => `farm ${x.farm_id} created`);
      },
    );

  farms
    .command('list')
    .description("a tenant's farms")
    .requiredOption('--tenant <uuid>', 'tenant id')
    .action(async (o: { tenant: string }) => {
      const list = await ctx.cloud((pool) => listFarms(pool, o.tenant));
      ctx.out.data(list.map(farmJson), (rows) =>
        table(
          rows.map(({ tenant_id: _t, ...rest }) => rest),
          'no farms',
        ),
      );
    });
}

export const group: CommandGroup = { name: 'farms', register };
