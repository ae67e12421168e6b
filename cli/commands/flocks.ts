/**
 * `farmiq flocks`: the flocks of the farm server (edge database). Every change goes through
 * flocks/flock-store.ts, the only writer of the flock tables, exactly as the operator API does:
 * the rows and the catalog event for the sync outbox in one transaction, so the cloud learns it.
 * Days are farm days in the farm's time zone (UTC until the farm server has a setting for it).
 */
import { randomUUID } from 'node:crypto';
import os from 'node:os';
import { Option, type Command } from 'commander';
import { z } from 'zod';
import { checkPlacementWeight, flockMortalityRecorded, flockPlacedFields, flockSexes, flockSpecies } from '../../domain/contracts/flock-payloads';
import { isUuid } from '../../domain/contracts/identifiers';
import { flockJson, flockStay, type Flock } from '../../flocks/flock-model';
import { dailyCounts, depopulateFlock, FlockRefusal, getFlock, placeFlock, recordOperatorMortality, type ActionMeta } from '../../flocks/flock-store';
import { effectiveDailyLosses, farmDayOf, headCountOn } from '../../flocks/head-count';
import type { CliContext, CommandGroup } from '../context';
import { CliError, invalidInput, type CliErrorCode } from '../errors';
import { table } from '../output';

const refusalCodes: Record<FlockRefusal['code'], CliErrorCode> = {
  flock_not_found: 'not_found',
  barn_occupied: 'conflict',
  flock_id_conflict: 'conflict',
  flock_depopulated: 'conflict',
  flock_day_out_of_range: 'invalid_input',
  depopulated_before_placement: 'invalid_input',
};

function refusal(err: unknown): unknown {
  return err instanceof FlockRefusal ? new CliError(refusalCodes[err.code], err.message, 1, { cause: err }) : err;
}

/** Who acted, in the event's trace: the command line and the person running it. */
function meta(): ActionMeta {
  return { traceId: `cli-${randomUUID()} operator:${os.userInfo().username}`.slice(0, 128), actor: 'edge-operator-cli' };
}

const placement = flockPlacedFields.extend({ tenant_id: z.uuid() }).superRefine(checkPlacementWeight);
const mortality = flockMortalityRecorded.omit({ flock_id: true, source: true });

function flockId(value: string): string {
  if (!isUuid(value)) throw invalidInput(`flock id must be a UUID, got "${value}"`);
  return value.toLowerCase();
}

const integer = (flag: string) => (v: string) => {
  if (!/^-?\d+$/.test(v.trim())) throw invalidInput(`${flag} must be a whole number, got "${v}"`);
  return Number(v);
};

const kilograms = (v: string) => {
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n)) throw invalidInput(`--placement-weight-kg must be a number of kg, got "${v}"`);
  return n;
};

/** An instant as the event carries it; `now` by default. */
function instant(flag: string, v: string | undefined): string {
  if (v === undefined) return new Date().toISOString();
  const t = Date.parse(v);
  if (Number.isNaN(t)) throw invalidInput(`${flag} must be an ISO time such as 2026-12-01T06:00:00Z, got "${v}"`);
  return new Date(t).toISOString();
}

/** The flock as the operator API answers it, with its head count today in a listing. */
function flockWithHead(f: Flock, headCount?: number) {
  return { ...flockJson(f), ...(headCount === undefined ? {} : { head_count: headCount }) };
}

function register(program: Command, ctx: CliContext): void {
  const flocks = program.command('flocks').description('flocks on the farm server (edge database; synced to the cloud)');

  flocks
    .command('place')
    .description('place a flock in a barn (the barn must be empty); placing the same flock again is a no-op')
    .requiredOption('--tenant <uuid>', 'tenant id')
    .requiredOption('--farm <id>', 'farm id')
    .requiredOption('--barn <id>', 'barn id')
    .addOption(new Option('--species <species>', 'species').choices([...flockSpecies]).makeOptionMandatory())
    .requiredOption('--breed <breed>', 'breed or line, e.g. ross-308')
    .requiredOption('--head-count <n>', 'animals placed', integer('--head-count'))
    .addOption(new Option('--sex <sex>', 'sex of the flock').choices([...flockSexes]))
    .option('--age-days <n>', 'age of the animals at placement, days', integer('--age-days'), 0)
    .option('--placement-weight-kg <kg>', 'mean body weight at placement, kg (when weighed)', kilograms)
    .option('--placed-at <time>', 'when they were placed (ISO time; default now)')
    .option('--flock-id <uuid>', 'the flock id (default: a new one)')
    .action(
      async (o: {
        tenant: string;
        farm: string;
        barn: string;
        species: string;
        breed: string;
        headCount: number;
        sex?: string;
        ageDays: number;
        placementWeightKg?: number;
        placedAt?: string;
        flockId?: string;
      }) => {
        const input = placement.parse({
          tenant_id: o.tenant,
          flock_id: o.flockId ?? randomUUID(),
          farm_id: o.farm,
          barn_id: o.barn,
          placed_at: instant('--placed-at', o.placedAt),
          species: o.species,
          breed: o.breed,
          ...(o.sex ? { sex: o.sex } : {}),
          head_count: o.headCount,
          age_at_placement_days: o.ageDays,
          ...(o.placementWeightKg !== undefined ? { placement_weight_kg: o.placementWeightKg } : {}),
        });
        const { flock, created } = await ctx
          .edge((pool) => placeFlock(pool, input, meta()))
          .catch((e: unknown) => {
            throw refusal(e);
          });
        ctx.out.data(
          { flock: flockJson(flock), created },
          (r) => `${r.created ? 'placed' : 'already placed:'} flock ${r.flock.flock_id} in ${r.flock.farm_id}/${r.flock.barn_id}`,
        );
      },
    );

  flocks
    .command('record-mortality')
    .description("record one farm day's deaths and culls of a flock (an operator's count stands over a counter's)")
    .argument('<flockId>', 'flock id')
    .requiredOption('--day <YYYY-MM-DD>', 'the farm day counted')
    .option('--dead <n>', 'animals found dead', integer('--dead'), 0)
    .option('--culled <n>', 'animals culled', integer('--culled'), 0)
    .option('--reason <text>', 'why, in a few words')
    .action(async (id: string, o: { day: string; dead: number; culled: number; reason?: string }) => {
      const counts = mortality.parse({ day: o.day, dead: o.dead, culled: o.culled, ...(o.reason ? { reason: o.reason } : {}) });
      const { eventId } = await ctx
        .edge((pool) => recordOperatorMortality(pool, flockId(id), counts, meta(), ctx.settings().EDGE_FARM_TIME_ZONE))
        .catch((e: unknown) => {
          throw refusal(e);
        });
      ctx.out.data(
        { flock_id: flockId(id), day: counts.day, dead: counts.dead, culled: counts.culled, event_id: eventId },
        (r) => `recorded ${r.day}: ${r.dead} dead, ${r.culled} culled`,
      );
    });

  flocks
    .command('depopulate')
    .description('the flock leaves its barn (again with the same time: a no-op)')
    .argument('<flockId>', 'flock id')
    .option('--at <time>', 'when (ISO time; default now)')
    .action(async (id: string, o: { at?: string }) => {
      const at = instant('--at', o.at);
      const { flock, changed } = await ctx
        .edge((pool) => depopulateFlock(pool, flockId(id), at, meta()))
        .catch((e: unknown) => {
          throw refusal(e);
        });
      ctx.out.data({ flock: flockJson(flock), changed }, (r) => `flock ${r.flock.flock_id} depopulated at ${r.flock.depopulated_at}`);
    });

  flocks
    .command('list')
    .description('flocks with their head count at the end of today (farm day), placed ones unless --all')
    .option('--tenant <uuid>', 'only this tenant')
    .option('--farm <id>', 'only this farm')
    .option('--barn <id>', 'only this barn')
    .option('--all', 'include depopulated flocks')
    .action(async (o: { tenant?: string; farm?: string; barn?: string; all?: boolean }) => {
      if (o.tenant !== undefined && !isUuid(o.tenant)) throw invalidInput(`--tenant must be a tenant uuid, got "${o.tenant}"`);
      const timeZone = ctx.settings().EDGE_FARM_TIME_ZONE;
      const today = farmDayOf(new Date().toISOString(), timeZone);
      const rows = await ctx.edge(async (pool) => {
        // Which flocks: a read only; each is then loaded and counted by the flock store itself.
        const ids = await pool.query<{ flock_id: string }>(
          `SELECT flock_id::text FROM flocks
            WHERE ($1::uuid IS NULL OR tenant_id = $1) AND ($2::text IS NULL OR farm_id = $2) AND ($3::text IS NULL OR barn_id = $3)
              AND ($4 OR status = 'placed')
            ORDER BY farm_id, barn_id, placed_at, flock_id`,
          [o.tenant ?? null, o.farm ?? null, o.barn ?? null, Boolean(o.all)],
        );
        const out = [];
        for (const { flock_id } of ids.rows) {
          const f = (await getFlock(pool, flock_id))!;
          const losses = effectiveDailyLosses(await dailyCounts(pool, f.tenantId, f.flockId));
          out.push(flockWithHead(f, headCountOn(flockStay(f), losses, timeZone, today)));
        }
        return out;
      });
      ctx.out.data(rows, (r) =>
        table(
          r.map((f) => ({
            flock_id: f.flock_id,
            farm_id: f.farm_id,
            barn_id: f.barn_id,
            species: f.species,
            breed: f.breed,
            head_count: f.head_count,
            placed_at: f.placed_at,
            status: f.status,
          })),
          'no flocks',
        ),
      );
    });
}

export const group: CommandGroup = { name: 'flocks', register };
