/**
 * The farm description file the simulator plays (demo/farm.json; docs/simulator.md): one farm of
 * a tenant, its barns, each barn's flock and devices, the cadences of a live run and of a
 * backfill, and how often devices misbehave. Validated here, so a typo fails with its path.
 */
import fs from 'node:fs';
import { z } from 'zod';
import { isTimeZone } from '../domain/calendar/local-clock';
import { climateMetrics, type ClimateMetric } from '../domain/climate/metrics';
import { topicSegment } from '../domain/contracts/envelope';
import { farmDay } from '../domain/contracts/flock-payloads';
import { breedNames } from './models/breeds';
import { physical } from './models/excursion';

const seconds = z
  .number()
  .int()
  .min(1)
  .max(7 * 86_400);
const share = z.number().min(0).max(1);
const devices = z.array(topicSegment).max(20).default([]);

const cadence = z
  .object({
    /** Every climate sensor reads all four metrics this often. */
    climate_interval_s: seconds,
    /** Each WeighVision station weighs one animal this often. */
    session_interval_s: seconds,
    /** Each feed dispenser dispenses this often (the day's ration split evenly). */
    feed_interval_s: seconds,
    /** Each mortality counter reports the day's running count this often. */
    mortality_interval_s: seconds,
  })
  .strict();

const flock = z
  .object({
    /** Derived from farm, barn and placement day when left out. */
    flock_id: z.uuid().optional(),
    breed: z.enum(breedNames as [string, ...string[]]),
    head_count: z.number().int().min(1).max(1_000_000),
    age_at_placement_days: z.number().int().min(0).max(3650),
    /** The placement day; or `placed_days_ago`, resolved once when the farm is provisioned. */
    placed_on: farmDay.optional(),
    placed_days_ago: z.number().int().min(0).max(3650).optional(),
  })
  .strict()
  .refine((f) => (f.placed_on === undefined) !== (f.placed_days_ago === undefined), 'give exactly one of placed_on and placed_days_ago');

/**
 * What a climate excursion does (simulator/models/excursion.ts): one metric of a barn moved by
 * `add` or to `to` (ramping in over `ramp_seconds`), or, with `sensor_silent`, the barn's climate
 * sensors publishing nothing; for `minutes`. The excursions file and the description share it.
 */
export const excursionFields = {
  barn_id: topicSegment,
  metric: z.enum(climateMetrics as [ClimateMetric, ...ClimateMetric[]]).optional(),
  add: z.number().min(-100_000).max(100_000).optional(),
  to: z.number().min(-100_000).max(100_000).optional(),
  ramp_seconds: z.number().int().min(0).max(86_400).optional(),
  sensor_silent: z.literal(true).optional(),
  minutes: z
    .number()
    .positive()
    .max(7 * 24 * 60),
};

type ExcursionFields = { metric?: ClimateMetric; add?: number; to?: number; ramp_seconds?: number; sensor_silent?: true };

/** Either a metric with exactly one of add and to, or sensor_silent alone. */
export function checkExcursion(e: ExcursionFields, ctx: z.RefinementCtx): void {
  const issue = (message: string, path: string) => ctx.addIssue({ code: 'custom', path: [path], message });
  if (e.sensor_silent) {
    for (const f of ['metric', 'add', 'to', 'ramp_seconds'] as const) if (e[f] !== undefined) issue('a sensor_silent excursion takes no ' + f, f);
    return;
  }
  if (e.metric === undefined) return issue(`give a metric (${climateMetrics.join(', ')}) or sensor_silent`, 'metric');
  if ((e.add === undefined) === (e.to === undefined)) return issue('give exactly one of add and to', 'add');
  const [lo, hi] = physical[e.metric];
  if (e.to !== undefined && (e.to < lo || e.to > hi)) issue(`${e.metric} ${e.to} is beyond what a sensor reads (${lo} to ${hi})`, 'to');
}

/** An excursion a description declares, starting `starts_after_s` after a live run starts. */
const declaredExcursion = z
  .object({
    ...excursionFields,
    starts_after_s: z
      .number()
      .int()
      .min(0)
      .max(7 * 86_400)
      .default(0),
  })
  .strict()
  .superRefine(checkExcursion);

const barn = z
  .object({
    barn_id: topicSegment,
    /** What people call the barn (the cloud directory's name); the id when left out. */
    name: z.string().min(1).max(200).optional(),
    flock,
    climate_sensors: devices,
    weighvision_stations: devices,
    feed_dispensers: devices,
    mortality_counters: devices,
  })
  .strict();

export const farmDescriptionSchema = z
  .object({
    tenant_id: z.uuid(),
    farm_id: topicSegment,
    /**
     * The farm's IANA time zone: its daily climate cycle peaks at 15:00 local and its counts are
     * for local days. Set the farm server's EDGE_FARM_TIME_ZONE to the same.
     */
    time_zone: z.string().default('UTC').refine(isTimeZone, 'must be an IANA time zone such as Asia/Bangkok'),
    barns: z.array(barn).min(1).max(50),
    live: cadence,
    backfill: cadence,
    faults: z
      .object({
        /** A reading slot that sends nothing. */
        dropout: share,
        /** A reading slot that sends a broken reading (out of range, wrong unit or malformed). */
        broken: share,
      })
      .strict(),
    weighing: z
      .object({
        readings_min: z.number().int().min(1).max(50),
        readings_max: z.number().int().min(1).max(50),
        images: z.number().int().min(0).max(10),
        two_animals: share,
        half_on: share,
      })
      .strict()
      .refine((w) => w.readings_min <= w.readings_max, 'readings_min must not exceed readings_max'),
    /** Climate excursions of every live run (a backfill plays none); `farmiq simulator excursion add` adds more while one runs. */
    excursions: z.array(declaredExcursion).max(100).default([]),
  })
  .strict()
  .superRefine((farm, ctx) => {
    const seen = new Set<string>();
    farm.barns.forEach((b, i) => {
      if (seen.has(b.barn_id)) ctx.addIssue({ code: 'custom', path: ['barns', i, 'barn_id'], message: `barn ${b.barn_id} appears twice` });
      seen.add(b.barn_id);
      const ids = [...b.climate_sensors, ...b.weighvision_stations, ...b.feed_dispensers, ...b.mortality_counters];
      const dup = ids.find((d, j) => ids.indexOf(d) !== j);
      if (dup) ctx.addIssue({ code: 'custom', path: ['barns', i], message: `device ${dup} appears twice in barn ${b.barn_id}` });
    });
    farm.excursions.forEach((e, i) => {
      if (!seen.has(e.barn_id)) ctx.addIssue({ code: 'custom', path: ['excursions', i, 'barn_id'], message: `no barn ${e.barn_id} in the farm` });
    });
  });

export type FarmDescription = z.infer<typeof farmDescriptionSchema>;
export type BarnDescription = FarmDescription['barns'][number];
export type Cadence = FarmDescription['live'];
export type DeclaredExcursion = FarmDescription['excursions'][number];

/** Parses a description; the error names the file and each offending path. */
export function parseFarmDescription(json: unknown, source = 'farm description'): FarmDescription {
  const r = farmDescriptionSchema.safeParse(json);
  if (!r.success) {
    throw new Error(`${source} is not valid: ${r.error.issues.map((i) => `${i.path.join('.') || '$'}: ${i.message}`).join('; ')}`);
  }
  return r.data;
}

export function loadFarmDescription(file: string): FarmDescription {
  let json: unknown;
  try {
    json = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw new Error(`cannot read the farm description ${file}: ${(err as Error).message}`, { cause: err });
  }
  return parseFarmDescription(json, file);
}
