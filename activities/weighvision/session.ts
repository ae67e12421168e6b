/**
 * The activities of a WeighVision session (workflows/weighvision/session.ts):
 *
 * - inferImage — edge-vision-inference (spec §3 step 9): fetch one stored image, decode, resize and
 *   run the model, store the result and append `inference.completed`, in one transaction.
 * - recordSession — step 12: conclude the session (weighvision/session-result.ts, with the
 *   station's calibration), write the session row and its readings, append its device events and
 *   the edge's conclusion (`weighvision.session.concluded`, what the cloud stores as the session's
 *   result) to the outbox, and recalibrate the station (weighvision/station-calibration.ts:
 *   median of recent ratios, drift flagged) — in one transaction.
 *
 * Both are idempotent, because Temporal may run an attempt again after one that committed but
 * whose completion was lost: an image has one inference row (its outbox event is appended only when
 * that row is new), a reading one weighvision_weights row, every device event one
 * weighvision_session_events row (appended only when new), and a closed session row is never
 * concluded again (so its conclusion event, whose id is derived from the session, and its
 * calibration ratio are appended once).
 */
import type { Pool } from 'pg';
import { inTransaction } from '../../db/transaction';
import { appendEvents, outboxEvent, outboxInsert, outboxPriority } from '../../sync/outbox';
import { ApplicationFailure, Context } from '@temporalio/activity';
import { farmEventSchema, qualityFlags, type QualityFlag } from '../../domain/contracts';
import { uuidV5 } from '../../domain/ids';
import { concludeSession, type ImageEstimateInput, type ReadingInput } from '../../weighvision/session-result';
import { calibrationPolicy, calibrationStep, sessionRatio } from '../../weighvision/station-calibration';
import type { ImageSource, SessionAddress, SessionDeviceEvent, SessionResult, StoredImage } from '../../weighvision/session-contract';

/** What the activities need of the vision model (weighvision/vision/vision-model.ts). */
export interface ImageEstimator {
  readonly modelId: string;
  estimate(bytes: Buffer): Promise<{ estimatedWeightKg: number; confidence: number; qualityFlags: QualityFlag[]; inferenceMs: number }>;
}

export interface WeighVisionActivityDeps {
  pool: Pool;
  images: ImageSource;
  /** Loaded on first use, once per worker process; a failed load is retried on the next attempt. */
  estimator: () => Promise<ImageEstimator>;
  /**
   * Whether the vision model serves this station (its species): when it answers false the images
   * are still inferred and stored, but no vision estimate makes the session weight, a disagreement
   * or a calibration. Absent: every station is served (one model, one species).
   */
  visionServes?: (station: SessionAddress) => Promise<boolean>;
}

export interface InferImageInput extends SessionAddress {
  image: StoredImage;
  traceId: string;
}

export interface ImageInference {
  mediaId: string;
  modelId: string;
  estimatedWeightKg: number;
  confidence: number;
  qualityFlags: QualityFlag[];
  inferenceMs: number;
}

export interface RecordSessionInput extends SessionAddress {
  ending: 'finalized' | 'timed_out';
  readings: ReadingInput[];
  estimates: ImageEstimateInput[];
  /** Images the session received (inferred or not). */
  imagesStored: number;
  imageCount?: number;
  batchId?: string;
  startedAt?: string;
  finalizedAt?: string;
  disagreementRatio: number;
  /** The device events not yet recorded (all of them the first time; late ones afterwards). */
  events: SessionDeviceEvent[];
  workflowId: string;
}

/** weighvision/vision/preprocess.ts's VisionInputError for bytes that are not a JPEG or PNG image. */
function isUndecodable(err: unknown): boolean {
  return (err as { code?: string }).code === 'image_undecodable';
}

// One statement, so atomic without a transaction: the result row, and its outbox event only when
// the row is new (a repeated attempt finds the row and appends nothing).
const storeInference = `
WITH stored AS (
  INSERT INTO inference_results (tenant_id, media_id, session_id, model_id, estimated_weight_kg, confidence, quality_flags, inference_ms, trace_id)
  VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
  ON CONFLICT (tenant_id, media_id) DO NOTHING
  RETURNING tenant_id
)
${outboxInsert(`SELECT tenant_id, $10, 'inference.completed', $11, $9, $12, ${outboxPriority.normal} FROM stored`)}`;

const selectInference = `
SELECT model_id, estimated_weight_kg::float8 AS estimated_weight_kg, confidence, quality_flags, inference_ms
FROM inference_results WHERE tenant_id = $1 AND media_id = $2`;

/** A row of selectInference (numeric weight cast to float8, so pg returns numbers; the flags were written from QualityFlag[]). */
interface InferenceRow {
  model_id: string;
  estimated_weight_kg: number;
  confidence: number;
  quality_flags: QualityFlag[];
  inference_ms: number;
}

const selectCalibration = `
SELECT factor, sessions FROM station_calibrations
WHERE tenant_id = $1 AND farm_id = $2 AND barn_id = $3 AND station_id = $4
FOR UPDATE`;

// The recent history the next factor and the drift check are taken from (calibrationPolicy sizes).
const selectAcceptedRatios = `
SELECT ratio FROM (
  SELECT id, ratio FROM station_calibration_ratios
  WHERE tenant_id = $1 AND farm_id = $2 AND barn_id = $3 AND station_id = $4 AND verdict = 'accepted'
  ORDER BY id DESC LIMIT $5
) r ORDER BY id`;

const selectRecentRatios = `
SELECT ratio FROM (
  SELECT id, ratio FROM station_calibration_ratios
  WHERE tenant_id = $1 AND farm_id = $2 AND barn_id = $3 AND station_id = $4 AND verdict <> 'out_of_bounds'
  ORDER BY id DESC LIMIT $5
) r ORDER BY id`;

const insertRatio = `
INSERT INTO station_calibration_ratios (tenant_id, farm_id, barn_id, station_id, session_id, ratio, verdict)
VALUES ($1, $2, $3, $4, $5, $6, $7)
ON CONFLICT (tenant_id, session_id) DO NOTHING`;

const upsertCalibration = `
INSERT INTO station_calibrations (tenant_id, farm_id, barn_id, station_id, factor, sessions, updated_at)
VALUES ($1, $2, $3, $4, $5, $6, now())
ON CONFLICT (tenant_id, farm_id, barn_id, station_id)
DO UPDATE SET factor = EXCLUDED.factor, sessions = EXCLUDED.sessions, updated_at = now()`;

// Only an open (or not yet written) session row is concluded; a closed one is left as it was.
const concludeRow = `
INSERT INTO weighvision_sessions AS s (
  tenant_id, session_id, farm_id, barn_id, station_id, batch_id, status, started_at, finalized_at, image_count,
  reading_count, stable_reading_count, scale_median_kg, vision_raw_kg, vision_weight_kg, vision_confidence,
  weight_kg, weight_source, quality_flags, images_inferred, missing_images, calibration_factor, failure_reason,
  workflow_id, trace_id, updated_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25, now())
ON CONFLICT (tenant_id, session_id) DO UPDATE SET
  batch_id = EXCLUDED.batch_id, status = EXCLUDED.status, started_at = EXCLUDED.started_at,
  finalized_at = EXCLUDED.finalized_at, image_count = EXCLUDED.image_count, reading_count = EXCLUDED.reading_count,
  stable_reading_count = EXCLUDED.stable_reading_count, scale_median_kg = EXCLUDED.scale_median_kg,
  vision_raw_kg = EXCLUDED.vision_raw_kg, vision_weight_kg = EXCLUDED.vision_weight_kg,
  vision_confidence = EXCLUDED.vision_confidence, weight_kg = EXCLUDED.weight_kg, weight_source = EXCLUDED.weight_source,
  quality_flags = EXCLUDED.quality_flags, images_inferred = EXCLUDED.images_inferred, missing_images = EXCLUDED.missing_images,
  calibration_factor = EXCLUDED.calibration_factor, failure_reason = EXCLUDED.failure_reason,
  workflow_id = EXCLUDED.workflow_id, trace_id = EXCLUDED.trace_id, updated_at = now()
WHERE s.status NOT IN ('finalized', 'timed_out', 'failed')
RETURNING session_id`;

const selectSession = `
SELECT status, reading_count, stable_reading_count, scale_median_kg::float8 AS scale_median_kg,
       vision_raw_kg::float8 AS vision_raw_kg, vision_weight_kg::float8 AS vision_weight_kg, vision_confidence,
       weight_kg::float8 AS weight_kg, weight_source, quality_flags, images_inferred, missing_images, failure_reason
FROM weighvision_sessions WHERE tenant_id = $1 AND session_id = $2`;

// The readings, and every device event of the session not appended before, in one statement:
// weighvision_session_events says which events are new, and only those reach the outbox.
const recordEvents = `
WITH readings AS (
  INSERT INTO weighvision_weights (tenant_id, event_id, session_id, weight_kg, stable, occurred_at, trace_id)
  SELECT $1, w.event_id, $2, w.weight_kg, w.stable, w.occurred_at, w.trace_id
  FROM unnest($3::uuid[], $4::numeric[], $5::boolean[], $6::timestamptz[], $7::text[]) AS w(event_id, weight_kg, stable, occurred_at, trace_id)
  ON CONFLICT (tenant_id, event_id) DO NOTHING
), fresh AS (
  INSERT INTO weighvision_session_events (tenant_id, event_id, session_id, event_type)
  SELECT $1, e.event_id, $2, e.event_type FROM unnest($8::uuid[], $9::text[]) AS e(event_id, event_type)
  ON CONFLICT (tenant_id, event_id) DO NOTHING
  RETURNING event_id
)
${outboxInsert(`
SELECT $1, e.event_id, e.event_type, e.envelope, e.trace_id, e.occurred_at, ${outboxPriority.normal}
FROM unnest($8::uuid[], $9::text[], $10::jsonb[], $11::text[], $12::timestamptz[]) WITH ORDINALITY AS e(event_id, event_type, envelope, trace_id, occurred_at, n)
JOIN fresh USING (event_id)
ORDER BY e.n`)}`;

interface SessionRow {
  status: SessionResult['status'];
  reading_count: number;
  stable_reading_count: number;
  scale_median_kg: number | null;
  vision_raw_kg: number | null;
  vision_weight_kg: number | null;
  vision_confidence: number | null;
  weight_kg: number | null;
  weight_source: 'scale' | 'vision' | null;
  quality_flags: QualityFlag[];
  images_inferred: number;
  missing_images: number;
  failure_reason: string | null;
}

function resultOf(row: SessionRow): SessionResult {
  const opt = <T>(v: T | null) => (v === null ? undefined : v);
  return {
    status: row.status,
    readingCount: row.reading_count,
    stableReadingCount: row.stable_reading_count,
    scaleMedianKg: opt(row.scale_median_kg),
    visionRawKg: opt(row.vision_raw_kg),
    visionWeightKg: opt(row.vision_weight_kg),
    visionConfidence: opt(row.vision_confidence),
    weightKg: opt(row.weight_kg),
    weightSource: opt(row.weight_source),
    qualityFlags: row.quality_flags,
    imagesInferred: row.images_inferred,
    missingImages: row.missing_images,
    failureReason: opt(row.failure_reason),
  };
}

/** scale_drift_suspected joins the flags of a session whose scale weighed it, in catalog order. */
function withDriftVerdict(result: SessionResult, driftSuspected: boolean): SessionResult {
  if (!driftSuspected || result.scaleMedianKg === undefined) return result;
  const raised = new Set<QualityFlag>([...result.qualityFlags, 'scale_drift_suspected']);
  return { ...result, qualityFlags: qualityFlags.filter((f) => raised.has(f)) };
}

export function inferenceEventId(tenantId: string, mediaId: string, modelId: string): string {
  return uuidV5(['inference.completed', tenantId.toLowerCase(), mediaId, modelId].join('|'));
}

/** One conclusion per session: a retried attempt derives the same id. */
export function concludedEventId(tenantId: string, sessionId: string): string {
  return uuidV5(['weighvision.session.concluded', tenantId.toLowerCase(), sessionId].join('|'));
}

/** The edge's conclusion as the cloud stores it (domain/contracts/payloads.ts weighVisionSessionConcluded). */
function concludedEvent(input: RecordSessionInput, result: SessionResult, calibrationFactor: number) {
  return farmEventSchema.parse({
    schema_version: '1.0',
    event_id: concludedEventId(input.tenantId, input.sessionId),
    trace_id: input.events[0]?.trace_id ?? input.workflowId,
    event_type: 'weighvision.session.concluded',
    tenant_id: input.tenantId,
    device_id: input.stationId,
    ts: new Date().toISOString(),
    farm_id: input.farmId,
    barn_id: input.barnId,
    session_id: input.sessionId,
    payload: {
      status: result.status,
      weight_kg: result.weightKg,
      weight_source: result.weightSource,
      scale_median_kg: result.scaleMedianKg,
      reading_count: result.readingCount,
      stable_reading_count: result.stableReadingCount,
      vision_raw_kg: result.visionRawKg,
      vision_weight_kg: result.visionWeightKg,
      vision_confidence: result.visionConfidence,
      calibration_factor: calibrationFactor,
      images_inferred: result.imagesInferred,
      missing_images: result.missingImages,
      quality_flags: result.qualityFlags,
      batch_id: input.batchId,
      failure_reason: result.failureReason,
    },
  });
}

export function createWeighVisionActivities({ pool, images, estimator, visionServes }: WeighVisionActivityDeps) {
  return {
    async inferImage(input: InferImageInput): Promise<ImageInference> {
      const { tenantId, sessionId, image } = input;
      const model = await estimator();
      const bytes = await images.fetch(image.objectKey);
      if (!bytes) throw ApplicationFailure.nonRetryable(`image ${image.objectKey} is not in the object store`, 'ImageMissing');
      let estimate;
      try {
        estimate = await model.estimate(bytes);
      } catch (err) {
        if (isUndecodable(err)) throw ApplicationFailure.nonRetryable(`image ${image.objectKey}: ${(err as Error).message}`, 'ImageUndecodable');
        throw err;
      }
      const estimatedWeightKg = Math.round(Math.max(0, estimate.estimatedWeightKg) * 1000) / 1000;
      const event = farmEventSchema.parse({
        schema_version: '1.0',
        event_id: inferenceEventId(tenantId, image.mediaId, model.modelId),
        trace_id: input.traceId,
        event_type: 'inference.completed',
        tenant_id: tenantId,
        device_id: input.stationId,
        ts: new Date().toISOString(),
        farm_id: input.farmId,
        barn_id: input.barnId,
        session_id: sessionId,
        payload: {
          session_id: sessionId,
          media_id: image.mediaId,
          model_id: model.modelId,
          estimated_weight_kg: estimatedWeightKg,
          confidence: estimate.confidence,
          quality_flags: estimate.qualityFlags,
          inference_ms: estimate.inferenceMs,
        },
      });
      const appended = await pool.query(storeInference, [
        tenantId,
        image.mediaId,
        sessionId,
        model.modelId,
        estimatedWeightKg,
        estimate.confidence,
        estimate.qualityFlags,
        estimate.inferenceMs,
        input.traceId,
        event.event_id,
        JSON.stringify(event),
        event.ts,
      ]);
      if (appended.rowCount === 0) {
        // A repeated attempt after one that committed: the stored answer is the answer.
        const r = (await pool.query<InferenceRow>(selectInference, [tenantId, image.mediaId])).rows[0];
        return {
          mediaId: image.mediaId,
          modelId: r.model_id,
          estimatedWeightKg: r.estimated_weight_kg,
          confidence: r.confidence,
          qualityFlags: r.quality_flags,
          inferenceMs: r.inference_ms,
        };
      }
      Context.current().log.info('image inferred', {
        mediaId: image.mediaId,
        estimatedWeightKg,
        qualityFlags: estimate.qualityFlags,
        inferenceMs: estimate.inferenceMs,
      });
      return {
        mediaId: image.mediaId,
        modelId: model.modelId,
        estimatedWeightKg,
        confidence: estimate.confidence,
        qualityFlags: estimate.qualityFlags,
        inferenceMs: estimate.inferenceMs,
      };
    },

    async recordSession(input: RecordSessionInput): Promise<SessionResult> {
      const { tenantId, sessionId, farmId, barnId, stationId } = input;
      const visionUsable = visionServes ? await visionServes({ tenantId, sessionId, farmId, barnId, stationId }) : true;
      return inTransaction(
        pool,
        async (c) => {
          const station = [tenantId, farmId, barnId, stationId];
          const calibration = await c.query<{ factor: number; sessions: number }>(selectCalibration, station);
          const current = { factor: calibration.rows[0]?.factor ?? 1, sessions: calibration.rows[0]?.sessions ?? 0 };
          const factor = current.factor;
          const concludedFromInputs = concludeSession({
            ending: input.ending,
            readings: input.readings,
            estimates: input.estimates,
            imagesStored: input.imagesStored,
            imageCount: input.imageCount,
            calibrationFactor: factor,
            disagreementRatio: input.disagreementRatio,
            visionUsable,
          });
          // The station's history judges this session's ratio and says whether its scale drifts.
          const accepted = await c.query<{ ratio: number }>(selectAcceptedRatios, [...station, calibrationPolicy.window]);
          const recent = await c.query<{ ratio: number }>(selectRecentRatios, [...station, calibrationPolicy.driftWindow - 1]);
          const step = calibrationStep(
            current,
            { accepted: accepted.rows.map((r) => r.ratio), recent: recent.rows.map((r) => r.ratio) },
            sessionRatio(concludedFromInputs),
          );
          const computed = withDriftVerdict(concludedFromInputs, step.driftSuspected);
          const concluded = await c.query(concludeRow, [
            tenantId,
            sessionId,
            farmId,
            barnId,
            stationId,
            input.batchId ?? null,
            computed.status,
            input.startedAt ?? null,
            input.finalizedAt ?? null,
            input.imageCount ?? null,
            computed.readingCount,
            computed.stableReadingCount,
            computed.scaleMedianKg ?? null,
            computed.visionRawKg ?? null,
            computed.visionWeightKg ?? null,
            computed.visionConfidence ?? null,
            computed.weightKg ?? null,
            computed.weightSource ?? null,
            computed.qualityFlags,
            computed.imagesInferred,
            computed.missingImages,
            factor,
            computed.failureReason ?? null,
            input.workflowId,
            input.events[0]?.trace_id ?? null,
          ]);
          let result = computed;
          let conclusion: ReturnType<typeof concludedEvent> | undefined;
          if (concluded.rowCount === 1) {
            // Concluded now: the scale teaches the station's vision calibration, once per session,
            // and the conclusion goes to the cloud after the device events (one event: its id is the session's).
            if (step.ratio) await c.query(insertRatio, [...station, sessionId, step.ratio.value, step.ratio.verdict]);
            if (step.ratio?.verdict === 'accepted') await c.query(upsertCalibration, [...station, step.next.factor, step.next.sessions]);
            conclusion = concludedEvent(input, computed, factor);
          } else {
            const stored = await c.query<SessionRow>(selectSession, [tenantId, sessionId]);
            result = resultOf(stored.rows[0]);
          }

          const weights = input.events.filter((e) => e.event_type === 'weighvision.weight.recorded');
          await c.query(recordEvents, [
            tenantId,
            sessionId,
            weights.map((e) => e.event_id),
            weights.map((e) => e.payload.weight_kg),
            weights.map((e) => e.payload.stable ?? null),
            weights.map((e) => e.ts),
            weights.map((e) => e.trace_id),
            input.events.map((e) => e.event_id),
            input.events.map((e) => e.event_type),
            input.events.map((e) => JSON.stringify(e)),
            input.events.map((e) => e.trace_id),
            input.events.map((e) => e.ts),
          ]);
          if (conclusion) {
            await appendEvents(c, [outboxEvent(conclusion, outboxPriority.normal)]);
          }
          return result;
        },
        { statementTimeout: '20s' },
      );
    },
  };
}
