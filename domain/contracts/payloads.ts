/**
 * Payload schemas of every event type in the catalog (spec §8). Units are in the field names
 * where the spec allows (kg, ms) so a reader never has to guess.
 */
import { z } from 'zod';
import { topicSegment } from './envelope';
import { qualityFlags } from './quality-flags';

export { qualityFlags, type QualityFlag } from './quality-flags';

const finite = z.number().refine(Number.isFinite, 'must be a finite number');
const isoTime = z.iso.datetime({ offset: true });

export const telemetryReading = z.object({
  metric: topicSegment,
  value: finite,
  unit: z.string().min(1).max(16),
});

export const rollupWindows = ['1m', '1h'] as const;
export type RollupWindow = (typeof rollupWindows)[number];

export const telemetryAggregated = z.object({
  farm_id: topicSegment,
  barn_id: topicSegment,
  metric: topicSegment,
  unit: z.string().min(1).max(16),
  window: z.enum(rollupWindows),
  window_start: isoTime,
  window_end: isoTime,
  count: z.number().int().positive(),
  mean: finite,
  min: finite,
  max: finite,
  /** Grows when late readings change a window that was already published; the cloud keeps the highest. */
  revision: z.number().int().positive(),
});

export const weighVisionSessionCreated = z.object({
  batch_id: z.uuid().optional(),
});

export const weighVisionWeightRecorded = z.object({
  weight_kg: z.number().positive().max(5000),
  /** The scale's own stability flag; unstable readings are kept but not used for the session weight. */
  stable: z.boolean().optional(),
});

export const weighVisionSessionFinalized = z.object({
  image_count: z.number().int().min(0).max(100),
});

export const mediaStored = z.object({
  session_id: topicSegment,
  media_id: z.uuid(),
  farm_id: topicSegment,
  barn_id: topicSegment,
  station_id: topicSegment,
  object_key: z.string().min(1).max(512),
  content_type: z.enum(['image/jpeg', 'image/png']),
  size_bytes: z.number().int().positive(),
});


export const inferenceCompleted = z.object({
  session_id: topicSegment,
  media_id: z.uuid(),
  model_id: z.string().min(1).max(128),
  estimated_weight_kg: z.number().nonnegative().max(5000),
  confidence: z.number().min(0).max(1),
  quality_flags: z.array(z.enum(qualityFlags)),
  inference_ms: z.number().nonnegative(),
});

/** What a feed dispenser publishes (device side of spec §4). */
export const feedDispensed = z.object({
  quantity_kg: z.number().positive().max(100000),
  feed_type: z.string().min(1).max(64),
  silo_id: topicSegment.optional(),
  pen_id: topicSegment.optional(),
  /** Animals fed by this dispense, when the dispenser knows it; lets the cloud compute intake per animal. */
  animal_count: z.number().int().positive().optional(),
});

/** What the edge records and syncs after accepting a feed.dispensed (spec §4 step 5). */
export const feedIntakeRecorded = feedDispensed.extend({
  source_event_id: z.uuid(),
  farm_id: topicSegment,
  barn_id: topicSegment,
  dispensed_at: isoTime,
});

export const syncBatchSent = z.object({
  edge_id: z.string().min(1).max(128),
  batch_id: z.string().min(1).max(200),
  event_count: z.number().int().nonnegative(),
  attempt: z.number().int().positive(),
});

export const syncBatchAcked = z.object({
  edge_id: z.string().min(1).max(128),
  batch_id: z.string().min(1).max(200),
  accepted: z.number().int().nonnegative(),
  duplicate: z.number().int().nonnegative(),
  rejected: z.number().int().nonnegative(),
});
