/**
 * The farm description file the simulator plays (demo/farm.json; docs/simulator.md): one farm of
 * a tenant, its barns, each barn's flock and devices, the cadences of a live run and of a
 * backfill, and how often devices misbehave. Validated here, so a typo fails with its path.
 */
import fs from 'node:fs';
import { z } from 'zod';
import { isTimeZone } from '../domain/calendar/local-clock';
import { topicSegment } from '../domain/contracts/envelope';
import { farmDay } from '../domain/contracts/flock-payloads';
import { breedNames } from './models/breeds';

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
  });

export type FarmDescription = z.infer<typeof farmDescriptionSchema>;
export type BarnDescription = FarmDescription['barns'][number];
export type Cadence = FarmDescription['live'];

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
