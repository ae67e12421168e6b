/**
 * What can be wrong with a WeighVision image or session (spec §8.4 inference.completed). Kept
 * apart from the zod schemas so the session workflow's bundle can use it without them.
 */
export const qualityFlags = [
  'not_fully_in_frame',
  'multiple_animals',
  'empty_frame',
  'blurred',
  /** Decided by the session, not the model: scale and vision estimates too far apart. */
  'scale_vision_disagree',
] as const;
export type QualityFlag = (typeof qualityFlags)[number];
