/**
 * The flock KPIs (insights/kpis/*: animal-days, mortality, feed per animal-day, ADG, FCR, EPEF,
 * uniformity, breed standard, evidence-checked forecast) on small fixtures worked out by hand in
 * the comments, with plausible biology: day-old chicks eat ~13–20 g a day, a 2.3 kg broiler at
 * day 35 has eaten ~1.5 kg of feed per kg of gain.
 */
import { adgFromWeighings } from '../../insights/kpis/adg';
import { animalDaysByDay } from '../../flocks/head-count';
import { breedKey, standardFor, standardWeight, versusStandard } from '../../insights/kpis/breed-standard';
import { epef } from '../../insights/kpis/epef';
import { flockFcr } from '../../insights/kpis/fcr';
import { feedPerAnimalDay } from '../../insights/kpis/feed-per-animal-day';
import type { DailyLosses, Flock, Weighing } from '../../insights/kpis/flock';
import { flockKpis } from '../../insights/kpis/flock-kpis';
import { flockUniformity, sampleUnits } from '../../insights/kpis/flock-uniformity';
import { fitGompertz, gompertzWeight, timeToWeight } from '../../insights/kpis/growth-curve';
import { growthForecast } from '../../insights/kpis/growth-forecast';
import { localClock } from '../../domain/calendar/local-clock';
import { mortality } from '../../insights/kpis/mortality';
import { standardCurves } from '../../insights/kpis/standards';
import { studentT975 } from '../../insights/kpis/student-t';

// A Ross 308 flock placed at 06:00 on 03-01 (UTC farm): 10,000 day-old chicks of 42 g.
const flock: Flock = {
  flockId: 'flock-1',
  placedAt: '2026-03-01T06:00:00Z',
  headPlaced: 10_000,
  ageAtPlacementDays: 0,
  species: 'broiler',
  breed: 'Ross 308',
  placementWeightKg: 0.042,
  depopulatedAt: null,
};
const losses: DailyLosses[] = [
  { day: '2026-03-01', deaths: 50, culls: 0 },
  { day: '2026-03-02', deaths: 30, culls: 10 },
  { day: '2026-03-03', deaths: 20, culls: 0 },
];
/** The same losses in the words of the flock records (flocks/head-count.ts). */
const counts = losses.map((l) => ({ day: l.day, dead: l.deaths, culled: l.culls }));

describe('animal-days', () => {
  it('counts the placement day from placed_at and each day at its average head count', () => {
    const days = animalDaysByDay(flock, counts, 'UTC', '2026-02-28', '2026-03-04');
    // 02-28: before placement, 0.
    // 03-01: placed 06:00 → 18 of 24 h = 0.75; opening 10000, closing 9950 → 0.75 · 9975 = 7481.25
    // 03-02: opening 9950, closing 9950 − 40 = 9910 → 9930
    // 03-03: opening 9910, closing 9890 → 9900
    // 03-04: no losses, 9890
    expect(days.map((d) => [d.day, d.presentShare, d.openingHead, d.headCount, d.animalDays])).toEqual([
      ['2026-02-28', 0, 0, 0, 0],
      ['2026-03-01', 0.75, 10000, 9950, 7481.25],
      ['2026-03-02', 1, 9950, 9910, 9930],
      ['2026-03-03', 1, 9910, 9890, 9900],
      ['2026-03-04', 1, 9890, 9890, 9890],
    ]);
  });

  it('counts the depopulation day up to depopulated_at and nothing after', () => {
    // 1000 pigs placed 04-01 12:00, loaded out 04-03 18:00: 0.5 · 1000 + 1000 + 0.75 · 1000 + 0 = 2250
    const pigs: Flock = { ...flock, headPlaced: 1000, species: 'swine', breed: null, placedAt: '2026-04-01T12:00:00Z', depopulatedAt: '2026-04-03T18:00:00Z' };
    const days = animalDaysByDay(pigs, [], 'UTC', '2026-04-01', '2026-04-04');
    expect(days.map((d) => d.animalDays)).toEqual([500, 1000, 750, 0]);
    expect(days.map((d) => d.headCount)).toEqual([1000, 1000, 0, 0]); // 0 from the depopulation day on
  });

  it('reads the placement time in the farm time zone', () => {
    // 05:00 UTC is 06:00 in Berlin in winter (UTC+1): a quarter of the local day gone.
    expect(localClock('2026-03-01T05:00:00Z', 'Europe/Berlin')).toEqual({ day: '2026-03-01', elapsedShare: 0.25 });
    // 23:30 UTC on 02-28 is already 03-01 00:30 in Berlin.
    expect(localClock('2026-02-28T23:30:00Z', 'Europe/Berlin').day).toBe('2026-03-01');
  });
});

describe('a flock in a farm east of UTC', () => {
  it('takes its days, head count and feed per animal-day from the farm clock (flocks/head-count.ts)', () => {
    // Bangkok (UTC+7): 10,000 chicks placed 18:00 UTC on 03-01 = 01:00 on 03-02 local; 40 dead on
    // 03-02, 24 dead + 6 culls on 03-03 (farm days); feed 150 kg on 03-02 and 200 kg on 03-03.
    //   animal-days 03-02: 23/24 · (10000 + 9960) / 2 = 9564.1667;  03-03: (9960 + 9930) / 2 = 9945
    //   feed per animal-day = 350 / 19509.1667 = 0.017940 → 0.0179 kg (18 g a chick a day)
    // Read in UTC the flock would be placed on 03-01 and 03-02 would be a whole day.
    const k = flockKpis({
      flock: { ...flock, placedAt: '2026-03-01T18:00:00Z', placementWeightKg: 0.042 },
      losses: [
        { day: '2026-03-02', deaths: 40, culls: 0 },
        { day: '2026-03-03', deaths: 24, culls: 6 },
      ],
      feed: [
        { day: '2026-03-02', kg: 150 },
        { day: '2026-03-03', kg: 200 },
      ],
      dailyWeights: [],
      weighings: [],
      timeZone: 'Asia/Bangkok',
      period: { from: '2026-03-02', to: '2026-03-03' },
      forecastDate: '2026-03-10',
      targetWeightKg: 2.5,
      asymptoteKg: 6.5,
    });
    expect(k).toMatchObject({ placedDay: '2026-03-02', headCount: 9930, ageDaysAtEnd: 1 });
    expect(k.feed).toEqual({ feedKg: 350, animalDays: 19509.167, perAnimalDayKg: 0.0179, daysInBarn: 2, zeroFeedDays: [] });
    // 64 dead + 6 culls of 10,000 = 0.7 % depletion.
    expect(k.mortality).toMatchObject({ deaths: 64, culls: 6, depletionPct: 0.7, livabilityPct: 99.3 });
  });
});

describe('mortality and livability', () => {
  it('divides deaths, culls and total depletion by the head placed', () => {
    const m = mortality(10_000, losses, '2026-03-01', '2026-03-04')!;
    // deaths 50 + 30 + 20 = 100 → 1 %; culls 10 → 0.1 %; depletion 110 → 1.1 %; livability 98.9 %
    expect(m).toMatchObject({ deaths: 100, culls: 10, headAlive: 9890, mortalityPct: 1, cullsPct: 0.1, depletionPct: 1.1, livabilityPct: 98.9 });
    // Daily: 03-02 30 deaths = 0.3 %, with 10 culls 0.4 %; the daily figures add up to the cumulative.
    expect(m.daily[1]).toEqual({ day: '2026-03-02', deaths: 30, culls: 10, mortalityPct: 0.3, depletionPct: 0.4 });
    expect(mortality(0, losses, '2026-03-01', '2026-03-04')).toBeNull();
  });
});

describe('feed per animal-day', () => {
  it('divides by real animal-days, a zero-feed day and a partial first day included', () => {
    const days = animalDaysByDay(flock, counts, 'UTC', '2026-03-01', '2026-03-04');
    // 03-01 100 kg, 03-02 nothing (feeder outage), 03-03 170 kg, 03-04 200 kg = 470 kg.
    // Animal-days 7481.25 + 9930 + 9900 + 9890 = 37201.25 → 470 / 37201.25 = 0.012634 kg = 12.6 g per
    // chick-day — what day-old to 4-day-old chicks eat. The old formula (470 / 10000 head / 3 feed
    // days = 0.0157) ignores the outage and the short first day.
    const feed = [
      { day: '2026-03-01', kg: 100 },
      { day: '2026-03-03', kg: 170 },
      { day: '2026-03-04', kg: 120 },
      { day: '2026-03-04', kg: 80 },
    ];
    expect(feedPerAnimalDay(days, feed)).toEqual({
      feedKg: 470,
      animalDays: 37201.25,
      perAnimalDayKg: 0.0126,
      daysInBarn: 4,
      zeroFeedDays: ['2026-03-02'],
    });
    // Dispensing every other day no longer doubles the figure: 2 × 185 kg on 2 of 4 whole days of
    // 10,000 birds is 370 / 40,000 = 0.00925 kg, not 370 / 10000 / 2 = 0.0185.
    const whole = animalDaysByDay({ ...flock, placedAt: '2026-03-01T00:00:00Z' }, [], 'UTC', '2026-03-01', '2026-03-04');
    expect(
      feedPerAnimalDay(whole, [
        { day: '2026-03-01', kg: 185 },
        { day: '2026-03-03', kg: 185 },
      ]).perAnimalDayKg,
    ).toBe(0.0093); // 0.00925 rounded half away from zero to 4 places
  });
});

describe('ADG from all weighing days', () => {
  it('is the least-squares slope with its standard error', () => {
    // Days 0, 2, 4, 6 (a day with no weighing is ignored): 1.00, 1.13, 1.21, 1.35 kg.
    // t̄ = 3, W̄ = 4.69 / 4 = 1.1725; Sxx = 9 + 1 + 1 + 9 = 20
    // Sxy = (−3)(−0.1725) + (−1)(−0.0425) + (1)(0.0375) + (3)(0.1775) = 1.13 → slope 0.0565 kg = 56.5 g/day
    // fitted 1.003, 1.116, 1.229, 1.342; residuals −0.003, 0.014, −0.019, 0.008; RSS 0.00063
    // s² = 0.00063 / 2 = 0.000315; SE = √(0.000315 / 20) = 0.0039686 kg = 3.97 g/day
    // 95 %: t(0.975, 2) = 4.303 → 56.5 ± 17.08 → [39.4, 73.6]
    // (first-to-last would say (1.35 − 1.00) / 6 = 58.3 and hide the scatter.)
    const adg = adgFromWeighings([
      { day: '2026-03-10', meanKg: 1.0, weighings: 40 },
      { day: '2026-03-12', meanKg: 1.13, weighings: 35 },
      { day: '2026-03-13', meanKg: 5, weighings: 0 },
      { day: '2026-03-14', meanKg: 1.21, weighings: 38 },
      { day: '2026-03-16', meanKg: 1.35, weighings: 41 },
    ]);
    expect(adg).toEqual({
      gPerDay: 56.5,
      standardErrorGPerDay: 3.97,
      ci95GPerDay: [39.4, 73.6],
      weighingDays: 4,
      firstDay: '2026-03-10',
      lastDay: '2026-03-16',
    });
    // Two days: the line is exact, its error unknown.
    expect(
      adgFromWeighings([
        { day: '2026-03-10', meanKg: 1, weighings: 5 },
        { day: '2026-03-12', meanKg: 1.12, weighings: 5 },
      ]),
    ).toMatchObject({
      gPerDay: 60,
      standardErrorGPerDay: null,
      ci95GPerDay: null,
    });
    expect(adgFromWeighings([{ day: '2026-03-10', meanKg: 1, weighings: 5 }])).toBeNull();
    expect(studentT975(2)).toBe(4.303);
    expect(studentT975(0)).toBeNull();
  });
});

describe('FCR and EPEF', () => {
  it('cumulative and mortality-adjusted FCR, and EPEF, of a day-35 broiler flock', () => {
    // 20,000 chicks at 42 g; on day 35 19,400 are left at 2.3 kg; the 600 lost weighed 480 kg in all.
    // Flock gain = 19400 · 2.3 − 20000 · 0.042 = 44620 − 840 = 43780 kg
    // cumulative FCR = 65670 / 43780 = 1.5
    // mortality-adjusted = 65670 / (43780 + 480) = 65670 / 44260 = 1.48374 → 1.484
    const fcr = flockFcr({ feedKg: 65_670, headPlaced: 20_000, placementWeightKg: 0.042, headAlive: 19_400, meanWeightKg: 2.3, lostWeightsKg: [300, 180] });
    expect(fcr).toEqual({ flockGainKg: 43780, lostWeightKg: 480, cumulative: 1.5, mortalityAdjusted: 1.484 });
    // No gain, no FCR.
    expect(flockFcr({ feedKg: 10, headPlaced: 10, placementWeightKg: 0.042, headAlive: 10, meanWeightKg: 0.042, lostWeightsKg: [] }).cumulative).toBeNull();
    // EPEF = 97 % · 2.3 kg · 100 / (35 d · 1.5) = 22310 / 52.5 = 424.95 → 425.0
    expect(epef({ species: 'broiler', livabilityPct: 97, meanWeightKg: 2.3, ageDays: 35, fcr: 1.5 })).toBe(425);
    expect(epef({ species: 'swine', livabilityPct: 97, meanWeightKg: 110, ageDays: 160, fcr: 2.7 })).toBeNull();
  });
});

describe('FCR from the recorded placement weight, or the breed standard', () => {
  // 1000 Ross 308 day-old chicks placed at midnight 03-01, from a young breeder flock: weighed at
  // 36 g (the Ross 308 objective says 44 g at day 0). 10 died on 03-02 (0.45 kg weighed together).
  // Weighed on 03-15 (0.52 kg) and on 03-22, age 21 (1.00 kg, 40 sessions); feed bought in three
  // lots before 03-22 (150 + 450 + 700 = 1300 kg, ~62 g a bird a day) and 90 kg on 03-22 itself,
  // which is not in FCR as of 03-22 (it grows the birds after the weighing).
  const run = (placementWeightKg: number | null) =>
    flockKpis({
      flock: { ...flock, headPlaced: 1000, placedAt: '2026-03-01T00:00:00Z', placementWeightKg },
      losses: [{ day: '2026-03-02', deaths: 10, culls: 0, weightKg: 0.45 }],
      feed: [
        { day: '2026-03-01', kg: 150 },
        { day: '2026-03-08', kg: 450 },
        { day: '2026-03-15', kg: 700 },
        { day: '2026-03-22', kg: 90 },
      ],
      dailyWeights: [
        { day: '2026-03-15', sessions: 40, meanKg: 0.52 },
        { day: '2026-03-22', sessions: 40, meanKg: 1.0 },
      ],
      weighings: [],
      timeZone: 'UTC',
      period: { from: '2026-03-16', to: '2026-03-22' },
      forecastDate: '2026-03-29',
      targetWeightKg: 2.5,
      asymptoteKg: 6.5,
    }).fcr;

  it('uses the weight recorded at placement and says so', () => {
    // 990 alive · 1.00 − 1000 · 0.036 = 990 − 36 = 954 kg gained
    // cumulative 1300 / 954 = 1.36268 → 1.363; mortality-adjusted 1300 / (954 + 0.45) = 1.36204 → 1.362
    expect(run(0.036)).toEqual({
      flockGainKg: 954,
      lostWeightKg: 0.45,
      cumulative: 1.363,
      mortalityAdjusted: 1.362,
      asOfDay: '2026-03-22',
      feedKg: 1300,
      placementWeightSource: 'recorded',
    });
  });

  it('falls back to the breed standard weight at the age of placement without one', () => {
    // Ross 308 day 0 = 0.044 kg: 990 − 1000 · 0.044 = 946 kg; 1300 / 946 = 1.37421 → 1.374;
    // adjusted 1300 / 946.45 = 1.37355 → 1.374. The 8 g a chick the standard overstates cost 0.011 of FCR.
    expect(run(null)).toEqual({
      flockGainKg: 946,
      lostWeightKg: 0.45,
      cumulative: 1.374,
      mortalityAdjusted: 1.374,
      asOfDay: '2026-03-22',
      feedKg: 1300,
      placementWeightSource: 'breed_standard',
    });
  });
});

describe('uniformity', () => {
  const sessions = (weights: number[], animal?: (i: number) => string): Weighing[] =>
    weights.map((w, i) => ({ sessionId: `s-${i}`, stationId: 'st-1', day: '2026-03-20', weightKg: w, animalId: animal ? animal(i) : null }));

  it('CV and uniformity from at least 30 units, with intervals', () => {
    // 10 × 1.75, 10 × 2.00, 10 × 2.25 kg: mean 2.0; Σ(w − 2)² = 20 · 0.0625 = 1.25; / 29 = 0.043103
    // s = 0.207614; CV = 10.38 %. ±10 % of 2.0 is [1.8, 2.2]: only the 10 at 2.00 → 33.3 %.
    // Wilson (z = 1.96, n = 30, p = 1/3): centre (0.33333 + 0.06403) / 1.12805 = 0.35225;
    //   half = 1.73751 · √(0.0074074 + 0.0010671) = 0.15995 → [19.2, 51.2] %
    // CV interval: SE = 0.103807 · √((1 + 2 · 0.103807²) / 60) = 0.013545; ± 1.96 · SE → [7.73, 13.04] %
    const weights = [...Array(10).fill(1.75), ...Array(10).fill(2.0), ...Array(10).fill(2.25)] as number[];
    expect(flockUniformity('2026-03-20', sessions(weights))).toEqual({
      status: 'ok',
      day: '2026-03-20',
      sampleUnit: 'session',
      n: 30,
      weighings: 30,
      meanKg: 2,
      cvPct: 10.38,
      cvCi95Pct: [7.73, 13.04],
      withinBandPct: 33.3,
      withinBandCi95Pct: [19.2, 51.2],
      bandPct: 10,
    });
  });

  it('refuses a small sample and counts an identified animal once', () => {
    expect(flockUniformity('2026-03-20', sessions([1.9, 2.1]))).toEqual({
      status: 'insufficient_sample',
      day: '2026-03-20',
      sampleUnit: 'session',
      n: 2,
      weighings: 2,
      minimum: 30,
    });
    // 31 weighings with RFID, animal a-0 twice (1.9 and 2.1 kg → one weight of 2.0): 30 animals.
    const tagged = sessions([1.9, 2.1, ...Array(29).fill(2.0)] as number[], (i) => (i <= 1 ? 'a-0' : `a-${i}`));
    expect(sampleUnits(tagged)).toMatchObject({ unit: 'animal' });
    expect(sampleUnits(tagged).weightsKg).toHaveLength(30);
    expect(sampleUnits(tagged).weightsKg[0]).toBeCloseTo(2.0, 12);
    expect(flockUniformity('2026-03-20', tagged)).toMatchObject({ status: 'ok', sampleUnit: 'animal', n: 30, weighings: 31 });
    // The same visits without ids are 31 sessions.
    expect(flockUniformity('2026-03-20', sessions([1.9, 2.1, ...Array(29).fill(2.0)] as number[]))).toMatchObject({ sampleUnit: 'session', n: 31 });
    // Another day's weighings are not that day's sample.
    expect(flockUniformity('2026-03-21', sessions([2]))).toBeNull();
  });
});

describe('breed standard', () => {
  it('ships Ross 308, Cobb 500 and a pig reference with their sources and tolerances', () => {
    expect(standardCurves.map((c) => [c.key, c.tolerancePct])).toEqual([
      ['ross_308', 8],
      ['cobb_500', 8],
      ['pig_reference', 15],
    ]);
    for (const c of standardCurves) {
      expect(c.source.length).toBeGreaterThan(20);
      expect(c.points.every((p, i) => i === 0 || (p.ageDays > c.points[i - 1].ageDays && p.weightKg > c.points[i - 1].weightKg))).toBe(true);
    }
  });

  it('selects the curve by breed and compares the flock with it', () => {
    expect(breedKey(' Ross 308 ')).toBe('ross_308');
    expect(standardFor('broiler', 'Cobb-500')?.curve.key).toBe('cobb_500');
    expect(standardFor('broiler', null)).toBeNull(); // line-specific: no guess
    expect(standardFor('swine', null)).toMatchObject({ curve: { key: 'pig_reference' }, selectedBy: 'species_default' });
    const ross = standardFor('broiler', 'ross_308')!.curve;
    // Day 10, log-linear between day 7 (0.21) and day 14 (0.57):
    // ln 0.21 = −1.560648, ln 0.57 = −0.562119; −1.560648 + 3/7 · 0.998529 = −1.132707 → e^ = 0.322163 kg
    expect(standardWeight(ross, 10)).toBeCloseTo(0.322163, 5);
    expect(standardWeight(ross, 35)).toBeCloseTo(2.47, 9);
    expect(standardWeight(ross, 60)).toBeNull(); // beyond the curve
    // 2.2 kg at day 35 against 2.47: (2.2 − 2.47) / 2.47 = −10.93 % → below the ±8 % tolerance
    expect(versusStandard('broiler', 'Ross 308', 35, 2.2)).toMatchObject({ standardKg: 2.47, deviationPct: -10.9, tolerancePct: 8, verdict: 'below' });
    // 2.3 kg: −6.9 % is inside what the shipped points can tell apart → within
    expect(versusStandard('broiler', 'Ross 308', 35, 2.3)).toMatchObject({ deviationPct: -6.9, verdict: 'within' });
    // Against Cobb 500 at day 35 (2.40, ±8 %): −4.2 % → within
    expect(versusStandard('broiler', 'Cobb 500', 35, 2.3)).toMatchObject({ deviationPct: -4.2, verdict: 'within' });
  });
});

// W(t) = 6.5 · exp(−5 · e^(−0.05 t)) (as in kpis.test.ts): W(24) = 1.441712, W(26) = 1.663865 kg,
// t for 2.5 kg = (ln 5 − ln ln 2.6) / 0.05 = 33.0989.
const curve = { asymptoteKg: 6.5, b: 5, k: 0.05 };
const W = (t: number) => gompertzWeight(curve, t);

describe('forecasts refuse or widen on thin evidence', () => {
  const forecast = (points: { t: number; weightKg: number }[]) =>
    growthForecast({ points, asymptoteKg: 6.5, targetWeightKg: 2.5, tLast: points[points.length - 1].t, tForecast: 35 });

  it('refuses fewer than 5 weighing days or a span under 7 days', () => {
    expect(forecast([20, 22, 24, 26].map((t) => ({ t, weightKg: W(t) })))).toMatchObject({
      status: 'insufficient_evidence',
      reason: 'too_few_weighing_days',
      weighingDays: 4,
    });
    expect(forecast([20, 21, 22, 23, 24].map((t) => ({ t, weightKg: W(t) })))).toMatchObject({
      status: 'insufficient_evidence',
      reason: 'age_span_too_short',
      spanDays: 4,
    });
    expect(forecast([20, 22, 24, 26, 28].map((t) => ({ t, weightKg: 1.5 - t * 0.01 })))).toMatchObject({
      status: 'insufficient_evidence',
      reason: 'no_growth',
    });
  });

  it('gives the curve back with a zero-width interval on exact points', () => {
    // On the curve at 20 … 28: b = 5, k = 0.05, s = 0; days to 2.5 kg = 33.0989 − 28 = 5.1
    // W(35): e^(−1.75) = 0.173774; · 5 = 0.868870; e^(−0.868870) = 0.419440; · 6.5 = 2.726 kg
    const f = forecast([20, 22, 24, 26, 28].map((t) => ({ t, weightKg: W(t) })));
    expect(f).toEqual({
      status: 'ok',
      weighingDays: 5,
      spanDays: 8,
      b: 5,
      k: 0.05,
      residualSd: 0,
      daysToTarget: 5.1,
      daysToTargetCi95: [5.1, 5.1],
      weightAtForecastKg: 2.726,
      weightAtForecastCi95Kg: [2.726, 2.726],
    });
  });

  it('±50 g on one daily mean: two points swung the answer, five move it inside a wider interval', () => {
    // The old fit through two days (24 and 26): +50 g or −50 g on day 24 moves days-to-target by
    // more than 3 days (about 5.8 vs 9.2), with nothing saying so.
    const two = (d: number) =>
      timeToWeight(
        fitGompertz(
          [
            { t: 24, weightKg: W(24) + d },
            { t: 26, weightKg: W(26) },
          ],
          6.5,
        )!,
        2.5,
      )! - 26;
    expect(Math.abs(two(0.05) - two(-0.05))).toBeGreaterThan(3);
    expect(
      forecast([
        { t: 24, weightKg: W(24) + 0.05 },
        { t: 26, weightKg: W(26) },
      ]),
    ).toMatchObject({ status: 'insufficient_evidence' });

    // Five days 20 … 28 with ±50 g on day 24: the answer stays near 5.1 and its interval widens to
    // hold the unperturbed answer.
    for (const d of [0.05, -0.05]) {
      const f = forecast([20, 22, 24, 26, 28].map((t) => ({ t, weightKg: W(t) + (t === 24 ? d : 0) })));
      if (f.status !== 'ok') throw new Error('expected a forecast');
      expect(Math.abs(f.daysToTarget! - 5.1)).toBeLessThan(1);
      const [lo, hi] = f.daysToTargetCi95!;
      expect(hi).not.toBeNull();
      expect(hi! - lo).toBeGreaterThan(0.5);
      expect(lo).toBeLessThanOrEqual(5.1);
      expect(hi!).toBeGreaterThanOrEqual(5.1);
      expect(f.weightAtForecastCi95Kg[0]).toBeLessThan(2.726);
      expect(f.weightAtForecastCi95Kg[1]).toBeGreaterThan(2.726);
    }
  });
});

describe('one flock', () => {
  it('uses only its own weighings and says why an FCR is missing', () => {
    // A broiler flock without breed or placement weight: no W₀, so no FCR (and no EPEF).
    // Weighed on 03-05 and 03-08; the barn's 03-12 weighing is after the 03-10 depopulation
    // (the next flock's, or a stray) and does not count.
    const k = flockKpis({
      flock: { ...flock, breed: null, placementWeightKg: null, depopulatedAt: '2026-03-10T12:00:00Z' },
      losses,
      feed: [{ day: '2026-03-02', kg: 150 }],
      dailyWeights: [
        { day: '2026-03-05', sessions: 30, meanKg: 0.12 },
        { day: '2026-03-08', sessions: 30, meanKg: 0.2 },
        { day: '2026-03-12', sessions: 30, meanKg: 0.05 },
      ],
      weighings: [],
      timeZone: 'UTC',
      period: { from: '2026-03-01', to: '2026-03-14' },
      forecastDate: '2026-03-21',
      targetWeightKg: 2.5,
      asymptoteKg: 6.5,
    });
    // ADG through 03-05 and 03-08 only: (0.2 − 0.12) / 3 = 0.026667 kg = 26.7 g/day
    expect(k.adg).toMatchObject({ gPerDay: 26.7, weighingDays: 2, lastDay: '2026-03-08' });
    expect(k).toMatchObject({ fcr: null, fcrMissingReason: 'no_placement_weight', epef: null, versusStandard: null, headCount: 0 });
    expect(k.forecast).toMatchObject({ status: 'insufficient_evidence', reason: 'too_few_weighing_days' });
    // Present 03-01 06:00 … 03-10 12:00: 0.75 + 8 whole days + 0.5 = 9.25 days; days after 03-10 are 0.
    expect(k.feed.daysInBarn).toBe(10);
  });
});
