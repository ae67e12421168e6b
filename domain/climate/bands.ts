/**
 * The temperature comfort band of the animals in a barn, by species and age, and the overrides a
 * flock or a barn may carry (docs/insights.md, "Climate judgement", has the tables and sources).
 *
 * Broilers: room (whole-house) temperature at bird level from about 32 °C at placement falling to
 * about 20 °C from day 29 — FarmIQ defaults rounded from the whole-house brooding temperatures of the
 * Aviagen Ross Broiler Management Handbook (2018), ±2 °C around the target.
 *
 * Pigs: room temperature by production stage, indexed by the pigs' age. Days 0–27 is the farrowing
 * room, kept for the sow (about 18–22 °C; a little warmer in the first days after farrowing) while
 * the suckling piglets lie in a heated creep area of about 30 °C that a room sensor does not measure
 * — so the room is judged against the sow's band, never the creep's. Then weaners (28–69 d), growers
 * (70–119 d) and finishers (120 d on). FarmIQ defaults within commonly published thermoneutral ranges
 * for housed pigs; guidance, not law (Directive 2008/120/EC sets no temperature).
 */

export interface ComfortBand {
  minC: number;
  maxC: number;
}

export interface ComfortBandRow extends ComfortBand {
  /** First age (days) the row applies to; the row holds until the next row's fromAgeDays. */
  fromAgeDays: number;
  /** The production stage the row stands for (pigs). */
  stage?: string;
}

export const broilerComfortBands: readonly ComfortBandRow[] = [
  { fromAgeDays: 0, minC: 30, maxC: 34 },
  { fromAgeDays: 4, minC: 28, maxC: 32 },
  { fromAgeDays: 8, minC: 25, maxC: 29 },
  { fromAgeDays: 15, minC: 22, maxC: 26 },
  { fromAgeDays: 22, minC: 20, maxC: 24 },
  { fromAgeDays: 29, minC: 18, maxC: 22 },
];

export const pigComfortBands: readonly ComfortBandRow[] = [
  { fromAgeDays: 0, minC: 18, maxC: 24, stage: 'farrowing_room' },
  { fromAgeDays: 28, minC: 24, maxC: 28, stage: 'weaner' },
  { fromAgeDays: 42, minC: 21, maxC: 26, stage: 'weaner' },
  { fromAgeDays: 70, minC: 17, maxC: 22, stage: 'grower' },
  { fromAgeDays: 120, minC: 15, maxC: 21, stage: 'finisher' },
];

export const comfortBandTables: Readonly<Record<'broiler' | 'swine', readonly ComfortBandRow[]>> = {
  broiler: broilerComfortBands,
  swine: pigComfortBands,
};

export function comfortBandTable(species: string): readonly ComfortBandRow[] | null {
  return species === 'broiler' || species === 'swine' ? comfortBandTables[species] : null;
}

/** The table row for an age; null without an age or before the first row. */
export function bandRowAt(rows: readonly ComfortBandRow[], ageDays: number | null): ComfortBandRow | null {
  if (ageDays === null || ageDays < 0) return null;
  let row: ComfortBandRow | null = null;
  for (const r of rows) if (r.fromAgeDays <= ageDays) row = r;
  return row;
}

/**
 * Where a band comes from, most specific first: the flock's own band (set at placement), the
 * barn's (a house with its own ventilation or heating set-up), the species table for the animals'
 * age, and only when the age is unknown, the farm's default. No single band overrides every age
 * and every barn any more.
 */
export type BandSource = 'flock' | 'barn' | 'species_age_table' | 'farm';

export interface BandChoices {
  table: readonly ComfortBandRow[] | null;
  ageDays: number | null;
  flock?: ComfortBand | null;
  barn?: ComfortBand | null;
  farm?: ComfortBand | null;
}

export interface ResolvedBand extends ComfortBand {
  source: BandSource;
  stage?: string;
}

export function resolveBand(choices: BandChoices): ResolvedBand | null {
  if (choices.flock) return { minC: choices.flock.minC, maxC: choices.flock.maxC, source: 'flock' };
  if (choices.barn) return { minC: choices.barn.minC, maxC: choices.barn.maxC, source: 'barn' };
  const row = choices.table ? bandRowAt(choices.table, choices.ageDays) : null;
  if (row) return { minC: row.minC, maxC: row.maxC, source: 'species_age_table', ...(row.stage ? { stage: row.stage } : {}) };
  if (choices.farm && choices.ageDays === null) return { minC: choices.farm.minC, maxC: choices.farm.maxC, source: 'farm' };
  return null;
}

/**
 * The temperature the barn is expected to follow at a (fractional) age: the band midpoints placed
 * at each row's first age, joined by straight lines (controllers ramp the set-point down as the
 * animals grow; the table's steps are a rounding of that ramp). Between rows of different pig
 * stages it stays flat: the pigs move to another room, this room does not warm up. Constant after
 * the last row.
 */
export function expectedTemperatureAt(rows: readonly ComfortBandRow[], ageDays: number): number | null {
  if (rows.length === 0 || ageDays < rows[0].fromAgeDays) return null;
  const mid = (r: ComfortBandRow) => (r.minC + r.maxC) / 2;
  for (let i = 0; i < rows.length - 1; i++) {
    const a = rows[i];
    const b = rows[i + 1];
    if (ageDays >= b.fromAgeDays) continue;
    if (a.stage !== b.stage) return mid(a);
    return mid(a) + ((mid(b) - mid(a)) * (ageDays - a.fromAgeDays)) / (b.fromAgeDays - a.fromAgeDays);
  }
  return mid(rows[rows.length - 1]);
}
