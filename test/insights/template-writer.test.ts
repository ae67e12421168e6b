/**
 * The template writer (the default generator and every fallback) and the number check an LLM's
 * answer must pass: the template is deterministic, schema-valid and — for any summary the builder
 * can produce — quotes only the summary's own numbers.
 */
import fc from 'fast-check';
import { insightSchema } from '../../insights/insight-schema';
import { addDays } from '../../domain/calendar/days';
import { buildFeatureSummary } from '../../insights/kpis/summary';
import { checkInsightNumbers, numbersInText, summaryNumbers } from '../../insights/llm/number-check';
import { writeTemplateInsight } from '../../insights/llm/template-writer';
import { sampleInputs, sampleSummary } from './fixtures';

describe('the number check', () => {
  it('reads quantities, not digits glued to words, from text', () => {
    const found = numbersInText('barn-2 on 2026-03-31 gained 1,234.5 kg (−5 %), CO2 at 800 ppm; 3rd day');
    expect(found.map((q) => q.value)).toEqual([2, 2026, 3, 31, 1234.5, -5, 800, 3]);
    expect(found.map((q) => q.decimals)).toEqual([0, 0, 0, 0, 1, 0, 0, 0]);
  });

  it('accepts a summary number as written or rounded, and nothing else', () => {
    const summary = sampleSummary();
    const allowed = summaryNumbers(summary);
    expect(allowed).toContain(76.7); // barn-1 ADG
    expect(allowed).toContain(2026); // from the dates
    const insight = {
      title: 't',
      summary: 'ADG 76.7 g, FCR 1.15 (1.148 unrounded), 1.1 rounded further, 77 as a whole number.',
      findings: [],
      recommendations: [],
      key_metrics: [{ label: 'x', value: 1.148, unit: '', barn_id: null }],
    };
    expect(checkInsightNumbers(insight, summary)).toEqual({ ok: true, unmatched: [], checked: 6 });
    // 76.8 is not 76.7 at one decimal; 1.149 is not 1.148 at three.
    const wrong = { ...insight, summary: 'ADG 76.8 g', key_metrics: [{ label: 'x', value: 1.149, unit: '', barn_id: null }] };
    expect(checkInsightNumbers(wrong, summary)).toEqual({ ok: false, unmatched: ['76.8', '1.149'], checked: 2 });
  });
});

describe('the template writer', () => {
  it('is deterministic and schema-valid, and passes its own number check', () => {
    const summary = sampleSummary();
    const a = writeTemplateInsight(summary);
    expect(writeTemplateInsight(sampleSummary())).toEqual(a);
    expect(insightSchema.safeParse(a).success).toBe(true);
    expect(checkInsightNumbers(a, summary).ok).toBe(true);
    // The most severe findings come first, and the anomalies of the summary are all reported.
    expect(a.findings[0]).toMatchObject({ severity: 'critical', topic: 'growth', barn_id: 'barn-2' });
    expect(a.findings.filter((f) => f.topic === 'anomaly').map((f) => f.barn_id)).toEqual(['barn-1', 'barn-2']);
    expect(a.recommendations[0].priority).toBe('high');
  });

  it('for any summary the builder produces, quotes only numbers of that summary (property)', () => {
    const barnArb = fc.record({
      temps: fc.array(fc.double({ min: 5, max: 40, noNaN: true }), { minLength: 0, maxLength: 60 }),
      feed: fc.array(fc.double({ min: 0, max: 5000, noNaN: true }), { minLength: 0, maxLength: 20 }),
      weights: fc.array(fc.double({ min: 0.03, max: 6, noNaN: true }), { minLength: 0, maxLength: 20 }),
      animals: fc.option(fc.integer({ min: 1, max: 50000 }), { nil: null }),
      placed: fc.boolean(),
      pairs: fc.array(fc.tuple(fc.double({ min: 0.1, max: 5, noNaN: true }), fc.double({ min: 0.1, max: 5, noNaN: true })), { maxLength: 12 }),
    });
    fc.assert(
      fc.property(
        fc.array(barnArb, { minLength: 1, maxLength: 3 }),
        fc.option(fc.tuple(fc.integer({ min: 10, max: 20 }), fc.integer({ min: 21, max: 30 })), { nil: null }),
        (barns, band) => {
          const base = sampleInputs();
          const inputs = {
            ...base,
            farm: { ...base.farm, comfortMinC: band ? band[0] : null, comfortMaxC: band ? band[1] : null },
            barns: barns.map((b, i) => ({
              barnId: `barn-${i + 1}`,
              name: `House ${i + 1}`,
              animalCount: b.animals,
              placedAt: b.placed ? '2026-02-20' : null,
              ageAtPlacementDays: 1,
              temperatureHours: b.temps.map((t, h) => ({
                hour: `2026-03-0${1 + Math.floor(h / 24)}T${String(h % 24).padStart(2, '0')}:00:00.000Z`,
                localDay: `2026-03-0${1 + Math.floor(h / 24)}`,
                mean: t,
                min: t - 1,
                max: t + 1,
                readingCount: 60,
              })),
              humidityHours: [],
              dailyFeed: b.feed.map((kg, d) => ({ day: addDays('2026-03-01', d), kg })),
              feedEvents: b.feed.length,
              dailyWeights: [...b.weights].sort((x, y) => x - y).map((w, d) => ({ day: addDays('2026-03-01', d), sessions: 10, meanKg: w })),
              lastDayWeightsKg: b.weights.slice(0, 8),
              stations: [{ stationId: `st-${i}`, pairs: b.pairs.map(([s, v]) => ({ scaleKg: s, visionKg: v })) }],
            })),
          };
          const summary = buildFeatureSummary(inputs);
          const insight = writeTemplateInsight(summary);
          expect(insightSchema.safeParse(insight).success).toBe(true);
          const check = checkInsightNumbers(insight, summary);
          expect(check.unmatched).toEqual([]);
        },
      ),
      { numRuns: 150, seed: 20260301 },
    );
  });
});
