/**
 * The flock KPIs in the feature summary: with a recorded flock the headline KPIs stand on it (head
 * count, animal-days, regression ADG, flock FCR, sampled uniformity, evidence-checked forecast);
 * without one the summary is exactly what it was (the existing tests pin that output).
 */
import { parseFeatureSummary } from '../../insights/feature-summary';
import { addDays } from '../../domain/calendar/days';
import { buildFeatureSummary, type FlockAggregates } from '../../insights/kpis/summary';
import { sampleInputs, sampleSummary } from './fixtures';

// barn-1 of the fixture: 12,000 broilers placed 02-14 00:00 at day old, weighed daily 03-01 … 03-14
// (ages 15 … 28) on the curve 6.5 · exp(−5.04 · e^(−0.0436 t)), 30 sessions a day; feed 900 + 25d +
// 7(d mod 3) kg on window day d = 0 … 13 (Σ 12600 + 2275 + 91 = 14966 kg).
function withFlock(): ReturnType<typeof sampleInputs> {
  const input = sampleInputs();
  const barn = input.barns[0];
  const losses = Array.from({ length: 29 }, (_, i) => ({ day: addDays('2026-02-14', i), deaths: 5, culls: 0 })); // 02-14 … 03-14
  const before = Array.from({ length: 15 }, (_, i) => ({ day: addDays('2026-02-14', i), kg: 400 })); // 02-14 … 02-28: 6000 kg
  const flock: FlockAggregates = {
    flock: {
      flockId: 'flock-7',
      placedAt: '2026-02-14T00:00:00Z',
      headPlaced: 12_000,
      ageAtPlacementDays: 0,
      species: 'broiler',
      breed: 'Ross 308',
      placementWeightKg: 0.042,
      depopulatedAt: null,
    },
    losses,
    feedSincePlacement: [...before, ...barn.dailyFeed],
    weighings: barn.lastDayWeightsKg.map((w, i) => ({ sessionId: `s-${i}`, stationId: 'st-1', day: '2026-03-14', weightKg: w })),
  };
  barn.flock = flock;
  return input;
}

it('puts the flock KPIs in the summary and the headline KPIs on the flock', () => {
  const summary = parseFeatureSummary(buildFeatureSummary(withFlock()));
  const [b1, b2] = summary.barns;
  // Head count at the end of 03-14: 12000 − 5 · 29 days = 11855 (not barns.animal_count 12000).
  expect(b1.animal_count).toBe(11855);
  expect(summary.farm.animals).toBe(11855 + 12000);
  // Window day 03-01 + i is day 15 + i of the flock: average head 12000 − 5(15 + i) − 2.5 = 11922.5 − 5i;
  // Σ over i = 0 … 13 = 14 · 11922.5 − 5 · 91 = 166460 animal-days; 14966 / 166460 = 0.08991 kg
  // (about 90 g a day for 0.5–1.5 kg birds; the old formula said 14966 / 12000 / 14 = 0.0891).
  expect(b1.feed.per_animal_per_day_kg).toBe(0.0899);
  expect(b1.flock?.feed).toEqual({ feed_kg: 14966, animal_days: 166460, per_animal_day_kg: 0.0899, days_in_barn: 14, zero_feed_days: [] });
  // Deaths 02-14 … 03-14: 145 of 12000 = 1.208 %; livability 98.792 %; in the window 14 · 5 = 70.
  expect(b1.flock?.mortality).toEqual({ deaths: 145, culls: 0, mortality_pct: 1.208, culls_pct: 0, depletion_pct: 1.208, livability_pct: 98.792 });
  expect(b1.flock?.period_losses.deaths).toBe(70);
  // FCR as of 03-14 (age 28, W = 1.46966 kg): feed before 03-14 = 6000 + 14966 − 1232 = 19734 kg;
  // alive 12000 − 5 · 28 = 11860; gain 11860 · 1.46966 − 12000 · 0.042 = 16926.2 kg → 1.166.
  expect(b1.flock?.fcr).toMatchObject({ as_of_day: '2026-03-14', feed_kg: 19734, cumulative: 1.166, placement_weight_source: 'recorded' });
  expect(b1.flock!.fcr!.mortality_adjusted!).toBeLessThan(1.166);
  expect(b1.growth.fcr).toBe(1.166);
  // EPEF with livability before 03-14 (140 lost → 98.833 %): 98.833 · 1.46966 · 100 / (28 · 1.166) = 444.9
  expect(b1.flock?.epef).toBeCloseTo(444.9, 1);
  // 30 sessions on the last day: enough for uniformity; 14 weighing days over 13 days: a forecast.
  expect(b1.flock?.uniformity).toMatchObject({ status: 'ok', n: 30, sample_unit: 'session' });
  expect(b1.growth.uniformity).toMatchObject({ weighed: 30 });
  expect(b1.flock?.forecast).toMatchObject({ status: 'ok', weighing_days: 14, span_days: 13 });
  expect(b1.growth.days_to_target).toBe(b1.flock?.forecast?.status === 'ok' ? b1.flock.forecast.days_to_target : 'no forecast');
  // 1.470 kg at day 28 against Ross 308's 1.77: −17 % → below.
  expect(b1.flock?.versus_standard).toMatchObject({ standard_key: 'ross_308', selected_by: 'breed', age_days: 28, verdict: 'below' });
  // The ADG is the regression's.
  expect(b1.growth.adg_g_per_day).toBe(b1.flock?.adg?.g_per_day);
  // barn-2 has no flock: exactly the summary it had.
  expect(b2).toEqual(sampleSummary().barns[1]);
  expect(b2.flock).toBeUndefined();
});

it('refuses the forecast and the uniformity of a barn with thin evidence', () => {
  const input = withFlock();
  const barn = input.barns[0];
  barn.dailyWeights = barn.dailyWeights.filter((d) => d.day >= '2026-03-12'); // 3 weighing days
  barn.flock!.weighings = barn.flock!.weighings.slice(0, 2);
  const b1 = parseFeatureSummary(buildFeatureSummary(input)).barns[0];
  expect(b1.flock?.forecast).toEqual({
    status: 'insufficient_evidence',
    reason: 'too_few_weighing_days',
    weighing_days: 3,
    span_days: 2,
    minimum_days: 5,
    minimum_span_days: 7,
  });
  expect(b1.forecast).toBeNull();
  expect(b1.growth.days_to_target).toBeNull();
  expect(b1.growth.target_reached_on).toBeNull();
  expect(b1.flock?.uniformity).toMatchObject({ status: 'insufficient_sample', n: 2, minimum: 30 });
  expect(b1.growth.uniformity).toBeNull();
});

it('keeps the summary without flocks as it was', () => {
  // No barn has a flock: no flock key anywhere, and the builder is deterministic.
  const s = sampleSummary();
  expect(s.barns.every((b) => !('flock' in b))).toBe(true);
  expect(buildFeatureSummary(sampleInputs())).toEqual(s);
});
