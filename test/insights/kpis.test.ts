/**
 * The KPI, anomaly and forecast maths (insights/kpis) on small fixtures whose expected values are
 * worked out by hand in the comments — the formulas of docs/insights.md, one by one.
 */
import { growthFlattening, scaleVisionCheck } from '../../insights/kpis/anomalies';
import { addDays, ageOnDay, daysBetween } from '../../domain/calendar/days';
import { comfortHours, metricStats, type BarnHour } from '../../insights/kpis/climate';
import { feedKpis, growthKpis, uniformity, type DailyWeight } from '../../insights/kpis/growth';
import { fitGompertz, gompertzWeight, timeToWeight } from '../../insights/kpis/growth-curve';
import { comfortBand, speciesReference } from '../../insights/kpis/species';
import { linearFit, median, medianAbsoluteDeviation, round, sampleStdDev } from '../../insights/kpis/stats';

describe('statistics', () => {
  it('median, MAD, sample standard deviation, least squares', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5); // (2 + 3) / 2
    expect(median([])).toBeNull();
    // median 3; |x − 3| = 2, 1, 0, 1, 97 → sorted 0, 1, 1, 2, 97 → 1
    expect(medianAbsoluteDeviation([1, 2, 3, 4, 100])).toBe(1);
    // mean 5; squares 9+1+1+1+0+0+4+16 = 32; 32 / 7 = 4.571429; √ = 2.138090
    expect(sampleStdDev([2, 4, 4, 4, 5, 5, 7, 9])).toBeCloseTo(2.13809, 5);
    expect(sampleStdDev([5])).toBeNull();
    // y = 1 + 2x exactly
    expect(linearFit([0, 1, 2], [1, 3, 5])).toEqual({ intercept: 1, slope: 2, n: 3 });
    expect(linearFit([1, 1], [1, 2])).toBeNull();
    expect(round(2.675, 2)).toBe(2.68); // half away from zero despite 2.675 being 2.67499… in binary
    expect(round(-1.25, 1)).toBe(-1.3);
  });
});

describe('calendar', () => {
  it('counts days and ages from the placement', () => {
    expect(daysBetween('2026-02-27', '2026-03-02')).toBe(3);
    expect(addDays('2026-12-30', 3)).toBe('2027-01-02');
    // placed 2026-03-01 at 1 day old → on 2026-03-10 the animals are 1 + 9 = 10 days old
    expect(ageOnDay('2026-03-10', { placedAt: '2026-03-01', ageAtPlacementDays: 1 })).toBe(10);
    expect(ageOnDay('2026-03-10', { placedAt: null, ageAtPlacementDays: 0 })).toBeNull();
  });
});

const hour = (h: string, localDay: string, mean: number, readingCount = 60, min = mean - 1, max = mean + 1): BarnHour => ({
  hour: h,
  localDay,
  mean,
  min,
  max,
  readingCount,
});

describe('climate', () => {
  it('weights each hour by its readings for the window mean', () => {
    const stats = metricStats([hour('2026-03-01T00:00:00.000Z', '2026-03-01', 20, 60, 18, 22), hour('2026-03-01T01:00:00.000Z', '2026-03-01', 26, 30, 25, 30)]);
    // (20·60 + 26·30) / 90 = (1200 + 780) / 90 = 22.0; min 18; max 30
    expect(stats).toEqual({ mean: 22, min: 18, max: 30, hours: 2, readings: 90 });
    expect(metricStats([])).toBeNull();
  });

  it('picks the comfort band for the age from the species table; the farm band only without an age', () => {
    const bands = speciesReference.broiler.comfortBands;
    expect(comfortBand(null, bands, 0)).toEqual({ minC: 30, maxC: 34 });
    expect(comfortBand(null, bands, 4)).toEqual({ minC: 28, maxC: 32 });
    expect(comfortBand(null, bands, 40)).toEqual({ minC: 18, maxC: 22 });
    expect(comfortBand(null, bands, null)).toBeNull();
    // Issue 10 changed this on purpose: a farm band no longer overrides every age (it used to give
    // 20–25 °C to day-old chicks); it stands in only when the age is unknown.
    expect(comfortBand({ minC: 20, maxC: 25 }, bands, 0)).toEqual({ minC: 30, maxC: 34 });
    expect(comfortBand({ minC: 20, maxC: 25 }, bands, null)).toEqual({ minC: 20, maxC: 25 });
  });

  it('uses pig room temperatures by production stage, not the piglet creep', () => {
    const pigs = speciesReference.swine.comfortBands;
    // Farrowing room (days 0–27): 18–24 °C for the sow; the old table said 28–32 °C (the creep).
    expect(comfortBand(null, pigs, 3)).toEqual({ minC: 18, maxC: 24 });
    expect(comfortBand(null, pigs, 30)).toEqual({ minC: 24, maxC: 28 }); // weaners just after weaning
    expect(comfortBand(null, pigs, 50)).toEqual({ minC: 21, maxC: 26 });
    expect(comfortBand(null, pigs, 90)).toEqual({ minC: 17, maxC: 22 }); // growers
    expect(comfortBand(null, pigs, 150)).toEqual({ minC: 15, maxC: 21 }); // finishers
    // A normal farrowing room at 20–22 °C, litters 0–2 days old: no hour outside (the old table: 100 % below).
    const placement = { placedAt: '2026-03-01', ageAtPlacementDays: 0 };
    const room = [0, 1, 2].flatMap((d) => ['08', '14'].map((h) => hour(`2026-03-0${1 + d}T${h}:00:00.000Z`, `2026-03-0${1 + d}`, h === '14' ? 22 : 20)));
    expect(comfortHours(room, { farmBand: null, speciesBands: pigs, placement })).toMatchObject({
      hoursEvaluated: 6,
      hoursBelow: 0,
      hoursAbove: 0,
      shareOutsidePct: 0,
    });
  });

  it('counts hours below and above the band of the animals age on each day', () => {
    const placement = { placedAt: '2026-03-01', ageAtPlacementDays: 0 };
    const hours = [
      hour('2026-03-01T10:00:00.000Z', '2026-03-01', 29.5), // age 0, band 30–34: below
      hour('2026-03-05T10:00:00.000Z', '2026-03-05', 31), //   age 4, band 28–32: inside
      hour('2026-03-10T10:00:00.000Z', '2026-03-10', 30), //   age 9, band 25–29: above
      hour('2026-03-10T11:00:00.000Z', '2026-03-10', 27), //   age 9, band 25–29: inside
    ];
    expect(comfortHours(hours, { farmBand: null, speciesBands: speciesReference.broiler.comfortBands, placement })).toEqual({
      bandSource: 'species_age_table',
      hoursEvaluated: 4,
      hoursBelow: 1,
      hoursAbove: 1,
      hoursOutside: 2,
      shareOutsidePct: 50, // 2 / 4
      bandAtStart: { minC: 30, maxC: 34 },
      bandAtEnd: { minC: 25, maxC: 29 },
    });
    // Issue 10: the farm's band 20–25 °C no longer wins over the age table (it made all four hours
    // "above"); with a placement date the table decides, as above.
    const farm = comfortHours(hours, { farmBand: { minC: 20, maxC: 25 }, speciesBands: speciesReference.broiler.comfortBands, placement });
    expect(farm).toMatchObject({ bandSource: 'species_age_table', hoursAbove: 1, hoursBelow: 1, shareOutsidePct: 50 });
    // Without a placement date it stands in: 29.5, 31, 30, 27 are all above 25.
    const noAge = { placedAt: null, ageAtPlacementDays: 0 };
    expect(comfortHours(hours, { farmBand: { minC: 20, maxC: 25 }, speciesBands: speciesReference.broiler.comfortBands, placement: noAge })).toMatchObject({
      bandSource: 'farm',
      hoursAbove: 4,
      shareOutsidePct: 100,
    });
    // No placement and no farm band: nothing to compare with.
    expect(
      comfortHours(hours, { farmBand: null, speciesBands: speciesReference.broiler.comfortBands, placement: { placedAt: null, ageAtPlacementDays: 0 } }),
    ).toBeNull();
  });
});

describe('feed and uniformity', () => {
  it('feed per animal per day over the days with feed', () => {
    // 100 + 120 = 220 kg over 2 feed days (the 0 kg day is not a feed day) for 1000 animals:
    // 220 / 1000 / 2 = 0.11 kg
    expect(
      feedKpis(
        [
          { day: '2026-03-01', kg: 100 },
          { day: '2026-03-02', kg: 120 },
          { day: '2026-03-03', kg: 0 },
        ],
        1000,
      ),
    ).toEqual({
      totalKg: 220,
      feedDays: 2,
      perAnimalPerDayKg: 0.11,
    });
    expect(feedKpis([{ day: '2026-03-01', kg: 100 }], null).perAnimalPerDayKg).toBeNull();
  });

  it('CV and the share within ±10 % of the mean', () => {
    // mean = (1.8 + 2.0 + 2.2 + 2.0 + 2.5) / 5 = 10.5 / 5 = 2.1
    // squares of deviations: 0.09 + 0.01 + 0.01 + 0.01 + 0.16 = 0.28; / (5 − 1) = 0.07; sd = 0.264575
    // CV = 0.264575 / 2.1 · 100 = 12.599 % → 12.6
    // ±10 % of 2.1 = [1.89, 2.31]: 2.0, 2.2, 2.0 inside; 1.8 and 2.5 outside → 3 / 5 = 60 %
    expect(uniformity([1.8, 2.0, 2.2, 2.0, 2.5])).toEqual({ weighed: 5, meanKg: 2.1, cvPct: 12.6, withinBandPct: 60, bandPct: 10 });
    expect(uniformity([2])).toBeNull();
  });
});

// Weights that lie exactly on W(t) = 6.5 · exp(−5 · e^(−0.05·t)):
//   t = 10: e^(−0.5) = 0.606531; ·5 = 3.032653; e^(−3.032653) = 0.048188; ·6.5 = 0.313219 kg
//   t = 20: e^(−1.0) = 0.367879; ·5 = 1.839397; e^(−1.839397) = 0.158913; ·6.5 = 1.032936 kg
//   t = 30: e^(−1.5) = 0.223130; ·5 = 1.115651; e^(−1.115651) = 0.327702; ·6.5 = 2.130063 kg
const curve = { asymptoteKg: 6.5, b: 5, k: 0.05 };
const W = (t: number) => gompertzWeight(curve, t);

describe('growth curve', () => {
  it('recovers b and k of points on a Gompertz curve through the double-log line', () => {
    expect(W(10)).toBeCloseTo(0.313219, 5);
    expect(W(20)).toBeCloseTo(1.032936, 5);
    expect(W(30)).toBeCloseTo(2.130063, 5);
    // ln ln(6.5 / W) = ln 5 − 0.05·t is a straight line, so least squares gives it back exactly.
    const fit = fitGompertz(
      [10, 20, 30].map((t) => ({ t, weightKg: W(t) })),
      6.5,
    );
    expect(fit?.b).toBeCloseTo(5, 9);
    expect(fit?.k).toBeCloseTo(0.05, 9);
    expect(fit?.rmseKg).toBeCloseTo(0, 9);
    // t for 2.5 kg = (ln 5 − ln ln(6.5 / 2.5)) / 0.05 = (1.609438 + 0.045510) / 0.05 = 33.0989
    expect(timeToWeight(curve, 2.5)).toBeCloseTo(33.0989, 3);
    expect(timeToWeight(curve, 7)).toBeNull(); // beyond the asymptote
    // Shrinking weights have no growth curve.
    expect(
      fitGompertz(
        [
          { t: 1, weightKg: 2 },
          { t: 2, weightKg: 1.5 },
        ],
        6.5,
      ),
    ).toBeNull();
  });

  it('ADG, FCR, days to target, forecast and feed needed', () => {
    const placement = { placedAt: '2026-03-01', ageAtPlacementDays: 0 }; // age t = days since 03-01
    const dailyWeights: DailyWeight[] = [
      { day: '2026-03-11', sessions: 40, meanKg: W(10) },
      { day: '2026-03-21', sessions: 40, meanKg: W(20) },
      { day: '2026-03-31', sessions: 40, meanKg: W(30) },
    ];
    // 100 kg on each day 03-11 … 03-30 (20 days, the feed that grew the flock to the 03-31 weight),
    // plus 500 kg on 03-31 itself, which must not count towards the FCR.
    const dailyFeed = Array.from({ length: 20 }, (_, i) => ({ day: addDays('2026-03-11', i), kg: 100 })).concat([{ day: '2026-03-31', kg: 500 }]);
    const { growth, forecast } = growthKpis({
      dailyWeights,
      dailyFeed,
      animalCount: 1000,
      placement,
      asymptoteKg: 6.5,
      targetWeightKg: 2.5,
      forecastDate: '2026-04-07', // age 37
    });
    // ADG = (2.130063 − 0.313219) / 20 days = 0.0908422 kg = 90.8 g/day
    // FCR = (2000 kg / 1000 animals) / (2.130063 − 0.313219) = 2 / 1.816843 = 1.1008 → 1.101
    // days to 2.5 kg = 33.0989 − 30 = 3.0989 → 3.1; reached on 03-31 + ⌈3.0989⌉ = 04-04
    expect(growth).toEqual({
      weighingDays: 3,
      firstDay: '2026-03-11',
      lastDay: '2026-03-31',
      firstMeanWeightKg: 0.313,
      meanWeightKg: 2.13,
      adgGPerDay: 90.8,
      fcr: 1.101,
      targetWeightKg: 2.5,
      daysToTarget: 3.1,
      targetReachedOn: '2026-04-04',
    });
    // W(37): e^(−1.85) = 0.157237; ·5 = 0.786186; e^(−0.786186) = 0.455596; ·6.5 = 2.961264 kg
    // feed needed = (2.961264 − 2.130063) · 1.100810 · 1000 = 915.0 kg
    expect(forecast).toMatchObject({
      method: 'gompertz_fixed_asymptote',
      timeAxis: 'age',
      b: 5,
      k: 0.05,
      fittedPoints: 3,
      rmseKg: 0,
      forecastDate: '2026-04-07',
    });
    expect(forecast?.weightAtForecastKg).toBeCloseTo(2.961, 3);
    expect(forecast?.feedNeededKg).toBeCloseTo(915.0, 1);
  });

  it('without a placement date, t counts days since the first weighing and the forecast is the same', () => {
    const dailyWeights: DailyWeight[] = [10, 20, 30].map((t) => ({ day: addDays('2026-03-01', t), sessions: 5, meanKg: W(t) }));
    const input = { dailyWeights, dailyFeed: [], animalCount: null, asymptoteKg: 6.5, targetWeightKg: 2.5, forecastDate: '2026-04-07' };
    const byAge = growthKpis({ ...input, placement: { placedAt: '2026-03-01', ageAtPlacementDays: 0 } });
    const byDays = growthKpis({ ...input, placement: { placedAt: null, ageAtPlacementDays: 0 } });
    expect(byDays.forecast?.timeAxis).toBe('days_since_first_weighing');
    expect(byDays.forecast?.weightAtForecastKg).toBeCloseTo(byAge.forecast!.weightAtForecastKg, 6);
    expect(byDays.growth.daysToTarget).toBe(byAge.growth.daysToTarget);
    expect(byDays.growth.fcr).toBeNull(); // no animal count, no feed
  });

  it('a flock already at the target weight has 0 days to go', () => {
    const { growth } = growthKpis({
      dailyWeights: [{ day: '2026-03-01', sessions: 3, meanKg: 2.6 }],
      dailyFeed: [],
      animalCount: 10,
      placement: { placedAt: null, ageAtPlacementDays: 0 },
      asymptoteKg: 6.5,
      targetWeightKg: 2.5,
      forecastDate: '2026-03-08',
    });
    expect(growth).toMatchObject({ daysToTarget: 0, targetReachedOn: '2026-03-01', adgGPerDay: null });
  });
});

describe('anomalies', () => {
  it('flags a station whose camera reads more than 10 % off its scale (median over 5+ sessions)', () => {
    // scale 2.0 kg; vision 2.3, 2.25, 2.2, 2.4, 1.9 → +15, +12.5, +10, +20, −5 % → median +12.5 %
    // |d| > 10 %: 15, 12.5, 20 → 3 of 5 = 60 %
    const pairs = [2.3, 2.25, 2.2, 2.4, 1.9].map((v) => ({ scaleKg: 2, visionKg: v }));
    expect(scaleVisionCheck(pairs)).toEqual({ sessions: 5, medianDifferencePct: 12.5, shareOverThresholdPct: 60, thresholdPct: 10, disagree: true });
    expect(scaleVisionCheck(pairs.slice(0, 4))?.disagree).toBe(false); // fewer than 5 sessions
    expect(scaleVisionCheck([])).toBeNull();
  });

  it('flags growth flattening: the last week gained half what the earlier curve expects', () => {
    const placement = { placedAt: '2026-03-01', ageAtPlacementDays: 0 };
    // On the curve at ages 10, 13, 16, 19 (the "earlier" days, ≤ last − 7); at age 26 only half of
    // the expected gain W(26) − W(19) = 1.663865 − 0.939974 = 0.723891 kg, i.e. 0.361945 kg.
    const days: DailyWeight[] = [10, 13, 16, 19].map((t) => ({ day: addDays('2026-03-01', t), sessions: 20, meanKg: W(t) }));
    days.push({ day: addDays('2026-03-01', 26), sessions: 20, meanKg: W(19) + (W(26) - W(19)) / 2 });
    expect(growthFlattening(days, placement, 6.5)).toEqual({
      recentDays: 7,
      fromDay: '2026-03-20',
      toDay: '2026-03-27',
      observedGainKg: 0.362,
      expectedGainKg: 0.724,
      ratioPct: 50,
      thresholdPct: 70,
      flattening: true,
    });
    // Growing on the curve: ratio 100 %, no flattening.
    const onCurve = days.slice(0, 4).concat([{ day: addDays('2026-03-01', 26), sessions: 20, meanKg: W(26) }]);
    expect(growthFlattening(onCurve, placement, 6.5)).toMatchObject({ ratioPct: 100, flattening: false });
    // Too little history before the last week.
    expect(growthFlattening(days.slice(2), placement, 6.5)).toBeNull();
  });
});
