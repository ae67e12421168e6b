/**
 * The climate judgement as the insights see it: scenarios through the feature summary the insight
 * workflow hands to the template writer and the LLM (insights/kpis/summary.ts buildFeatureSummary,
 * checked by parseFeatureSummary), not only through domain/climate. Each expected anomaly is worked
 * by hand in the comments from the rules of domain/climate (docs/insights.md, "Climate judgement").
 *
 * The barn: 20,000 broilers placed 2026-03-20 at day old, so 42 days old on 05-01 and past day 29
 * all along: band 18–22 °C, set-point flat (no ramp). A normal day is 20 °C, 21.5 °C in the warm
 * hours 12–17 UTC; humidity 60 %, CO2 1,500 ppm, NH3 8 ppm. The window is 05-01 00:00 … 05-08 00:00
 * UTC (7 days); the 7 days before it are the barn's own baseline. Feed 4,000 + 20·d kg on day
 * d = 0 … 13 from 04-24 (about 0.2 kg per bird and day, right for a 6-week broiler).
 */
import { normaliseReading } from '../../domain/contracts/units';
import { parseFeatureSummary, type Anomaly, type FeatureSummary } from '../../insights/feature-summary';
import { addDays } from '../../domain/calendar/days';
import type { BarnHour } from '../../insights/kpis/climate';
import { buildFeatureSummary, type BarnAggregates, type SummaryInputs } from '../../insights/kpis/summary';
import { checkInsightNumbers } from '../../insights/llm/number-check';
import { writeTemplateInsight } from '../../insights/llm/template-writer';

const hourMs = 3_600_000;
const baselineStart = Date.parse('2026-04-24T00:00:00.000Z');
const windowStart = Date.parse('2026-05-01T00:00:00.000Z');
const window = { from: '2026-05-01T00:00:00.000Z', to: '2026-05-08T00:00:00.000Z' };
const at = (isoHour: string) => Date.parse(isoHour);

/** 14 days of hours from 04-24 (7 of baseline, 7 of window); `value(ms)` per hour start. */
function barnHours(value: (ms: number) => number, from = baselineStart, count = 14 * 24): BarnHour[] {
  return Array.from({ length: count }, (_, i) => {
    const ms = from + i * hourMs;
    const hour = new Date(ms).toISOString();
    const mean = value(ms);
    return { hour, localDay: hour.slice(0, 10), mean, min: mean, max: mean, readingCount: 60 };
  });
}

const hourOfDay = (ms: number) => new Date(ms).getUTCHours();
const normalTemperature = (ms: number) => (hourOfDay(ms) >= 12 && hourOfDay(ms) <= 17 ? 21.5 : 20);
const during = (fromIso: string, toIso: string) => (ms: number) => ms >= at(fromIso) && ms < at(toIso);

/** Feed of day d = 0 … 13 from 04-24: 4,000 + 20·d kg. */
const feedOf = (d: number) => 4000 + 20 * d;
const feedDays = (kg: (d: number) => number | null) =>
  Array.from({ length: 14 }, (_, d) => ({ day: addDays('2026-04-24', d), kg: kg(d) })).filter((f): f is { day: string; kg: number } => f.kg !== null);

function barn(id: string, overrides: Partial<BarnAggregates> = {}, feed: (d: number) => number | null = feedOf): BarnAggregates {
  const days = feedDays(feed);
  return {
    barnId: id,
    name: `House ${id}`,
    animalCount: 20_000,
    placedAt: '2026-03-20',
    ageAtPlacementDays: 0,
    temperatureHours: barnHours(normalTemperature),
    humidityHours: barnHours(() => 60),
    co2Hours: barnHours(() => 1500),
    nh3Hours: barnHours(() => 8),
    dailyFeed: days.filter((d) => d.day >= '2026-05-01'),
    feedBeforeWindow: days.filter((d) => d.day < '2026-05-01'),
    feedEvents: 28,
    dailyWeights: [],
    lastDayWeightsKg: [],
    stations: [],
    ...overrides,
  };
}

function inputs(barns: BarnAggregates[], farm: Partial<SummaryInputs['farm']> = {}): SummaryInputs {
  return {
    farm: { farmId: 'farm-c', name: 'Climate farm', species: 'broiler', timezone: 'UTC', comfortMinC: null, comfortMaxC: null, ...farm },
    barnId: null,
    window,
    localDays: { from: '2026-05-01', to: '2026-05-07' },
    forecastDate: '2026-05-14',
    targetWeightKg: null,
    barns,
  };
}

/** The summary as the workflow gets it: built, then parsed strictly. */
function summarise(input: SummaryInputs): FeatureSummary {
  const summary = parseFeatureSummary(buildFeatureSummary(input));
  // Whatever the findings, the template writer quotes only the summary's numbers.
  expect(checkInsightNumbers(writeTemplateInsight(summary), summary).ok).toBe(true);
  return summary;
}

type Finding = Extract<Anomaly, { kind: 'climate_finding' }>;
function finding(f: Omit<Finding, 'kind' | 'barn_id' | 'baseline' | 'status'> & Partial<Pick<Finding, 'barn_id' | 'baseline' | 'status'>>): Finding {
  return { kind: 'climate_finding', barn_id: 'barn-1', baseline: null, status: 'guidance', ...f };
}

it('a normal week in a normal barn has no anomaly, and the KPIs count only the window’s hours', () => {
  const s = summarise(inputs([barn('barn-1')]));
  expect(s.anomalies).toEqual([]);
  // 336 hours were given, 168 of them in the window: mean (18 · 20 + 6 · 21.5) / 24 = 489 / 24 = 20.375 → 20.38
  expect(s.barns[0].climate.temperature_c).toEqual({ mean: 20.38, min: 20, max: 21.5, hours: 168, readings: 168 * 60 });
  expect(s.barns[0].climate.co2_ppm).toEqual({ mean: 1500, min: 1500, max: 1500, hours: 168, readings: 168 * 60 });
  expect(s.data_quality).toMatchObject({ expected_barn_hours: 168, temperature_barn_hours: 168, humidity_barn_hours: 168, climate_coverage_pct: 100 });
  expect(s.barns[0].climate.comfort).toMatchObject({ band_source: 'species_age_table', hours_outside: 0, band_at_start: { min_c: 18, max_c: 22 } });
});

it('flags a 48-hour +3 °C heat wave as a sustained shift, and its afternoons above the band', () => {
  // +3 °C from 05-03 12:00 to 05-05 12:00. Baseline of an hour = median of the same hour on the 7
  // days before: at most 2 of them are heat days, so it stays the normal value; every heat hour
  // deviates by +3 (spread: the 0.5 °C floor; 3 < the 4 °C spike size: no spike). The 24-hour mean of
  // the deviations reaches 2 after 16 heat hours and 3 once 24 are heat; the hours carrying the shift
  // (≥ 1 °C) are the 48 heat hours. Its baseline is that of the first all-heat 24 hours' last hour,
  // 05-04 11:00: 20 °C.
  // Band 18–22 (+1 °C margin = 23): nights 20 + 3 = 23 is not above 23; the afternoons 12–17 at
  // 21.5 + 3 = 24.5 are, 6 hours in a row (≥ 3) on 05-03 and 05-04.
  const heat = during('2026-05-03T12:00:00Z', '2026-05-05T12:00:00Z');
  const s = summarise(inputs([barn('barn-1', { temperatureHours: barnHours((ms) => normalTemperature(ms) + (heat(ms) ? 3 : 0)) })]));
  const aboveBand = (day: string) =>
    finding({
      code: 'above_band',
      metric: 'temperature',
      from: `${day}T12:00:00.000Z`,
      to: `${day}T18:00:00.000Z`,
      duration: 6,
      value: 24.5,
      threshold: 23,
      unit: 'C',
      source: 'band_species_age_table',
    });
  // Sorted by start, metric, code: at 05-03 12:00 'above_band' before 'sustained_shift'.
  expect(s.anomalies).toEqual([
    aboveBand('2026-05-03'),
    finding({
      code: 'sustained_shift',
      metric: 'temperature',
      from: '2026-05-03T12:00:00.000Z',
      to: '2026-05-05T12:00:00.000Z',
      duration: 48,
      value: 3,
      threshold: 2,
      unit: 'C',
      baseline: 20,
      source: 'farmiq_profile_sustained_shift',
    }),
    aboveBand('2026-05-04'),
  ]);
  // The comfort KPI counts every hour above 22 °C, without the finding's margin: all 48 heat hours
  // (nights at 23, afternoons at 24.5).
  expect(s.barns[0].climate.comfort).toMatchObject({ hours_above: 48, hours_below: 0 });
});

it('flags a 4-hour +5 °C spike (and, being above the band, a band finding), not a shift', () => {
  // 05-06 02:00–06:00 at 20 + 5 = 25 °C. Deviation +5 ≥ max(4 °C, 3.5 · 0.5 °C = 1.75) → spike,
  // baseline 20. 25 > 23 for 4 hours (≥ 3) → above_band. Largest 24-hour mean 4 · 5 / 24 = 0.83 < 2 →
  // no shift.
  const spike = during('2026-05-06T02:00:00Z', '2026-05-06T06:00:00Z');
  const s = summarise(inputs([barn('barn-1', { temperatureHours: barnHours((ms) => normalTemperature(ms) + (spike(ms) ? 5 : 0)) })]));
  const span = { metric: 'temperature' as const, from: '2026-05-06T02:00:00.000Z', to: '2026-05-06T06:00:00.000Z', duration: 4, value: 25, unit: 'C' };
  expect(s.anomalies).toEqual([
    finding({ code: 'above_band', ...span, threshold: 23, source: 'band_species_age_table' }),
    finding({ code: 'spike', ...span, value: 5, threshold: 4, baseline: 20, source: 'farmiq_profile_spike' }),
  ]);
});

it('flags a day without any feed as an outage', () => {
  // No feed record on 05-04 (d = 10). The window's days 05-01 … 05-07 are all complete and after
  // placement: all expected. The 7 fed days before it are d = 3 … 9 (4,060 … 4,180 kg): median
  // 4,120. On 05-05 the last 7 fed days are still d = 3 … 9 (an empty day is not fed), 4,220 kg is
  // far above 75 % of 4,120: nothing more.
  const s = summarise(inputs([barn('barn-1', {}, (d) => (d === 10 ? null : feedOf(d)))]));
  expect(s.anomalies).toEqual([
    finding({
      code: 'feed_outage',
      metric: 'feed',
      from: '2026-05-04',
      to: '2026-05-05',
      duration: 1,
      value: 0,
      threshold: 0,
      unit: 'kg/day',
      baseline: 4120,
      source: 'farmiq_feed_outage_day',
    }),
  ]);
  // Total feed of the window: Σ_{d=7..13} (4,000 + 20d) − 4,200 (d = 10) = 28,000 + 20 · 70 − 4,200 = 25,200 kg
  expect(s.barns[0].feed.total_kg).toBe(25_200);
});

it('flags a sharp 30–40 % feed drop over two days as one finding', () => {
  // 05-05 (d = 11): 4,220 kg − 30 % = 2,954 kg; 05-06 (d = 12): 4,240 kg − 40 % = 2,544 kg.
  // 05-05: previous 7 fed days d = 4 … 10 = 4,080 … 4,200, median 4,140; 75 % = 3,105 > 2,954 → drop.
  // 05-06: previous 7 fed days d = 5 … 11 = 4,100 … 4,200 and 2,954, median still 4,140 → 2,544 < 3,105.
  // Consecutive days make one finding: the worst day's kg (2,544), its threshold and baseline.
  // 05-07 (d = 13, 4,260 kg): previous 7 are d = 6 … 12, median 4,160, 75 % = 3,120: no drop.
  const s = summarise(inputs([barn('barn-1', {}, (d) => (d === 11 ? 2954 : d === 12 ? 2544 : feedOf(d)))]));
  expect(s.anomalies).toEqual([
    finding({
      code: 'feed_drop',
      metric: 'feed',
      from: '2026-05-05',
      to: '2026-05-07',
      duration: 2,
      value: 2544,
      threshold: 3105,
      unit: 'kg/day',
      baseline: 4140,
      source: 'farmiq_feed_drop',
    }),
  ]);
});

it('flags a barn held at 30 °C at day 35 against the band for its age', () => {
  // Placed 03-27 at day old: 35 days old on 05-01, band 18–22 °C (age ≥ 29), +1 °C margin = 23.
  // The barn has been at 30 °C for two weeks: its own profile sees nothing new (deviation 0 after
  // the set-point ramp, which is flat from day 29 and falls 0.29 °C a day at 28), the window
  // z-score saw a constant (MAD 0: nothing) — only the band catches it, every window hour.
  const s = summarise(inputs([barn('barn-1', { placedAt: '2026-03-27', temperatureHours: barnHours(() => 30) })]));
  expect(s.anomalies).toEqual([
    finding({
      code: 'above_band',
      metric: 'temperature',
      from: '2026-05-01T00:00:00.000Z',
      to: '2026-05-08T00:00:00.000Z',
      duration: 168,
      value: 30,
      threshold: 23,
      unit: 'C',
      source: 'band_species_age_table',
    }),
  ]);
  expect(s.barns[0].climate.comfort).toMatchObject({ hours_evaluated: 168, hours_above: 168, share_outside_pct: 100 });
});

it('flags NH3 and CO2 above the 2007/43/EC limits, and humidity outside its limits', () => {
  // barn-1: NH3 25 ppm on 05-02 06:00–09:00 (> 20 ppm, Annex II 3(a), law): above_limit, 3 hours.
  //   Against its own profile (8 ppm) that is +17 ≥ max(8 ppm, 3.5 · 2 ppm floor = 7) → also a spike.
  //   CO2 3,400 ppm on 05-03 02:00–05:00 (> 3,000 ppm, 3(a)): above_limit, 3 hours; +1,900 ≥
  //   max(1,000, 3.5 · 150 = 525) → spike. Neither reaches a shift (3 · 17 / 24 = 2.1 < 5 ppm;
  //   3 · 1,900 / 24 = 238 < 500 ppm).
  // barn-2: humidity 84 % from 05-05 00:00 (60 % before). No outside sensor, so 3(c)'s 70 % is
  //   applied as guidance to the 48-hour mean: (84n + 60(48 − n)) / 48 > 70 ⟺ 24n > 480 ⟺ n ≥ 21
  //   hours of 84 %, i.e. from 05-05 20:00 to the window's end: 4 + 48 = 52 hours; the worst mean
  //   is 84 (48 hours all at 84). Own profile: +24 every hour, the 24-hour mean ≥ 10 → a sustained
  //   shift over the 72 hours of 84 %, baseline 60. Each of those hours is also beyond the spike
  //   size (24 ≥ max(15, 3.5 · 3)), but a 72-hour run inside the shift is the shift: no spike.
  // barn-3: humidity 35 % all along: the 48-hour mean is below 40 % (FarmIQ floor, guidance) in every
  //   window hour (the baseline week supplies the first 48 hours): 168 hours, worst 35.
  const nh3 = during('2026-05-02T06:00:00Z', '2026-05-02T09:00:00Z');
  const co2 = during('2026-05-03T02:00:00Z', '2026-05-03T05:00:00Z');
  const wet = (ms: number) => ms >= at('2026-05-05T00:00:00Z');
  const s = summarise(
    inputs([
      barn('barn-1', { nh3Hours: barnHours((ms) => (nh3(ms) ? 25 : 8)), co2Hours: barnHours((ms) => (co2(ms) ? 3400 : 1500)) }),
      barn('barn-2', { humidityHours: barnHours((ms) => (wet(ms) ? 84 : 60)) }),
      barn('barn-3', { humidityHours: barnHours(() => 35) }),
    ]),
  );
  const nh3Span = { metric: 'nh3' as const, from: '2026-05-02T06:00:00.000Z', to: '2026-05-02T09:00:00.000Z', duration: 3, unit: 'ppm' };
  const co2Span = { metric: 'co2' as const, from: '2026-05-03T02:00:00.000Z', to: '2026-05-03T05:00:00.000Z', duration: 3, unit: 'ppm' };
  expect(s.anomalies).toEqual([
    finding({ code: 'above_limit', ...nh3Span, value: 25, threshold: 20, source: 'eu_2007_43_annex_ii_3a_nh3', status: 'law' }),
    finding({ code: 'spike', ...nh3Span, value: 17, threshold: 8, baseline: 8, source: 'farmiq_profile_spike' }),
    finding({ code: 'above_limit', ...co2Span, value: 3400, threshold: 3000, source: 'eu_2007_43_annex_ii_3a_co2', status: 'law' }),
    finding({ code: 'spike', ...co2Span, value: 1900, threshold: 1000, baseline: 1500, source: 'farmiq_profile_spike' }),
    finding({
      barn_id: 'barn-2',
      code: 'sustained_shift',
      metric: 'humidity',
      from: '2026-05-05T00:00:00.000Z',
      to: '2026-05-08T00:00:00.000Z',
      duration: 72,
      value: 24,
      threshold: 10,
      unit: '%',
      baseline: 60,
      source: 'farmiq_profile_sustained_shift',
    }),
    finding({
      barn_id: 'barn-2',
      code: 'above_limit',
      metric: 'humidity',
      from: '2026-05-05T20:00:00.000Z',
      to: '2026-05-08T00:00:00.000Z',
      duration: 52,
      value: 84,
      threshold: 70,
      unit: '%',
      source: 'eu_2007_43_annex_ii_3c_no_outside',
    }),
    finding({
      barn_id: 'barn-3',
      code: 'below_limit',
      metric: 'humidity',
      from: '2026-05-01T00:00:00.000Z',
      to: '2026-05-08T00:00:00.000Z',
      duration: 168,
      value: 35,
      threshold: 40,
      unit: '%',
      source: 'farmiq_broiler_humidity_min',
    }),
  ]);
  expect(s.farm.anomalies).toBe(7);
});

it('does not flag a harmless 1 °C blip in a tightly controlled barn (the window z-score did)', () => {
  // Held at 20 ± 0.05 °C (alternating hours), one hour at +1 °C on 05-04 10:00. Baseline days agree
  // within 0.05: 1.4826 · MAD = 0.074 < the 0.5 °C floor; the blip deviates ~1 °C: below the 4 °C
  // spike size; its 24-hour mean ~1/24 °C; 21 °C is inside the band. Nothing is flagged.
  // The removed window z-score: median 20, MAD 0.05, z = 0.6745 · 1 / 0.05 ≈ 13.5 > 3.5 — flagged.
  const blip = during('2026-05-04T10:00:00Z', '2026-05-04T11:00:00Z');
  const tight = (ms: number) => 20 + (((ms - baselineStart) / hourMs) % 2 === 0 ? 0.05 : -0.05) + (blip(ms) ? 1 : 0);
  const s = summarise(inputs([barn('barn-1', { temperatureHours: barnHours(tight) })]));
  expect(s.anomalies).toEqual([]);
});

it('judges a °F sensor on its °C value once ingest has converted it, beside a °C sensor', () => {
  // Two sensors per hour in one barn, 60 readings each: a °C one reading the normal day, a °F one
  // reading 1 °C warmer in °F (20 °C → 69.8 °F; 21.5 °C → 73.7 °F). Ingest (domain/contracts/units.ts)
  // stores (69.8 − 32) · 5/9 = 21 and (73.7 − 32) · 5/9 = 23.1666… → 23.166666667 (rounded to 1e-9);
  // the database combines the two per hour, reading-weighted: (20 + 21) / 2 = 20.5 by night,
  // (21.5 + 23.166666667) / 2 = 22.333333333 in the afternoon — inside the band + margin (23), no
  // change against the barn's own profile: no anomaly.
  // Had °F been averaged as sent: (20 + 69.8) / 2 = 44.9 °C — a "heat wave" in every hour.
  const fahrenheit = (c: number) => (c === 20 ? 69.8 : 73.7);
  const stored = (c: number) => {
    const n = normaliseReading({ metric: 'temperature', value: fahrenheit(c), unit: '°F' });
    if (!n.ok) throw new Error('°F is accepted');
    expect(n).toMatchObject({ unit: 'C', converted: true });
    return n.value;
  };
  expect(stored(20)).toBe(21);
  expect(stored(21.5)).toBe(23.166666667);
  const combined = barnHours((ms) => (normalTemperature(ms) + stored(normalTemperature(ms))) / 2).map((h) => ({ ...h, readingCount: 120 }));
  const s = summarise(inputs([barn('barn-1', { temperatureHours: combined })]));
  expect(s.anomalies).toEqual([]);
  // Window mean: (18 · 20.5 + 6 · 22.333333333) / 24 = (369 + 134) / 24 = 20.958333 → 20.96; max 22.33
  expect(s.barns[0].climate.temperature_c).toEqual({ mean: 20.96, min: 20.5, max: 22.33, hours: 168, readings: 168 * 120 });
  // A temperature in a unit the metric does not take never reaches a rollup: refused at ingest.
  expect(normaliseReading({ metric: 'temperature', value: 20, unit: 'ppm' })).toMatchObject({ ok: false, reason: 'unit_not_accepted' });
});

it('uses one band per barn and flock age: the farm band only for a barn without a placement', () => {
  // Farm band 18–22 °C. barn-1 has no barns.placed_at, but a flock placed 04-29 06:00 at day old: on
  // 05-01 … 05-02 it is 2–3 days old, band 30–34 °C, and 32 °C is right (the farm band would call it
  // 9 °C too warm). barn-2 has no placement at all: the farm band applies; 24 °C > 22 + 1 for all
  // 48 hours → above_band from the farm band. Neither has feed records: no feed is judged.
  const twoDays = { from: '2026-05-01T00:00:00.000Z', to: '2026-05-03T00:00:00.000Z' };
  const young = barn('barn-1', {
    placedAt: null,
    temperatureHours: barnHours(() => 32, windowStart, 48),
    humidityHours: [],
    co2Hours: [],
    nh3Hours: [],
    dailyFeed: [],
    feedBeforeWindow: [],
    flock: {
      flock: {
        flockId: 'flock-young',
        placedAt: '2026-04-29T06:00:00Z',
        headPlaced: 20_000,
        ageAtPlacementDays: 0,
        species: 'broiler',
        breed: 'Ross 308',
        depopulatedAt: null,
      },
      losses: [],
      feedSincePlacement: [],
      weighings: [],
    },
  });
  const unplaced = barn('barn-2', {
    placedAt: null,
    temperatureHours: barnHours(() => 24, windowStart, 48),
    humidityHours: [],
    co2Hours: [],
    nh3Hours: [],
    dailyFeed: [],
    feedBeforeWindow: [],
  });
  const s = summarise({
    ...inputs([young, unplaced], { comfortMinC: 18, comfortMaxC: 22 }),
    window: twoDays,
    localDays: { from: '2026-05-01', to: '2026-05-02' },
  });
  expect(s.anomalies).toEqual([
    finding({
      barn_id: 'barn-2',
      code: 'above_band',
      metric: 'temperature',
      from: '2026-05-01T00:00:00.000Z',
      to: '2026-05-03T00:00:00.000Z',
      duration: 48,
      value: 24,
      threshold: 23,
      unit: 'C',
      source: 'band_farm',
    }),
  ]);
  expect(s.barns[0].climate.comfort).toMatchObject({ band_source: 'species_age_table', hours_outside: 0, band_at_start: { min_c: 30, max_c: 34 } });
  expect(s.barns[1].climate.comfort).toMatchObject({ band_source: 'farm', hours_above: 48, band_at_start: { min_c: 18, max_c: 22 } });
});

it('reports at most 8 findings of a barn, limits first, and says how many were left out', () => {
  // NH3 at 25 ppm for one hour every window day at 06:00 and CO2 at 3,400 ppm every day at 02:00:
  // 7 + 7 separate one-hour runs above their limits, 14 above_limit findings. Against the barn's own
  // profile, the same hour on window day k has k high and 7 − k normal days before it: the median is
  // the normal value while 7 − k ≥ 4 (k ≤ 3), so 05-01 … 05-04 are also spikes (+17 ≥ 8 ppm,
  // +1,900 ≥ 1,000 ppm), 4 per gas; from 05-05 the baseline is the high value itself. 14 + 8 = 22
  // findings. The 8 reported: limits first (priority 0), the longest (all 1 hour), then the earliest:
  // CO2 05-01 02h, NH3 05-01 06h, … NH3 05-04 06h.
  const daily = (hour: number) => (ms: number) => ms >= windowStart && hourOfDay(ms) === hour;
  const s = summarise(
    inputs([barn('barn-1', { nh3Hours: barnHours((ms) => (daily(6)(ms) ? 25 : 8)), co2Hours: barnHours((ms) => (daily(2)(ms) ? 3400 : 1500)) })]),
  );
  const reported = s.anomalies as Finding[];
  expect(reported.map((a) => [a.code, a.metric, a.from])).toEqual(
    ['01', '02', '03', '04'].flatMap((d) => [
      ['above_limit', 'co2', `2026-05-${d}T02:00:00.000Z`],
      ['above_limit', 'nh3', `2026-05-${d}T06:00:00.000Z`],
    ]),
  );
  expect(s.barns[0].climate.findings_omitted).toBe(22 - 8);
});
