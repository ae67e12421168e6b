/**
 * What a WeighVision session concludes from its scale readings and image estimates (spec §3
 * step 12). Pure and deterministic: the session workflow calls it (so it must stay free of Node
 * APIs), and the same inputs always give the same result on replay.
 *
 * - Scale: the median of the stable readings — robust to the animal stepping on and off. A reading
 *   without a stability flag counts as stable (many scales do not report one); one flagged
 *   unstable never counts.
 * - Vision: the median of the estimates of the images that show exactly one whole animal (no
 *   not_fully_in_frame / multiple_animals / empty_frame / out_of_distribution), times the station's
 *   calibration factor.
 * - The session weight is the scale's when there is one, else the vision estimate when it is
 *   confident enough; with neither a finalized session ends `failed` and says why.
 * - multiple_animals vetoes the scale: when any image of the session saw more than one animal, the
 *   scale may have weighed two, so its median is reported but is not the session weight (the
 *   vision estimate of the one-animal images may still be, when confident).
 * - Vision is used only when the caller says the model serves this station (`visionUsable`: a
 *   pig model at a broiler station is not); its raw estimates stay stored either way.
 */
import { qualityFlags, type QualityFlag } from '../domain/contracts/quality-flags';
import type { SessionResult } from './session-contract';

export interface ReadingInput {
  weightKg: number;
  stable?: boolean;
}

export interface ImageEstimateInput {
  estimatedWeightKg: number;
  confidence: number;
  qualityFlags: readonly QualityFlag[];
}

export interface SessionResultInputs {
  ending: 'finalized' | 'timed_out';
  readings: readonly ReadingInput[];
  /** Images whose inference completed (failed or missing images are simply absent). */
  estimates: readonly ImageEstimateInput[];
  /** Images stored for the session, inferred or not (an undecodable image arrived; it is not missing). */
  imagesStored: number;
  /** Announced by session.finalized; undefined when it never came. */
  imageCount?: number;
  /** The station's vision calibration (scale / raw vision), 1 when never calibrated. */
  calibrationFactor: number;
  /** |scale − vision| / scale above this raises scale_vision_disagree. */
  disagreementRatio: number;
  /** Below this a vision estimate alone does not make a session weight. */
  minVisionConfidence?: number;
  /**
   * False when the vision model does not serve this station (another species): its estimates make
   * no vision weight, no disagreement and no calibration. Undefined counts as usable.
   */
  visionUsable?: boolean;
}

/** Flags that mean the image cannot show the weight of the one animal on the scale (or of an animal the model knows). */
const unusableForVision: readonly QualityFlag[] = ['not_fully_in_frame', 'multiple_animals', 'empty_frame', 'out_of_distribution'];

export function median(values: readonly number[]): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** numeric(10,3) in the database: grams are the finest unit a farm scale reports. */
export function roundKg(kg: number): number {
  return Math.round(kg * 1000) / 1000;
}

export function concludeSession(inputs: SessionResultInputs): SessionResult {
  const stable = inputs.readings.filter((r) => r.stable !== false);
  const scale = median(stable.map((r) => r.weightKg));

  const usable = inputs.visionUsable === false ? [] : inputs.estimates.filter((e) => !e.qualityFlags.some((f) => unusableForVision.includes(f)));
  const visionRaw = median(usable.map((e) => e.estimatedWeightKg));
  const vision = visionRaw === undefined ? undefined : visionRaw * inputs.calibrationFactor;
  const visionConfidence = median(usable.map((e) => e.confidence));

  const raised = new Set<QualityFlag>(inputs.estimates.flatMap((e) => e.qualityFlags));
  if (scale !== undefined && vision !== undefined && Math.abs(scale - vision) / scale > inputs.disagreementRatio) {
    raised.add('scale_vision_disagree');
  }

  // Two animals in a frame: the scale may carry both, so its reading does not make the weight.
  const scaleVetoed = raised.has('multiple_animals');
  let weightKg: number | undefined;
  let weightSource: SessionResult['weightSource'];
  if (scale !== undefined && !scaleVetoed) {
    weightKg = scale;
    weightSource = 'scale';
  } else if (vision !== undefined && roundKg(vision) > 0 && (visionConfidence ?? 0) >= (inputs.minVisionConfidence ?? 0.5)) {
    weightKg = vision;
    weightSource = 'vision';
  }

  const missing = inputs.imageCount === undefined ? 0 : Math.max(0, inputs.imageCount - inputs.imagesStored);
  let status: SessionResult['status'] = inputs.ending;
  let failureReason: string | undefined;
  if (inputs.ending === 'timed_out') {
    failureReason = 'session.finalized never arrived';
  } else if (weightKg === undefined) {
    status = 'failed';
    failureReason =
      inputs.readings.length === 0 && inputs.estimates.length === 0
        ? 'no scale reading and no inferred image'
        : scale !== undefined && scaleVetoed
          ? 'the scale reading is vetoed (multiple_animals) and there is no confident vision estimate of one whole animal'
          : 'no stable scale reading and no confident vision estimate of one whole animal';
  }
  if (missing > 0) {
    const note = `${missing} of ${inputs.imageCount} announced images never arrived`;
    failureReason = failureReason ? `${failureReason}; ${note}` : note;
  }

  return {
    status,
    readingCount: inputs.readings.length,
    stableReadingCount: stable.length,
    scaleMedianKg: scale === undefined ? undefined : roundKg(scale),
    visionRawKg: visionRaw === undefined ? undefined : roundKg(visionRaw),
    visionWeightKg: vision === undefined ? undefined : roundKg(vision),
    visionConfidence,
    weightKg: weightKg === undefined ? undefined : roundKg(weightKg),
    weightSource,
    qualityFlags: qualityFlags.filter((f) => raised.has(f)),
    imagesInferred: inputs.estimates.length,
    missingImages: missing,
    failureReason,
  };
}
