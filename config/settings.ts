/**
 * The one configuration module. Every setting has a default that matches the local stack
 * started by `make up`, and every one can be overridden by an environment variable, so a farm
 * server or a developer can point FarmIQ at servers they already run.
 *
 * A farm server keeps its settings in one env-style file (see deploy/edge.env.example) named by
 * FARMIQ_CONFIG; variables already set in the environment win over the file.
 */
import path from 'node:path';
import fs from 'node:fs';
import { z } from 'zod';

const repoRoot = path.resolve(__dirname, '..');

const port = z.coerce.number().int().min(1).max(65535);
const positiveInt = z.coerce.number().int().positive();

const schema = z.object({
  FARMIQ_HOME: z.string().default(path.join(repoRoot, '.run')),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  EDGE_ID: z.string().min(1).default('edge-dev-01'),

  EDGE_DATABASE_URL: z.string().url().default('postgres://farmiq:farmiq@127.0.0.1:5432/farmiq_edge'),
  CLOUD_DATABASE_URL: z.string().url().default('postgres://farmiq:farmiq@127.0.0.1:5432/farmiq_cloud'),

  MQTT_URL: z.string().url().default('mqtt://127.0.0.1:1883'),
  MQTT_BRIDGE_USERNAME: z.string().min(1).default('farmiq-bridge'),
  MQTT_BRIDGE_PASSWORD: z.string().min(1).default('farmiq-bridge-dev-secret'),
  MQTT_BRIDGE_CLIENT_ID: z.string().min(1).default('farmiq-edge-bridge'),
  /** How many unacknowledged QoS 1 messages the broker may have in flight to the bridge. */
  MQTT_RECEIVE_MAXIMUM: z.coerce.number().int().min(1).max(65535).default(4000),
  /** Largest device message accepted; larger ones are quarantined as payload_too_large. */
  MQTT_MAX_PAYLOAD_BYTES: positiveInt.default(64 * 1024),
  /** A micro-batch is committed when it holds this many messages ... */
  BRIDGE_BATCH_MAX: positiveInt.default(1000),
  /** ... or when its oldest message has waited this long. */
  BRIDGE_BATCH_WAIT_MS: z.coerce.number().int().min(0).default(5),
  /** Batches committing at once, each on its own connection (Postgres works while the next fills). */
  BRIDGE_COMMIT_CONCURRENCY: z.coerce.number().int().min(1).max(8).default(2),
  BRIDGE_HEALTH_PORT: port.default(8101),

  TEMPORAL_ADDRESS: z.string().min(1).default('127.0.0.1:7233'),
  TEMPORAL_UI_URL: z.string().url().default('http://127.0.0.1:8233'),
  TEMPORAL_EDGE_NAMESPACE: z.string().min(1).default('farmiq-edge'),
  TEMPORAL_CLOUD_NAMESPACE: z.string().min(1).default('farmiq-cloud'),
  EDGE_TASK_QUEUE: z.string().min(1).default('farmiq-edge'),
  CLOUD_TASK_QUEUE: z.string().min(1).default('farmiq-cloud'),
  EDGE_WORKER_HEALTH_PORT: port.default(8102),
  CLOUD_WORKER_HEALTH_PORT: port.default(8103),
  /** Rollup windows are published once they have been closed this long (late readings grace). */
  ROLLUP_GRACE_SECONDS: z.coerce.number().int().min(0).default(15),

  AMQP_URL: z.string().min(1).default('amqp://farmiq:farmiq@127.0.0.1:5672/farmiq'),
  /** Put before every exchange and queue name (farmiq.events, cloud-telemetry-service, …); empty in production. */
  AMQP_TOPOLOGY_PREFIX: z.string().regex(/^[A-Za-z0-9._-]*$/, 'only A-Z a-z 0-9 . _ -').max(64).default(''),
  /** Redeliveries of one message before it is dead-lettered with its reason (quorum x-delivery-limit). */
  AMQP_DELIVERY_LIMIT: z.coerce.number().int().min(1).max(1000).default(5),
  /** Cloud ingestion relay: outbox rows published (and confirmed) per round trip. */
  CLOUD_RELAY_BATCH_SIZE: positiveInt.max(5000).default(500),
  /** Relay rounds in flight at once, each on its own rows (overlaps waiting for confirms and commits). */
  CLOUD_RELAY_CONCURRENCY: positiveInt.max(16).default(3),
  /** The relay also sweeps for unpublished rows this often (a nudge after each batch is the fast path). */
  CLOUD_RELAY_SWEEP_MS: positiveInt.default(1000),
  /** Published outbox rows are deleted after this many hours (0: as soon as they are published). */
  CLOUD_OUTBOX_RETENTION_HOURS: z.coerce.number().min(0).default(24),
  /** Unacknowledged messages RabbitMQ may hand each cloud consumer at once. */
  CLOUD_CONSUMER_PREFETCH: positiveInt.max(65535).default(500),
  /** Messages a cloud consumer commits in one transaction (about half the prefetch keeps the pipe full; 100/200 fell behind a 5,000/s sync drain). */
  CLOUD_CONSUMER_BATCH_MAX: positiveInt.max(5000).default(250),
  CLOUD_CONSUMERS_HEALTH_PORT: port.default(8104),

  /**
   * Dashboard API (auth/, notifications/). The role of CLOUD_APP_DATABASE_URL must not bypass
   * row-level security (migration 0006 creates farmiq_app); CLOUD_DATABASE_URL is the owner.
   */
  CLOUD_APP_DATABASE_URL: z.string().url().default('postgres://farmiq_app:farmiq_app@127.0.0.1:5432/farmiq_cloud'),
  /** HS256 key of dashboard tokens. The default is for development only: set 32+ random bytes in production. */
  AUTH_JWT_SECRET: z.string().min(16, 'use at least 16 characters (32 random bytes recommended)').default('farmiq-dev-jwt-secret-change-me'),
  /** Lifetime of a dashboard token (jsonwebtoken syntax: seconds, or "15m", "1h", …). */
  AUTH_TOKEN_TTL: z.string().regex(/^\d+\s*(ms|s|m|h|d)?$/, 'a number of seconds or e.g. 15m, 1h').default('1h'),
  /** Notification delivery (notifications/): SMTP server for email, e.g. smtp://user:pass@host:587. */
  SMTP_URL: z.string().url().default('smtp://127.0.0.1:2525'),
  /** The From: of notification emails. */
  SMTP_FROM: z.string().min(3).default('FarmIQ <notifications@farmiq.local>'),
  /** HTTP endpoints the sms and push channels POST to (an SMS gateway or push relay); empty: channel disabled. */
  SMS_WEBHOOK_URL: z.union([z.literal(''), z.string().url()]).default(''),
  PUSH_WEBHOOK_URL: z.union([z.literal(''), z.string().url()]).default(''),
  /** Shared secret sent as a bearer token to the sms and push webhooks (empty: none). */
  NOTIFICATION_WEBHOOK_TOKEN: z.string().default(''),
  /** Delivery attempts before a notification ends in dlq (spec §7.4: 10). */
  NOTIFICATION_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(50).default(10),
  /** Seconds one channel call (SMTP send, webhook POST) may take before it counts as a failed attempt. */
  NOTIFICATION_SEND_TIMEOUT_SECONDS: positiveInt.max(300).default(15),
  /** Deliveries a notification worker makes at once (also its SMTP connection pool size). */
  NOTIFICATION_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(8),
  /** How often the dispatcher publishes due retries (adds at most this much to each retry delay). */
  NOTIFICATION_DISPATCH_INTERVAL_MS: positiveInt.max(60_000).default(500),
  /** A published attempt that has produced nothing after this long is published again (lost message). */
  NOTIFICATION_REDISPATCH_SECONDS: positiveInt.default(300),
  NOTIFICATIONS_HEALTH_PORT: port.default(8105),

  S3_ENDPOINT: z.string().url().default('http://127.0.0.1:9000'),
  S3_REGION: z.string().min(1).default('us-east-1'),
  S3_ACCESS_KEY: z.string().min(1).default('farmiq-edge'),
  S3_SECRET_KEY: z.string().min(1).default('farmiq-edge-dev-secret'),
  S3_BUCKET: z.string().min(3).default('farmiq-media'),

  // WeighVision (docs/weighvision.md)
  /** A session whose finalized event has not arrived this long after its first event ends timed_out. */
  WEIGHVISION_FINALIZE_TIMEOUT_SECONDS: positiveInt.default(900),
  /** After finalized: how long the session waits for its announced images to be stored and inferred. */
  WEIGHVISION_IMAGE_WAIT_SECONDS: positiveInt.default(300),
  /** Scale and vision estimates further apart than this fraction of the scale weight are flagged scale_vision_disagree. */
  WEIGHVISION_DISAGREEMENT_RATIO: z.coerce.number().positive().max(10).default(0.15),
  /** Lifetime of a presigned upload URL. */
  MEDIA_PRESIGN_EXPIRY_SECONDS: positiveInt.min(30).max(3600).default(300),
  /** How long a presign waits for a session whose created event the bridge has not signalled yet. */
  MEDIA_SESSION_WAIT_MS: z.coerce.number().int().min(0).max(30_000).default(3000),
  /** Largest image a station may upload. */
  MEDIA_MAX_IMAGE_BYTES: positiveInt.max(100 * 1024 * 1024).default(10 * 1024 * 1024),
  /** The ONNX model and how to read it (docs/model-card.md); a farm may drop in its own. */
  VISION_MODEL_PATH: z.string().min(1).default('models/weighvision-v1.onnx'),
  VISION_MODEL_ID: z.string().min(1).max(128).default('farmiq-weighvision-v1'),
  VISION_INPUT_NAME: z.string().min(1).default('image'),
  /** Square input side in pixels; images are resized to it. */
  VISION_INPUT_SIZE: positiveInt.max(1024).default(96),
  VISION_OUTPUT_WEIGHT: z.string().min(1).default('weight_kg'),
  VISION_OUTPUT_QUALITY: z.string().min(1).default('quality'),
  /** Comma-separated quality flag of each `quality` output column, in order. */
  VISION_QUALITY_LABELS: z.string().default('not_fully_in_frame,multiple_animals,empty_frame,blurred'),
  /** A quality probability at or above this raises its flag. */
  VISION_QUALITY_THRESHOLD: z.coerce.number().min(0).max(1).default(0.5),

  EDGE_HTTP_PORT: port.default(8080),
  CLOUD_HTTP_PORT: port.default(8090),
  /** Address the cloud HTTP API listens on (0.0.0.0 behind a reverse proxy; every route but /health and /metrics authenticates). */
  CLOUD_HTTP_HOST: z.string().min(1).default('127.0.0.1'),
  CLOUD_INGEST_URL: z.string().url().default('http://127.0.0.1:8090'),

  /**
   * Insights (insights/, spec §5). The template writer is the default generator and needs no
   * network; LLM_PROVIDER=openai uses any OpenAI-compatible chat-completions endpoint (OpenAI
   * https://api.openai.com/v1, vLLM http://host:8000/v1, Ollama http://host:11434/v1) with
   * LLM_MODEL (required then) and LLM_API_KEY (when the endpoint wants one).
   */
  LLM_PROVIDER: z.enum(['template', 'openai']).default('template'),
  LLM_BASE_URL: z.string().url().default('http://127.0.0.1:11434/v1'),
  LLM_MODEL: z.string().max(200).default(''),
  LLM_API_KEY: z.string().default(''),
  /** Deadline of one LLM call; past it the template writer answers (fallback llm_timeout). */
  LLM_TIMEOUT_MS: positiveInt.max(120_000).default(15_000),
  LLM_MAX_TOKENS: positiveInt.max(32_768).default(2000),
  /** cloud-ml-model-service base URL (POST /api/v1/ml/predict); empty: the model runs inside the cloud worker. */
  ML_SERVICE_URL: z.union([z.literal(''), z.string().url()]).default(''),
  /** cloud-llm-insights-service base URL (POST /api/v1/llm-insights/analyze); empty: inside the cloud worker. */
  LLM_INSIGHTS_SERVICE_URL: z.union([z.literal(''), z.string().url()]).default(''),
  /** Bearer token of the internal ML and LLM endpoints (worker → service). Set a random one in production. */
  INTERNAL_SERVICE_TOKEN: z.string().min(16, 'use at least 16 characters').default('farmiq-dev-internal-token-change-me'),
  /** How long POST /api/v1/dashboard/insights/generate waits for the workflow before answering 504. */
  INSIGHT_RESPONSE_TIMEOUT_MS: positiveInt.max(300_000).default(30_000),

  // Edge → cloud sync (docs/sync.md)
  /** The edge's Ed25519 private key (PEM), from `scripts/cloud-admin.ts edge add`. Unset: sync reports not_configured and idles. */
  EDGE_SIGNING_KEY_FILE: z.string().optional().transform((v) => v || undefined),
  /** Overrides the key id derived from the key (the one `edge add` printed). */
  EDGE_KEY_ID: z.string().max(128).optional().transform((v) => v || undefined),
  /** Events per batch; the cloud accepts at most 1000. A claim per batch paces a drain: 500 → ~3,900 events/s, 1000 → ~5,000 (docs/benchmarks.md). */
  SYNC_BATCH_SIZE: positiveInt.max(1000).default(1000),
  /** How long a claimed batch is held before another claimant may take its rows. */
  SYNC_LEASE_SECONDS: positiveInt.min(5).default(60),
  /** Batches in flight at once, both lanes together (one slot is kept for the live lane). */
  SYNC_MAX_IN_FLIGHT: positiveInt.max(64).default(4),
  /** Rows created this recently go out through the live lane, ahead of any backlog. */
  SYNC_LIVE_WINDOW_SECONDS: positiveInt.default(120),
  /** A batch request with no response for this long counts as "cloud unreachable". */
  SYNC_REQUEST_TIMEOUT_SECONDS: positiveInt.max(90).default(30),
  /** Acked outbox rows are deleted after this many hours. */
  SYNC_RETENTION_HOURS: z.coerce.number().min(0).default(72),

  /** Seconds a process waits for a dependency (database, broker, Temporal) before giving up. */
  DEPENDENCY_WAIT_SECONDS: z.coerce.number().int().min(0).default(300),
  /** Seconds a process gets after SIGTERM to finish in-flight work. */
  SHUTDOWN_GRACE_SECONDS: z.coerce.number().int().min(1).default(20),
});

export type Settings = z.infer<typeof schema>;

let cached: Settings | undefined;

/** Reads FARMIQ_CONFIG (if set) and the environment once, validating every value. */
export function settings(): Settings {
  if (cached) return cached;
  const file = process.env.FARMIQ_CONFIG;
  if (file) {
    if (!fs.existsSync(file)) throw new Error(`FARMIQ_CONFIG names ${file}, which does not exist`);
    process.loadEnvFile(file);
  }
  const parsed = schema.safeParse(process.env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new Error(`Invalid FarmIQ configuration: ${problems}`);
  }
  cached = parsed.data;
  return cached;
}

/** For tests: forget the cached settings so a changed environment is read again. */
export function resetSettingsForTests(): void {
  cached = undefined;
}
