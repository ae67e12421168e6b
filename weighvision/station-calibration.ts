/**
 * Per-station recalibration of the vision estimate by the scale (docs/weighvision.md): a camera's
 * height, lens and the breed on its scale bias the model the same way session after session, and
 * the scale knows the truth. Each session weighed by the scale with a vision estimate of one whole
 * animal yields a ratio (scale median / raw vision median); the station keeps a history of them.
 *
 * - Robust to outliers: the factor is the median of the last `window` accepted ratios, and only
 *   once there are `minSessions` of them (before that the factor stays what it was: 1, or what the
 *   older running average had taught). After that a ratio more than `band` away from the factor is
 *   an outlier and teaches nothing. One early bad session cannot set the factor any more.
 * - Drift is flagged, not absorbed: over the last `driftWindow` ratios (outliers included, so a
 *   steady trend cannot hide by being rejected) the Theil–Sen slope (median of pairwise slopes,
 *   robust to a single bad session) times the window's span is the trend. When it reaches
 *   `driftThreshold` of the factor the scale (or camera) is moving: the session is flagged
 *   `scale_drift_suspected` and its ratio is not learnt, so the vision estimate stays an
 *   independent witness and `scale_vision_disagree` fires once the drift is large.
 * - Bounds 0.5–2 on a ratio: a sow standing half off the scale is not evidence of anything.
 *
 * Pure: the activity (activities/weighvision/session.ts) reads the history and writes the verdict.
 */
import { median } from './session-result';
import type { SessionResult } from './session-contract';

export interface StationCalibration {
  factor: number;
  /** Sessions that taught it (accepted ratios). */
  sessions: number;
}

export const calibrationPolicy = {
  min: 0.5,
  max: 2,
  /** Accepted ratios the median is taken over. */
  window: 15,
  /** Accepted ratios before the median replaces the factor. */
  minSessions: 3,
  /** |ratio / factor − 1| above this is an outlier (once the factor is established). */
  band: 0.2,
  /** Ratios (this session's included) the trend is measured over. */
  driftWindow: 10,
  /** Fewer ratios than this say nothing about a trend. */
  minDriftSessions: 6,
  /** Trend over the window, as a share of the factor, that flags drift. */
  driftThreshold: 0.04,
} as const;

/** What the history says of a ratio. out_of_bounds ratios are kept for the record but never looked at again. */
export type RatioVerdict = 'accepted' | 'outlier' | 'out_of_bounds' | 'drift';

export interface StationHistory {
  /** The last `window` accepted ratios, oldest first. */
  accepted: readonly number[];
  /** The last `driftWindow − 1` in-bounds ratios (any verdict but out_of_bounds), oldest first. */
  recent: readonly number[];
}

export interface CalibrationStep {
  /** This session's ratio and its verdict; undefined when the session teaches nothing. */
  ratio?: { value: number; verdict: RatioVerdict };
  /** The station's recent ratios trend beyond driftThreshold. */
  driftSuspected: boolean;
  /** The calibration after this session. */
  next: StationCalibration;
}

/** scale / raw vision of a session weighed by the scale with a usable vision estimate, else undefined. */
export function sessionRatio(session: SessionResult): number | undefined {
  if (session.status !== 'finalized' || session.weightSource !== 'scale') return undefined;
  if (!session.scaleMedianKg || !session.visionRawKg || session.visionRawKg <= 0) return undefined;
  return session.scaleMedianKg / session.visionRawKg;
}

/** Theil–Sen slope per session over values in order, or 0 with fewer than two. */
export function theilSenSlope(values: readonly number[]): number {
  const slopes: number[] = [];
  for (let i = 0; i < values.length; i++) {
    for (let j = i + 1; j < values.length; j++) slopes.push((values[j] - values[i]) / (j - i));
  }
  return median(slopes) ?? 0;
}

/** The change the trend makes across the window, or 0 when the window is too short to tell. */
export function driftOver(values: readonly number[]): number {
  if (values.length < calibrationPolicy.minDriftSessions) return 0;
  return theilSenSlope(values) * (values.length - 1);
}

function factorFrom(accepted: readonly number[], fallback: number): number {
  const last = accepted.slice(-calibrationPolicy.window);
  return last.length >= calibrationPolicy.minSessions ? median(last)! : fallback;
}

/** What this session does to the station's calibration, given its history. */
export function calibrationStep(current: StationCalibration, history: StationHistory, ratio: number | undefined): CalibrationStep {
  const p = calibrationPolicy;
  const inBounds = ratio !== undefined && ratio >= p.min && ratio <= p.max;
  const window = [...history.recent, ...(inBounds ? [ratio] : [])].slice(-p.driftWindow);
  const driftSuspected = Math.abs(driftOver(window)) >= p.driftThreshold * current.factor;
  if (ratio === undefined) return { driftSuspected, next: current };

  let verdict: RatioVerdict = 'accepted';
  if (!inBounds) verdict = 'out_of_bounds';
  else if (history.accepted.length >= p.minSessions && Math.abs(ratio / current.factor - 1) > p.band) verdict = 'outlier';
  else if (driftSuspected) verdict = 'drift';
  if (verdict !== 'accepted') return { ratio: { value: ratio, verdict }, driftSuspected, next: current };

  const accepted = [...history.accepted, ratio];
  return { ratio: { value: ratio, verdict }, driftSuspected, next: { factor: factorFrom(accepted, current.factor), sessions: current.sessions + 1 } };
}
