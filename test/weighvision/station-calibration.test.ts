/**
 * The station calibration by hand (weighvision/station-calibration.ts): the factor is the median of
 * the recent accepted scale ÷ vision ratios, one bad session cannot set it, and a steady trend in
 * the ratios is flagged as drift instead of being learnt. Every figure is worked in the comments.
 */
import {
  calibrationPolicy,
  calibrationStep,
  driftOver,
  sessionRatio,
  theilSenSlope,
  type RatioVerdict,
  type StationCalibration,
} from '../../weighvision/station-calibration';
import type { SessionResult } from '../../weighvision/session-contract';

/** Runs the ratios through a station the way the activity does: history in, verdict and factor out. */
function teach(ratios: number[], start: StationCalibration = { factor: 1, sessions: 0 }) {
  const stored: { ratio: number; verdict: RatioVerdict }[] = [];
  let current = start;
  const steps = [];
  for (const r of ratios) {
    const accepted = stored.filter((s) => s.verdict === 'accepted').map((s) => s.ratio);
    const recent = stored.filter((s) => s.verdict !== 'out_of_bounds').map((s) => s.ratio);
    const step = calibrationStep(
      current,
      { accepted: accepted.slice(-calibrationPolicy.window), recent: recent.slice(-(calibrationPolicy.driftWindow - 1)) },
      r,
    );
    if (step.ratio) stored.push({ ratio: step.ratio.value, verdict: step.ratio.verdict });
    current = step.next;
    steps.push(step);
  }
  return { steps, current, verdicts: steps.map((s) => s.ratio?.verdict), drift: steps.map((s) => s.driftSuspected) };
}

describe('one early bad session', () => {
  it('no longer moves the factor: the median of the first ratios ignores it', () => {
    // True ratio of this station ≈ 1.05 (the model reads 5 % light). The first session's animal
    // stood half off the scale: 0.6. Before, the running average went half-way on the first
    // session, 1 + 0.5 × (0.6 − 1) = 0.80, and after six sessions was still at 0.976
    // (0.80 → 0.88 → 0.925 → 0.95 → 0.9633 → 0.9757 with weights 1/3 … 1/7).
    const { steps, current, verdicts, drift } = teach([0.6, 1.04, 1.06, 1.05, 1.03, 1.05]);
    // Sessions 1 and 2: fewer than minSessions (3) ratios, the factor stays 1.
    expect(steps[0].next.factor).toBe(1);
    expect(steps[1].next.factor).toBe(1);
    // Session 3: median(0.6, 1.04, 1.06) = 1.04.
    expect(steps[2].next.factor).toBeCloseTo(1.04, 10);
    // Session 4: median(0.6, 1.04, 1.05, 1.06) = (1.04 + 1.05) / 2 = 1.045.
    expect(steps[3].next.factor).toBeCloseTo(1.045, 10);
    // Session 5: median(0.6, 1.03, 1.04, 1.05, 1.06) = 1.04.
    expect(steps[4].next.factor).toBeCloseTo(1.04, 10);
    // Session 6: median(0.6, 1.03, 1.04, 1.05, 1.05, 1.06) = (1.04 + 1.05) / 2 = 1.045 — within
    // 0.5 % of the truth.
    expect(current).toEqual({ factor: expect.closeTo(1.045, 10), sessions: 6 });
    expect(verdicts).toEqual(['accepted', 'accepted', 'accepted', 'accepted', 'accepted', 'accepted']);
    // Session 6 is the first with a drift window (6 ratios). Its 15 pairwise slopes, sorted:
    // −0.02, −0.015, −0.01, −0.0033, −0.0033, 0, 0.0025, 0.005, 0.02, 0.02 (the pairs without 0.6)
    // and 0.09, 0.1075, 0.15, 0.23, 0.44 (0.6 with each later one): the median, the 8th, is
    // 0.005; over the window 0.005 × 5 = 0.025 < 0.04 × 1.045 = 0.0418: no drift.
    expect(theilSenSlope([0.6, 1.04, 1.06, 1.05, 1.03, 1.05])).toBeCloseTo(0.005, 10);
    expect(drift).toEqual([false, false, false, false, false, false]);
  });

  it('is an outlier once the factor is established, and teaches nothing', () => {
    // Five sessions at ratio 1.00 (factor median 1.00), then a session at 0.70:
    // |0.70 / 1.00 − 1| = 0.30 > band 0.20 → outlier, the factor stays 1.00.
    const { steps, current, verdicts, drift } = teach([1, 1, 1, 1, 1, 0.7]);
    expect(verdicts).toEqual(['accepted', 'accepted', 'accepted', 'accepted', 'accepted', 'outlier']);
    expect(steps[5].next).toEqual({ factor: 1, sessions: 5 });
    expect(current.factor).toBe(1);
    // Its drift window (1, 1, 1, 1, 1, 0.7): 10 pairwise slopes 0 and 5 negative ones (−0.3/k);
    // the 8th of 15 sorted is 0: no trend.
    expect(drift[5]).toBe(false);
  });

  it('refuses a ratio outside 0.5–2 at any time, and keeps it out of the trend', () => {
    const { verdicts, current } = teach([0.4, 2.5, 1.02]);
    expect(verdicts).toEqual(['out_of_bounds', 'out_of_bounds', 'accepted']);
    expect(current).toEqual({ factor: 1, sessions: 1 }); // one accepted ratio: below minSessions
  });

  it('keeps what the older running average taught until three new sessions have spoken', () => {
    const { steps } = teach([1.1, 1.12, 1.08], { factor: 1.2, sessions: 40 });
    expect(steps.map((s) => s.next.factor)).toEqual([1.2, 1.2, expect.closeTo(1.1, 10)]); // median(1.1, 1.12, 1.08)
    expect(steps[2].next.sessions).toBe(43);
  });
});

describe('a drifting scale', () => {
  it('is flagged over ten sessions and not absorbed into the factor', () => {
    // The camera is right (true ratio 1.00); the scale reads 1 % more each session: ratios 1.00,
    // 1.01, …, 1.09.
    const ratios = Array.from({ length: 10 }, (_, i) => 1 + i / 100);
    const { steps, current, verdicts, drift } = teach(ratios);
    // Sessions 1–3 accepted: the factor becomes median(1.00, 1.01, 1.02) = 1.01.
    expect(steps[2].next.factor).toBeCloseTo(1.01, 10);
    // Sessions 4–5 (windows of 4 and 5 ratios: too short for a trend) accepted:
    // median(1.00 … 1.03) = 1.015, median(1.00 … 1.04) = 1.02.
    expect(steps[3].next.factor).toBeCloseTo(1.015, 10);
    expect(steps[4].next.factor).toBeCloseTo(1.02, 10);
    // Session 6: window 1.00 … 1.05, every pairwise slope 0.01, trend 0.01 × 5 = 0.05 ≥
    // 0.04 × 1.02 = 0.0408 → drift: flagged, not learnt. Sessions 7–10: trends 0.06 … 0.09, the
    // same. The factor stays 1.02; a running average would have followed the scale.
    expect(drift).toEqual([false, false, false, false, false, true, true, true, true, true]);
    expect(verdicts).toEqual(['accepted', 'accepted', 'accepted', 'accepted', 'accepted', 'drift', 'drift', 'drift', 'drift', 'drift']);
    expect(current).toEqual({ factor: expect.closeTo(1.02, 10), sessions: 5 });
    expect(driftOver(ratios)).toBeCloseTo(0.09, 10);
  });

  it('a steady station with noise is not drift', () => {
    // Alternating ±2 %: the pairwise slopes are symmetric around 0 (the median of the 45 is 0).
    const ratios = [1.02, 0.98, 1.02, 0.98, 1.02, 0.98, 1.02, 0.98, 1.02, 0.98];
    const { drift, current } = teach(ratios);
    expect(drift.every((d) => !d)).toBe(true);
    expect(current.factor).toBeCloseTo(1, 10); // median of five 1.02 and five 0.98 = 1.00
  });
});

describe('sessionRatio', () => {
  const base: SessionResult = {
    status: 'finalized',
    readingCount: 1,
    stableReadingCount: 1,
    scaleMedianKg: 105,
    visionRawKg: 100,
    weightKg: 105,
    weightSource: 'scale',
    qualityFlags: [],
    imagesInferred: 1,
    missingImages: 0,
  };
  it('is scale ÷ raw vision for a session weighed by the scale', () => {
    expect(sessionRatio(base)).toBeCloseTo(1.05, 10);
  });
  it('is nothing when the scale did not make the weight (vetoed, missing) or the session failed', () => {
    expect(sessionRatio({ ...base, weightSource: 'vision' })).toBeUndefined();
    expect(sessionRatio({ ...base, status: 'timed_out' })).toBeUndefined();
    expect(sessionRatio({ ...base, visionRawKg: undefined })).toBeUndefined();
  });
});
