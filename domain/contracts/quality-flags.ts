/**
 * What can be wrong with a WeighVision image or session (spec §8.4 inference.completed). Kept
 * apart from the zod schemas so the session workflow's bundle can use it without them.
 */
export const qualityFlags = [
  'not_fully_in_frame',
  'multiple_animals',
  'empty_frame',
  'blurred',
  /** Decided by the model's out-of-distribution check, not a quality column: the image is unlike anything it was trained on. */
  'out_of_distribution',
  /** Decided by the session, not the model: scale and vision estimates too far apart. */
  'scale_vision_disagree',
  /** Decided by the station's calibration: its scale ÷ vision ratios trend one way (weighvision/station-calibration.ts). */
  'scale_drift_suspected',
] as const;
export type QualityFlag = (typeof qualityFlags)[number];

/** The session's verdicts; a model never raises these. */
export const sessionVerdictFlags: readonly QualityFlag[] = ['scale_vision_disagree', 'scale_drift_suspected'];
