/**
 * Scenario tests for the climate judgement (domain/climate), shared by the insights and the
 * alarms. Each scenario is a barn a farm manager would recognise; the expected findings are worked
 * out by hand in the comments from the rules in domain/climate (profile.ts, limits.ts, bands.ts,
 * feed.ts).
 */
import { broilerComfortBands, expectedTemperatureAt, pigComfortBands, resolveBand } from '../../domain/climate/bands';
import { feedFindings, feedGaps } from '../../domain/climate/feed';
import { judgeClimate, type ClimateSeries } from '../../domain/climate/judge';
import type { HourValue } from '../../domain/climate/metrics';
import { barnClimateFindings, climateFindingAnomaly, expectedFeedDays } from '../../insights/kpis/anomalies';
import type { BarnHour } from '../../insights/kpis/climate';
import { buildFeatureSummary } from '../../insights/kpis/summary';
import { sampleInputs } from './fixtures';

const hourMs = 3_600_000;
/** The window judged in the profile scenarios starts after 7 days of baseline history. */
const historyStart = Date.parse('2026-05-01T00:00:00.000Z');
const windowStart = historyStart + 7 * 24 * hourMs; // 2026-05-08T00:00Z
const iso = (ms: number) => new Date(ms).toISOString();

/** `count` hours from `start`, value f(i) for the i-th hour. */
function hours(start: number, count: number, f: (i: number) => number): HourValue[] {
  return Array.from({ length: count }, (_, i) => ({ hour: iso(start + i * hourMs), value: f(i) }));
}

/** A finishing-pig barn's normal day: 20 °C, 22 °C in the warm afternoon hours 12–17 (UTC). */
const normalDay = (i: number) => (i % 24 >= 12 && i % 24 <= 17 ? 22 : 20);

function temperature(values: HourValue[], unit = 'C'): ClimateSeries {
  return { metric: 'temperature', unit, hours: values };
}

/** 7 days of history and a 3-day window (240 hours), `extra(i)` added to window hour i. */
function barnWithWindow(extra: (windowHour: number) => number): ClimateSeries {
  return temperature(hours(historyStart, 240, (i) => normalDay(i) + (i >= 168 ? extra(i - 168) : 0)));
}

const window = { from: iso(windowStart), to: iso(windowStart + 72 * hourMs) };

describe('deviation from the barn’s own profile', () => {
  it('flags a 48-hour +3 °C heat wave as one sustained shift', () => {
    // Heat wave in window hours 12–59 (48 h). Every hour's baseline is the median of the same hour
    // on the 7 previous days: at most 2 of those 7 fall in the heat wave, so the median stays the
    // normal value and each heat hour deviates by exactly +3 °C. The baseline days agree (MAD 0),
    // so the spread is the 0.5 °C floor. No hour reaches the spike size (3 < 4 °C).
    // Rolling 24-hour mean of the deviations: after n heat hours it is 3n/24 ≥ 2 from n = 16; the
    // hours carrying the shift (deviation ≥ 2 / 2 = 1 °C) are the 48 heat hours exactly.
    const { findings } = judgeClimate({ species: 'swine', window, series: [barnWithWindow((h) => (h >= 12 && h < 60 ? 3 : 0))] });
    expect(findings).toEqual([
      {
        code: 'sustained_shift',
        metric: 'temperature',
        window: { from: '2026-05-08T12:00:00.000Z', to: '2026-05-10T12:00:00.000Z' },
        duration: 48,
        value: 3, // a full 24-hour window of +3 °C deviations
        threshold: 2,
        unit: 'C',
        // The first 24-hour window that is all heat ends at window hour 12 + 23 = 35 (11:00 UTC): 20 °C.
        baseline: 20,
        source: 'farmiq_profile_sustained_shift',
      },
    ]);
  });

  it('flags a 4-hour +5 °C spike and not as a shift', () => {
    // Window hours 30–33 (06:00–10:00 UTC on 05-09) at 20 + 5 = 25 °C. Deviation +5 ≥ max(4 °C,
    // 3.5 · 0.5 °C floor = 1.75) → spike. Largest 24-hour mean: 4 · 5 / 24 = 0.83 < 2 → no shift.
    const { findings } = judgeClimate({ species: 'swine', window, series: [barnWithWindow((h) => (h >= 30 && h < 34 ? 5 : 0))] });
    expect(findings).toEqual([
      {
        code: 'spike',
        metric: 'temperature',
        window: { from: '2026-05-09T06:00:00.000Z', to: '2026-05-09T10:00:00.000Z' },
        duration: 4,
        value: 5,
        threshold: 4,
        unit: 'C',
        baseline: 20,
        source: 'farmiq_profile_spike',
      },
    ]);
  });

  it('does not call a day-long heat wave a spike as well, and keeps a short spike apart from it', () => {
    // +6 °C in window hours 36–59 (24 h), +5 more (+11) in hours 40–41, and a lone +5 °C in hours
    // 2–3. Baselines stay the normal values (at most 1 of 7 days hot). Heat hours deviate ≥ 6, beyond
    // the 4 °C spike size: a 24-hour run of "spike" hours, but it lies inside the same-direction
    // shift and lasts ≥ 18 hours: it is the shift, and is left out as a spike (the +11 hours are part
    // of that run). The shift: a 24-hour mean ≥ 2 needs ≥ 8 heat hours, first at hour 43; the hours
    // carrying it (≥ 1 °C) from 43 − 23 = hour 20 on are the 24 heat hours. Worst 24-hour mean, the
    // hours 36–59 exactly: (6 · 22 + 11 · 2) / 24 = 154 / 24 = 6.4167 → 6.42.
    // Hours 2–3: +5 ≥ 4 → a spike, 2 hours, outside the shift's span.
    const extra = (h: number) => (h >= 36 && h < 60 ? 6 : 0) + (h >= 40 && h < 42 ? 5 : 0) + (h >= 2 && h < 4 ? 5 : 0);
    const { findings } = judgeClimate({ species: 'swine', window, series: [barnWithWindow(extra)] });
    expect(findings.map((f) => [f.code, f.window.from, f.duration, f.value])).toEqual([
      ['spike', '2026-05-08T02:00:00.000Z', 2, 5],
      ['sustained_shift', '2026-05-09T12:00:00.000Z', 24, 6.42],
    ]);
  });

  it('does not flag a harmless 1 °C blip in a tightly controlled barn (the window z-score did)', () => {
    // Held at 21.0 ± 0.05 °C: MAD of the baseline days 0.05, 1.4826 · 0.05 = 0.074 < the 0.5 °C
    // floor, so the spread is 0.5. The blip hour deviates by 1 °C: below the 4 °C spike size and
    // only 2 spreads; its 24-hour mean is about 1/24 °C. Nothing is flagged.
    const tight = (i: number) => 21 + (i % 2 === 0 ? 0.05 : -0.05);
    const series = temperature(hours(historyStart, 240, (i) => tight(i) + (i === 168 + 40 ? 1 : 0)));
    expect(judgeClimate({ species: 'swine', window, series: [series] }).findings).toEqual([]);
    // The window's own robust z the insights used before (removed): MAD 0.05, z = 0.6745 · 1 / 0.05
    // ≈ 13.5 > 3.5 — a false alarm.
  });

  it('does not take a broiler house following its set-point ramp for a cold shift', () => {
    // Placed 05-01 at day 0; the house follows the band midpoints exactly: 32 °C at day 0, 30 at 4,
    // 27 at 8, 24 at 15 (linear in between). Over the previous 7 days the median lags ~3.5 days,
    // i.e. about −2 °C in week 2 — a "shift" without the ramp; with the ramp removed, 0.
    const placedAt = '2026-05-01';
    const setPoint = (i: number) => judgeRamp(i / 24);
    const series = temperature(hours(historyStart, 240, setPoint));
    const { findings } = judgeClimate({ species: 'broiler', window, series: [series], placement: { placedAt, ageAtPlacementDays: 0 } });
    expect(findings.filter((f) => f.code === 'sustained_shift' || f.code === 'spike')).toEqual([]);
    // Without a placement (no ramp known) the same house does show a downward shift.
    const blind = judgeClimate({ species: 'broiler', window, series: [series] }).findings;
    expect(blind.some((f) => f.code === 'sustained_shift' && f.value < 0)).toBe(true);
  });
});

/** The broiler band midpoints joined linearly (bands.ts expectedTemperatureAt, worked by hand). */
function judgeRamp(age: number): number {
  const points: [number, number][] = [
    [0, 32],
    [4, 30],
    [8, 27],
    [15, 24],
    [22, 22],
    [29, 20],
  ];
  for (let i = 0; i < points.length - 1; i++) {
    const [a0, t0] = points[i];
    const [a1, t1] = points[i + 1];
    if (age < a1) return t0 + ((t1 - t0) * (age - a0)) / (a1 - a0);
  }
  return 20;
}

it('the set-point ramp joins the band midpoints, flat across a pig stage change', () => {
  // Broiler: midpoints 32 (day 0), 30 (4), 27 (8), 24 (15). Day 2: 31; day 6: 28.5; day 11.5: 27 − 3 · 3.5 / 7 = 25.5.
  for (const age of [2, 6, 11.5, 40]) expect(expectedTemperatureAt(broilerComfortBands, age)).toBeCloseTo(judgeRamp(age), 10);
  expect(expectedTemperatureAt(broilerComfortBands, 11.5)).toBeCloseTo(25.5, 10);
  // Pig: the farrowing room stays at its midpoint (18 + 24) / 2 = 21 up to weaning; weaners 28 → 42
  // days go from 26 to 23.5: day 35 is 26 − 2.5 · 7 / 14 = 24.75.
  expect(expectedTemperatureAt(pigComfortBands, 20)).toBe(21);
  expect(expectedTemperatureAt(pigComfortBands, 35)).toBeCloseTo(24.75, 10);
});

describe('comfort band for the animals’ age', () => {
  it('flags a broiler house held at 30 °C on day 35 as above its band', () => {
    // Placed 2026-04-03 at day 0 → 2026-05-08 is day 35: band 18–22 °C (row from day 29).
    // 24 hours at 30 °C: one above_band run, value 30, threshold 22 + the 1 °C margin = 23.
    const day = { from: '2026-05-08T00:00:00.000Z', to: '2026-05-09T00:00:00.000Z' };
    const series = temperature(hours(Date.parse(day.from), 24, () => 30));
    const { findings } = judgeClimate({ species: 'broiler', window: day, series: [series], placement: { placedAt: '2026-04-03', ageAtPlacementDays: 0 } });
    expect(findings).toEqual([
      {
        code: 'above_band',
        metric: 'temperature',
        window: day,
        duration: 24,
        value: 30,
        threshold: 23,
        unit: 'C',
        source: 'band_species_age_table',
      },
    ]);
  });

  it('does not raise a finding for a barn hovering just over its band edge', () => {
    // Day 35, band 18–22: 22.8 °C all day is outside the band (the comfort KPI counts it) but not
    // more than 1 °C: no finding. 23.2 °C for 2 hours is more, but shorter than 3 hours: none either.
    const day = { from: '2026-05-08T00:00:00.000Z', to: '2026-05-09T00:00:00.000Z' };
    const placement = { placedAt: '2026-04-03', ageAtPlacementDays: 0 };
    const warm = temperature(hours(Date.parse(day.from), 24, (i) => (i === 5 || i === 6 ? 23.2 : 22.8)));
    expect(judgeClimate({ species: 'broiler', window: day, series: [warm], placement }).findings).toEqual([]);
  });

  it('judges a farrowing room for the sow and a finishing room for finishers, not the piglet creep', () => {
    // Farrowing room at 20–22 °C with litters of day 3–5 (placement = farrowing): band 18–24. The old
    // table (28–32 °C for days 0–7) called every hour of it too cold.
    const farrowing = { from: '2026-05-04T00:00:00.000Z', to: '2026-05-07T00:00:00.000Z' };
    const room = temperature(hours(Date.parse(farrowing.from), 72, (i) => (i % 24 >= 12 && i % 24 <= 17 ? 22 : 20)));
    expect(
      judgeClimate({ species: 'swine', window: farrowing, series: [room], placement: { placedAt: '2026-05-01', ageAtPlacementDays: 0 } }).findings,
    ).toEqual([]);
    // Finishers placed at 70 days on 2026-01-08 are 120 days old on 05-08 → 118 + … : finisher band 15–21.
    const finishing = temperature(hours(windowStart, 72, (i) => (i % 24 >= 12 && i % 24 <= 17 ? 20 : 18)));
    expect(judgeClimate({ species: 'swine', window, series: [finishing], placement: { placedAt: '2026-01-08', ageAtPlacementDays: 70 } }).findings).toEqual([]);
  });

  it('lets a flock or barn band override the table, and the farm band only stand in without an age', () => {
    const table = pigComfortBands;
    expect(resolveBand({ table, ageDays: 10, flock: { minC: 19, maxC: 23 }, barn: { minC: 17, maxC: 21 } })).toEqual({ minC: 19, maxC: 23, source: 'flock' });
    expect(resolveBand({ table, ageDays: 10, barn: { minC: 17, maxC: 21 }, farm: { minC: 10, maxC: 30 } })).toEqual({ minC: 17, maxC: 21, source: 'barn' });
    // Day 10 is the farrowing room row (0–27): 18–24; the farm band does not override it.
    expect(resolveBand({ table, ageDays: 10, farm: { minC: 10, maxC: 30 } })).toEqual({
      minC: 18,
      maxC: 24,
      source: 'species_age_table',
      stage: 'farrowing_room',
    });
    expect(resolveBand({ table, ageDays: null, farm: { minC: 10, maxC: 30 } })).toEqual({ minC: 10, maxC: 30, source: 'farm' });
    expect(resolveBand({ table, ageDays: 130 })).toMatchObject({ minC: 15, maxC: 21, stage: 'finisher' });
  });
});

describe('absolute limits', () => {
  const threeHours = { from: '2026-05-08T00:00:00.000Z', to: '2026-05-08T03:00:00.000Z' };
  const at = (metric: string, unit: string, value: number): ClimateSeries => ({ metric, unit, hours: hours(Date.parse(threeHours.from), 3, () => value) });

  it('NH3 25 ppm and CO2 3500 ppm in a broiler house are above the 2007/43/EC limits', () => {
    const { findings } = judgeClimate({ species: 'broiler', window: threeHours, series: [at('nh3', 'ppm', 25), at('co2', 'ppm', 3500)] });
    expect(findings).toEqual([
      { code: 'above_limit', metric: 'co2', window: threeHours, duration: 3, value: 3500, threshold: 3000, unit: 'ppm', source: 'eu_2007_43_annex_ii_3a_co2' },
      { code: 'above_limit', metric: 'nh3', window: threeHours, duration: 3, value: 25, threshold: 20, unit: 'ppm', source: 'eu_2007_43_annex_ii_3a_nh3' },
    ]);
  });

  it('NH3 25 ppm in a pig house is above the 20 ppm guidance; 15 ppm is not', () => {
    expect(judgeClimate({ species: 'swine', window: threeHours, series: [at('nh3', 'ppm', 25)] }).findings).toEqual([
      { code: 'above_limit', metric: 'nh3', window: threeHours, duration: 3, value: 25, threshold: 20, unit: 'ppm', source: 'pig_guidance_nh3' },
    ]);
    expect(judgeClimate({ species: 'swine', window: threeHours, series: [at('nh3', 'ppm', 15)] }).findings).toEqual([]);
  });

  it('broiler humidity: the 48-hour mean above 70 % counts only while it is below 10 °C outside', () => {
    // 48 hours at 75 % RH from 05-08 00:00. A 48-hour mean needs 36 of its hours: the first one is
    // at hour 35 (hours 0–35), then every hour to 47 → 13 hours [05-09 11:00, 05-10 00:00).
    const two = { from: '2026-05-08T00:00:00.000Z', to: '2026-05-10T00:00:00.000Z' };
    const humid: ClimateSeries = { metric: 'humidity', unit: '%', hours: hours(Date.parse(two.from), 48, () => 75) };
    const cold = hours(Date.parse(two.from), 48, () => 5);
    const expected = {
      code: 'above_limit',
      metric: 'humidity',
      window: { from: '2026-05-09T11:00:00.000Z', to: two.to },
      duration: 13,
      value: 75,
      threshold: 70,
      unit: '%',
    };
    expect(judgeClimate({ species: 'broiler', window: two, series: [humid], outsideTemperature: cold }).findings).toEqual([
      { ...expected, source: 'eu_2007_43_annex_ii_3c' },
    ]);
    // 15 °C outside: the directive's condition does not hold.
    const mild = hours(Date.parse(two.from), 48, () => 15);
    expect(judgeClimate({ species: 'broiler', window: two, series: [humid], outsideTemperature: mild }).findings).toEqual([]);
    // No outside sensor: applied as guidance, under its own id.
    expect(judgeClimate({ species: 'broiler', window: two, series: [humid] }).findings).toEqual([{ ...expected, source: 'eu_2007_43_annex_ii_3c_no_outside' }]);
  });

  it('broiler house more than 3 °C above a > 30 °C outside temperature', () => {
    // Outside 32 °C in the shade → inside may be at most 35 °C; 36 °C for 3 hours is above. (Also
    // above the day-35 band, flagged separately.)
    const inside = temperature(hours(Date.parse(threeHours.from), 3, () => 36));
    const outside = hours(Date.parse(threeHours.from), 3, () => 32);
    const { findings } = judgeClimate({ species: 'broiler', window: threeHours, series: [inside], outsideTemperature: outside });
    expect(findings).toEqual([
      { code: 'above_limit', metric: 'temperature', window: threeHours, duration: 3, value: 36, threshold: 35, unit: 'C', source: 'eu_2007_43_annex_ii_3b' },
    ]);
  });
});

describe('feed', () => {
  // 1000 broilers around day 20 eat about 100 g each a day: 100 kg, rising 3 kg a day.
  const days = (n: number) => Array.from({ length: n }, (_, d) => `2026-05-${String(1 + d).padStart(2, '0')}`);
  const growing = (d: number) => 100 + 3 * d;

  it('flags a day without any feed record as an outage', () => {
    // Day 6 (05-06) has no record at all. Previous fed days 100, 103, 106, 109, 112 → median 106.
    const fed = days(10)
      .map((day, d) => ({ day, kg: growing(d) }))
      .filter((f) => f.day !== '2026-05-06');
    expect(feedFindings(fed, days(10))).toEqual([
      {
        code: 'feed_outage',
        metric: 'feed',
        window: { from: '2026-05-06', to: '2026-05-07' },
        duration: 1,
        value: 0,
        threshold: 0,
        unit: 'kg/day',
        baseline: 106,
        source: 'farmiq_feed_outage_day',
      },
    ]);
  });

  it('flags a 30 % and a 40 % drop against the median of the previous 7 days, not a 20 % one', () => {
    // Days 0–6: 100 … 118 → median 109; threshold 0.75 · 109 = 81.75 kg.
    const withDay8 = (kg: number) => [...days(7).map((day, d) => ({ day, kg: growing(d) })), { day: '2026-05-08', kg }];
    const judged = ['2026-05-08'];
    const history = days(7);
    const drop = (kg: number) => [
      {
        code: 'feed_drop',
        metric: 'feed',
        window: { from: '2026-05-08', to: '2026-05-09' },
        duration: 1,
        value: kg,
        threshold: 81.75,
        unit: 'kg/day',
        baseline: 109,
        source: 'farmiq_feed_drop',
      },
    ];
    expect(feedFindings(withDay8(76.3), judged, history)).toEqual(drop(76.3)); // 109 · 0.7
    expect(feedFindings(withDay8(65.4), judged, history)).toEqual(drop(65.4)); // 109 · 0.6
    expect(feedFindings(withDay8(87.2), judged, history)).toEqual([]); // 109 · 0.8
  });

  it('flags more than 12 hours without a dispense', () => {
    // Dispenses at 00, 04, 08 h, then none until 02:00 the next day: an 18-hour gap; after it, the
    // window ends 4 hours later.
    const w = { from: '2026-05-08T00:00:00.000Z', to: '2026-05-09T06:00:00.000Z' };
    const at = ['2026-05-08T00:00:00Z', '2026-05-08T04:00:00Z', '2026-05-08T08:00:00Z', '2026-05-09T02:00:00Z'];
    expect(feedGaps(at, w)).toEqual([
      {
        code: 'feed_outage',
        metric: 'feed',
        window: { from: '2026-05-08T08:00:00.000Z', to: '2026-05-09T02:00:00.000Z' },
        duration: 18,
        value: 18,
        threshold: 12,
        unit: 'h without feed',
        source: 'farmiq_feed_gap',
      },
    ]);
  });
});

describe('units', () => {
  it('does not judge a °F series against °C rules; it says which series it left out', () => {
    // 86 °F is 30 °C: read as °C it would look like a 56 °C jump. The °F series is ignored with a
    // reason; the °C series beside it is judged on its own (a quiet barn: nothing to flag).
    const fahrenheit = temperature(
      hours(historyStart, 240, () => 86),
      'F',
    );
    const celsius = barnWithWindow(() => 0);
    const judged = judgeClimate({ species: 'swine', window, series: [fahrenheit, celsius] });
    expect(judged.findings).toEqual([]);
    expect(judged.ignored).toEqual([{ metric: 'temperature', unit: 'F', reason: 'unit_not_canonical', expectedUnit: 'C', hours: 240 }]);
    // The canonical units are data: an ingest contract that spells Celsius "degC" passes its table.
    const custom = judgeClimate({
      species: 'swine',
      window,
      series: [{ ...celsius, unit: 'degC' }],
      canonicalUnits: { temperature: 'degC', humidity: '%', co2: 'ppm', nh3: 'ppm' },
    });
    expect(custom.ignored).toEqual([]);
  });
});

describe('in the insights', () => {
  const barnHours = (values: HourValue[]): BarnHour[] =>
    values.map((h) => ({ hour: h.hour, localDay: h.hour.slice(0, 10), mean: h.value, min: h.value - 0.5, max: h.value + 0.5, readingCount: 360 }));

  it('a normal farrowing room and finishing room are not "100 % below band" in the feature summary', () => {
    // The fixture's window is 2026-03-01 … 03-14. Barn 1: a farrowing room, litters born 03-01
    // (ages 0–13), at 20 °C with 22 °C afternoons: inside 18–24 every hour. Barn 2: finishers
    // placed at 120 days on 02-01 (ages 148–161) at 18/20 °C: inside 15–21. 14 · 24 = 336 hours each.
    const base = sampleInputs();
    const room = (low: number, high: number) =>
      barnHours(hours(Date.parse('2026-03-01T00:00:00.000Z'), 336, (i) => (i % 24 >= 12 && i % 24 <= 17 ? high : low)));
    const summary = buildFeatureSummary({
      ...base,
      farm: { ...base.farm, species: 'swine' },
      barns: [
        { ...base.barns[0], placedAt: '2026-03-01', ageAtPlacementDays: 0, temperatureHours: room(20, 22) },
        { ...base.barns[1], placedAt: '2026-02-01', ageAtPlacementDays: 120, temperatureHours: room(18, 20) },
      ],
    });
    const farrowing = { band_source: 'species_age_table', hours_evaluated: 336, hours_below: 0, hours_above: 0, hours_outside: 0, share_outside_pct: 0 };
    expect(summary.barns[0].climate.comfort).toMatchObject({ ...farrowing, band_at_start: { min_c: 18, max_c: 24 }, band_at_end: { min_c: 18, max_c: 24 } });
    expect(summary.barns[1].climate.comfort).toMatchObject({ ...farrowing, band_at_start: { min_c: 15, max_c: 21 }, band_at_end: { min_c: 15, max_c: 21 } });
  });

  it('judges a barn from its hourly rollups and daily feed, CO2 and NH3 included', () => {
    // Broiler barn placed 2026-04-03 at day 0; 05-08 is day 35 (band 18–22 °C). On 05-08:
    // temperature 30 °C all day (above band + 1 °C margin = 23), NH3 25 ppm 06:00–09:00 (above 20), CO2 2500 ppm
    // (below 3000: nothing). Feed: 05-01 … 05-07 at 100 … 118 kg, none on 05-08 (outage; the
    // median of the previous 7 fed days is 109).
    const day = { from: '2026-05-08T00:00:00.000Z', to: '2026-05-09T00:00:00.000Z' };
    const start = Date.parse(day.from);
    const judged = barnClimateFindings({
      species: 'broiler',
      window: day,
      placement: { placedAt: '2026-04-03', ageAtPlacementDays: 0 },
      farmBand: null,
      hours: {
        temperature: barnHours(hours(start, 24, () => 30)),
        nh3: barnHours(hours(start, 24, (i) => (i >= 6 && i < 9 ? 25 : 12))),
        co2: barnHours(hours(start, 24, () => 2500)),
      },
      dailyFeed: Array.from({ length: 7 }, (_, d) => ({ day: `2026-05-0${1 + d}`, kg: 100 + 3 * d })),
      expectedFeedDays: ['2026-05-01', '2026-05-02', '2026-05-03', '2026-05-04', '2026-05-05', '2026-05-06', '2026-05-07', '2026-05-08'],
    });
    // Ordered by window start (a feed day sorts before the instants of that day), metric, code.
    expect(judged.findings.map((f) => [f.code, f.metric, f.window.from, f.duration, f.value, f.threshold])).toEqual([
      ['feed_outage', 'feed', '2026-05-08', 1, 0, 0],
      ['above_band', 'temperature', '2026-05-08T00:00:00.000Z', 24, 30, 23],
      ['above_limit', 'nh3', '2026-05-08T06:00:00.000Z', 3, 25, 20],
    ]);
    expect(climateFindingAnomaly('barn-1', judged.findings[2], 'broiler')).toEqual({
      kind: 'climate_finding',
      barn_id: 'barn-1',
      code: 'above_limit',
      metric: 'nh3',
      from: '2026-05-08T06:00:00.000Z',
      to: '2026-05-08T09:00:00.000Z',
      duration: 3,
      value: 25,
      threshold: 20,
      unit: 'ppm',
      baseline: null,
      source: 'eu_2007_43_annex_ii_3a_nh3',
      status: 'law',
    });
  });
});

it('expects feed on the complete days the flock was in the barn', () => {
  // Window 2026-05-01 06:00Z … 05-06 00:00Z in UTC: 05-01 is cut by the window (from 06:00), 05-05
  // ends at the window's end (complete). Placed 05-02 (a partial day): expected 05-03, 05-04, 05-05.
  const base = { window: { from: '2026-05-01T06:00:00Z', to: '2026-05-06T00:00:00Z' }, timeZone: 'UTC', localDays: { from: '2026-05-01', to: '2026-05-05' } };
  expect(expectedFeedDays({ ...base, occupiedFrom: '2026-05-02' })).toEqual(['2026-05-03', '2026-05-04', '2026-05-05']);
  // Emptied on 05-05 (partial): 05-03 and 05-04 only. Not occupied: no day.
  expect(expectedFeedDays({ ...base, occupiedFrom: '2026-05-02', occupiedUntil: '2026-05-05' })).toEqual(['2026-05-03', '2026-05-04']);
  expect(expectedFeedDays({ ...base, occupiedFrom: null })).toEqual([]);
  // In Europe/Berlin (UTC+2 in May) 05-01T22:00Z is local midnight of 05-02: that day is complete.
  const berlin = {
    window: { from: '2026-05-01T22:00:00Z', to: '2026-05-03T22:00:00Z' },
    timeZone: 'Europe/Berlin',
    localDays: { from: '2026-05-02', to: '2026-05-03' },
  };
  expect(expectedFeedDays({ ...berlin, occupiedFrom: '2026-04-20' })).toEqual(['2026-05-02', '2026-05-03']);
});
