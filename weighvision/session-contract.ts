/**
 * The contract of a WeighVision session (spec §3), below everything that uses it: the MQTT bridge
 * signals-with-start `sessionEvent`, the media store sends `imageStored`, operators and tests read
 * `state`; the session's result, its input and what its inference needs of the object store are
 * declared here too. The workflow (workflows/weighvision/session.ts) sets handlers for these
 * objects; clients start it by name and never import the workflow file.
 *
 * Signals rather than updates: the server stores a signal even while the edge worker is down, and
 * signalWithStart lets whichever event of a session comes first start its workflow.
 *
 * Workflow-bundle safe: imports only @temporalio/workflow's message definitions and pure domain types.
 */
import { defineQuery, defineSignal } from '@temporalio/workflow';
import type { QualityFlag } from '../domain/contracts/quality-flags';

export type SessionStatus = 'created' | 'collecting' | 'finalizing' | 'finalized' | 'timed_out' | 'failed';
export const closedSessionStatuses: readonly SessionStatus[] = ['finalized', 'timed_out', 'failed'];

/** Where a session happens; the station is the publishing device of its MQTT topics. */
export interface SessionAddress {
  tenantId: string;
  sessionId: string;
  farmId: string;
  barnId: string;
  stationId: string;
}

export interface SessionConfig {
  /** From the session's first event to `finalized`; past it the session ends timed_out. */
  finalizeTimeoutSeconds: number;
  /** After `finalized`: the wait for the announced images to be stored and inferred. */
  imageWaitSeconds: number;
  /** |scale − vision| / scale above this raises scale_vision_disagree. */
  disagreementRatio: number;
}

export interface WeighVisionSessionInput extends SessionAddress {
  config: SessionConfig;
}

/**
 * A validated device event of the session as the bridge accepted it: the envelope with farm_id,
 * barn_id and session_id stamped from the topic (what goes to the outbox, unchanged).
 */
export interface SessionDeviceEvent {
  schema_version: string;
  event_id: string;
  trace_id: string;
  event_type: 'weighvision.session.created' | 'weighvision.weight.recorded' | 'weighvision.session.finalized';
  tenant_id: string;
  device_id: string;
  ts: string;
  farm_id?: string;
  barn_id?: string;
  session_id?: string;
  payload: { batch_id?: string; weight_kg?: number; stable?: boolean; image_count?: number };
}

/** An image the media store has verified in the object store and recorded (media_objects). */
export interface StoredImage {
  mediaId: string;
  objectKey: string;
  contentType: 'image/jpeg' | 'image/png';
  sizeBytes: number;
  storedAt: string;
  traceId?: string;
}

/** The workflow type (its export name in workflows/edge.ts): one workflow per session. */
export const weighVisionSessionWorkflowType = 'weighVisionSession';
export type WeighVisionSessionWorkflow = (input: WeighVisionSessionInput) => Promise<SessionResult>;

/**
 * What the inference activity needs of the object store (weighvision/media/image-source.ts): the bytes, or
 * undefined when the object is absent.
 */
export interface ImageSource {
  fetch(objectKey: string): Promise<Buffer | undefined>;
}

export const sessionEventSignal = defineSignal<[SessionDeviceEvent]>('sessionEvent');
export const imageStoredSignal = defineSignal<[StoredImage]>('imageStored');

export interface ImageState {
  mediaId: string;
  status: 'stored' | 'inferring' | 'inferred' | 'failed';
  estimatedWeightKg?: number;
  confidence?: number;
  qualityFlags?: QualityFlag[];
  error?: string;
}

/** The live state of a session, as the `state` query returns it. */
export interface SessionState extends SessionAddress {
  status: SessionStatus;
  batchId?: string;
  startedAt?: string;
  finalizedAt?: string;
  /** Announced by session.finalized; unknown before it. */
  imageCount?: number;
  readings: { eventId: string; weightKg: number; stable?: boolean; at: string }[];
  images: ImageState[];
  /** Device events ignored because their event_id had been seen. */
  duplicateEvents: number;
  /** Device events ignored because another station (or farm/barn) sent them: the session is not theirs. */
  notOwnedEvents: number;
  result?: SessionResult;
  failureReason?: string;
}

/** What a session concludes (spec §3 step 12), written to weighvision_sessions. */
export interface SessionResult {
  status: 'finalized' | 'timed_out' | 'failed';
  readingCount: number;
  stableReadingCount: number;
  /** Median of the stable readings (all readings when the scale reports none stable). */
  scaleMedianKg?: number;
  /** Median of the usable images' raw model estimates. */
  visionRawKg?: number;
  /** visionRawKg after the station's calibration factor. */
  visionWeightKg?: number;
  visionConfidence?: number;
  weightKg?: number;
  weightSource?: 'scale' | 'vision';
  qualityFlags: QualityFlag[];
  imagesInferred: number;
  /** Announced images that were never stored within the wait. */
  missingImages: number;
  failureReason?: string;
}

export const sessionStateQuery = defineQuery<SessionState>('state');
