/**
 * Payload schemas of every event type in the catalog (spec §8). Units are in the field names
 * where the spec allows (kg, ms) so a reader never has to guess.
 */
import { z } from 'zod';
import { topicSegment } from './envelope';
import { qualityFlags } from './quality-flags';
import { eventTime, int32, measurement, positiveQuantity, text } from './storable';

export { qualityFlags, type QualityFlag } from './quality-flags';

// Every field is bounded to what its column holds (storable.ts): the database never refuses a valid event.
const isoTime = eventTime;
const unit = text(1, 16);

export const telemetryReading = z.object({
  metric: topicSegment,
  /** In `unit`; the edge converts a reading to its metric's stored unit (units.ts) at ingest. */
  value: measurement,
  unit,
  /** What the sensor sent, when the edge converted it (set by the edge; a device's own are dropped). */
  source_value: measurement.optional(),
  source_unit: unit.optional(),
});

export const rollupWindows = ['1m', '1h'] as const;
export type RollupWindow = (typeof rollupWindows)[number];

export const telemetryAggregated = z.object({
  farm_id: topicSegment,
  barn_id: topicSegment,
  metric: topicSegment,
  unit,
  window: z.enum(rollupWindows),
  window_start: isoTime,
  window_end: isoTime,
  count: z.number().int().positive().max(Number.MAX_SAFE_INTEGER),
  mean: measurement,
  min: measurement,
  max: measurement,
  /** Grows when late readings change a window that was already published; the cloud keeps the highest. */
  revision: int32.positive(),
});

export const weighVisionSessionCreated = z.object({
  batch_id: z.uuid().optional(),
});

export const weighVisionWeightRecorded = z.object({
  weight_kg: positiveQuantity(5000),
  /** The scale's own stability flag; unstable readings are kept but not used for the session weight. */
  stable: z.boolean().optional(),
});

export const weighVisionSessionFinalized = z.object({
  image_count: z.number().int().min(0).max(100),
});

export const concludedSessionStatuses = ['finalized', 'timed_out', 'failed'] as const;

/**
 * The result the edge concluded for a session (weighvision/session-result.ts), which the cloud
 * stores as is instead of recomputing it. A value the session does not have (no stable reading, no
 * usable image, no weight) is left out. A calibrated vision estimate may reach twice the model's
 * 5000 kg bound (calibration factor ≤ 2).
 */
export const weighVisionSessionConcluded = z.object({
  status: z.enum(concludedSessionStatuses),
  weight_kg: positiveQuantity(10000).optional(),
  weight_source: z.enum(['scale', 'vision']).optional(),
  scale_median_kg: positiveQuantity(5000).optional(),
  reading_count: int32.nonnegative(),
  stable_reading_count: int32.nonnegative(),
  /** Median of the usable images' raw model estimates, before calibration. */
  vision_raw_kg: z.number().nonnegative().max(5000).optional(),
  vision_weight_kg: z.number().nonnegative().max(10000).optional(),
  vision_confidence: z.number().min(0).max(1).optional(),
  /** The station's scale ÷ vision factor the vision estimate was multiplied by. */
  calibration_factor: z.number().positive().max(10),
  images_inferred: int32.nonnegative(),
  missing_images: int32.nonnegative(),
  quality_flags: z.array(z.enum(qualityFlags)).max(qualityFlags.length),
  /** The flock (session.created's batch_id), when the station named one. */
  batch_id: z.uuid().optional(),
  failure_reason: text(1, 500).optional(),
});

export const mediaStored = z.object({
  session_id: topicSegment,
  media_id: z.uuid(),
  farm_id: topicSegment,
  barn_id: topicSegment,
  station_id: topicSegment,
  object_key: text(1, 512),
  content_type: z.enum(['image/jpeg', 'image/png']),
  size_bytes: z.number().int().positive().max(Number.MAX_SAFE_INTEGER),
});

export const inferenceCompleted = z.object({
  session_id: topicSegment,
  media_id: z.uuid(),
  model_id: text(1, 128),
  estimated_weight_kg: z.number().nonnegative().max(5000),
  confidence: z.number().min(0).max(1),
  quality_flags: z.array(z.enum(qualityFlags)),
  inference_ms: z.number().nonnegative().max(86_400_000),
});

/** What a feed dispenser publishes (device side of spec §4). */
export const feedDispensed = z.object({
  quantity_kg: positiveQuantity(100000),
  feed_type: text(1, 64),
  silo_id: topicSegment.optional(),
  pen_id: topicSegment.optional(),
  /** Animals fed by this dispense, when the dispenser knows it; lets the cloud compute intake per animal. */
  animal_count: int32.positive().optional(),
});

/** What the edge records and syncs after accepting a feed.dispensed (spec §4 step 5). */
export const feedIntakeRecorded = feedDispensed.extend({
  source_event_id: z.uuid(),
  farm_id: topicSegment,
  barn_id: topicSegment,
  dispensed_at: isoTime,
});

export const syncBatchSent = z.object({
  edge_id: text(1, 128),
  batch_id: text(1, 200),
  event_count: int32.nonnegative(),
  attempt: int32.positive(),
});

export const syncBatchAcked = z.object({
  edge_id: text(1, 128),
  batch_id: text(1, 200),
  accepted: int32.nonnegative(),
  duplicate: int32.nonnegative(),
  rejected: int32.nonnegative(),
});
