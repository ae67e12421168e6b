/**
 * Per-station recalibration of the vision estimate by the scale (docs/model-card.md): a camera's
 * height, lens and the breed on its scale bias the model the same way session after session, and
 * the scale knows the truth. Each session with both a stable scale weight and a vision estimate of
 * one whole animal moves the station's factor (scale / raw vision) towards what it saw.
 *
 * - The average is running over the first sessions (1/(n+2): half-way on the first) and then
 *   exponential with weight 0.1, so it settles quickly and then follows slow drift.
 * - One session's ratio and the factor itself are bounded to 0.5–2: a sow standing half off the
 *   scale must not teach the station that every pig is twice as heavy.
 */
import type { SessionResult } from './session-contract';

export interface StationCalibration {
  factor: number;
  sessions: number;
}

export const calibrationBounds = { min: 0.5, max: 2 } as const;
const slowestWeight = 0.1;

const clamp = (v: number) => Math.min(calibrationBounds.max, Math.max(calibrationBounds.min, v));

/** The station's next calibration after this session, or undefined when the session teaches nothing. */
export function recalibrate(current: StationCalibration, session: SessionResult): StationCalibration | undefined {
  if (session.status !== 'finalized' || session.weightSource !== 'scale') return undefined;
  if (!session.scaleMedianKg || !session.visionRawKg || session.visionRawKg <= 0) return undefined;
  const ratio = clamp(session.scaleMedianKg / session.visionRawKg);
  const weight = Math.max(slowestWeight, 1 / (current.sessions + 2));
  return { factor: clamp(current.factor + weight * (ratio - current.factor)), sessions: current.sessions + 1 };
}
