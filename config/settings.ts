/**
 * The one configuration module. Every setting has a default that matches the local stack
 * started by `make up`, and every one can be overridden by an environment variable, so a farm
 * server or a developer can point FarmIQ at servers they already run.
 *
 * A farm server keeps its settings in one env-style file (see deploy/edge.env.example) named by
 * FARMIQ_CONFIG; variables already set in the environment win over the file. Outside production
 * mode, the local stack's generated secrets ($FARMIQ_HOME/secrets.env, config/local-secrets.ts)
 * come next, then the defaults.
 *
 * Production mode (FARMIQ_ENV=production, implied by NODE_ENV=production) refuses to start unless
 * every secret setting of the process's side (FARMIQ_ROLE) is set explicitly, strong, and not a
 * development value; the error names each offending setting at once (config/secrets.ts).
 */
import fs from 'node:fs';
import { z } from 'zod';
import { isTimeZone } from '../domain/calendar/local-clock';
import { defaultFarmiqHome, readLocalSecrets } from './local-secrets';
import { checkProductionSecrets, processRoles, secretSettings, type ConfigProblem, type ProcessRole } from './secrets';

/** Seconds in a duration setting: a number of seconds, or with a unit s, m, h or d ("15m", "24h"). */
export function durationSeconds(value: string | number): number {
  if (typeof value === 'number') return value;
  const m = /^(\d+)\s*(s|m|h|d)?$/.exec(value.trim());
  if (!m) throw new Error(`${JSON.stringify(value)} is not a duration: use seconds, or e.g. 15m, 1h, 7d`);
  return Number(m[1]) * { s: 1, m: 60, h: 3600, d: 86_400 }[(m[2] ?? 's') as 's' | 'm' | 'h' | 'd'];
}
const duration = z.string().regex(/^\d+\s*(s|m|h|d)?$/, 'a number of seconds or e.g. 15m, 1h, 7d');

const port = z.coerce.number().int().min(1).max(65535);
const positiveInt = z.coerce.number().int().positive();

const schema = z
  .object({
    FARMIQ_HOME: z.string().default(defaultFarmiqHome),
    /** production: refuse development secrets (see the top). Unset: production when NODE_ENV=production. */
    FARMIQ_ENV: z.enum(['development', 'production']).optional(),
    /** Whose secrets this process must have in production: edge (farm server), cloud, or all. */
    FARMIQ_ROLE: z.enum(processRoles).default('all'),
    /** The local stack's generated secrets (read outside production mode only); default $FARMIQ_HOME/secrets.env. */
    FARMIQ_SECRETS_FILE: z.string().optional(),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    EDGE_ID: z.string().min(1).default('edge-dev-01'),
    /** The farm's IANA time zone: which local day a death, a cull or a placement belongs to. */
    /** The device simulator (docs/simulator.md): its farm description, state, seed and health port. */
    SIMULATOR_FARM_FILE: z.string().min(1).default('demo/farm.json'),
    /** Default $FARMIQ_HOME/simulator/state.json (also where the demo keeps it). */
    SIMULATOR_STATE_FILE: z.string().min(1).optional(),
    SIMULATOR_SEED: z.coerce
      .number()
      .int()
      .min(0)
      .max(2 ** 31 - 1)
      .default(1),
    SIMULATOR_HEALTH_PORT: port.default(8106),
    /** The station listener the simulated stations upload to; default EDGE_STATION_HTTP_HOST:PORT. */
    SIMULATOR_STATION_URL: z.string().url().optional(),
    EDGE_FARM_TIME_ZONE: z.string().default('UTC').refine(isTimeZone, 'EDGE_FARM_TIME_ZONE must be an IANA time zone such as Europe/Amsterdam'),

    EDGE_DATABASE_URL: z.string().url().default('postgres://farmiq:farmiq@127.0.0.1:5432/farmiq_edge'),
    CLOUD_DATABASE_URL: z.string().url().default('postgres://farmiq:farmiq@127.0.0.1:5432/farmiq_cloud'),

    MQTT_URL: z.string().url().default('mqtt://127.0.0.1:1883'),
    MQTT_BRIDGE_USERNAME: z.string().min(1).default('farmiq-bridge'),
    MQTT_BRIDGE_PASSWORD: z.string().min(1).default('farmiq-bridge-dev-secret'),
    /** Client id the bridge sends. The project's Mosquitto replaces every client id by the login
     * (use_username_as_clientid), so there the bridge's session is MQTT_BRIDGE_USERNAME's; this id
     * only keys the session on a broker of your own (FARMIQ_SKIP_MOSQUITTO=1). */
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
    AMQP_TOPOLOGY_PREFIX: z
      .string()
      .regex(/^[A-Za-z0-9._-]*$/, 'only A-Z a-z 0-9 . _ -')
      .max(64)
      .default(''),
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
    /** HS256 key of dashboard tokens. The default is for development only: production demands 32+ random characters. */
    AUTH_JWT_SECRET: z.string().min(16, 'use at least 16 characters (32 random bytes recommended)').default('farmiq-dev-jwt-secret-change-me'),
    /** Lifetime of a dashboard token: seconds, or e.g. "15m", "1h". At most AUTH_TOKEN_MAX_TTL. */
    AUTH_TOKEN_TTL: duration.default('1h'),
    /** Longest lifetime (exp - iat) a dashboard token may have; a token without exp or with a longer one is refused. */
    AUTH_TOKEN_MAX_TTL: duration.default('24h'),
    /**
     * Dashboard sign-in (docs/auth.md). Lifetime of the access token a sign-in or refresh gives: short,
     * because it is not revoked; at most AUTH_TOKEN_MAX_TTL.
     */
    AUTH_ACCESS_TTL: duration.default('15m'),
    /** How long a signed-in browser stays signed in (the refresh cookie's session), counted from sign-in; refreshing never extends it. */
    AUTH_REFRESH_TTL: duration.default('30d'),
    /** Send the refresh cookie only over HTTPS (its Secure attribute). Default false, and true in production mode. */
    AUTH_COOKIE_SECURE: z
      .enum(['true', 'false', '1', '0'])
      .default('false')
      .transform((v) => v === 'true' || v === '1'),
    /** Failed sign-ins for one email within AUTH_LOCKOUT_WINDOW that lock it for AUTH_LOCKOUT_DURATION (even with the right password). */
    AUTH_LOCKOUT_ACCOUNT_FAILURES: positiveInt.max(1000).default(5),
    /** The same for one client address (every email tried from it); higher, as an office may share one. */
    AUTH_LOCKOUT_ADDRESS_FAILURES: positiveInt.max(100_000).default(50),
    AUTH_LOCKOUT_WINDOW: duration.default('15m'),
    AUTH_LOCKOUT_DURATION: duration.default('15m'),
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
    /**
     * The store's address as stations reach it (the farm server's barn-LAN address): presigned upload
     * URLs carry it, and SigV4 signs its host. Empty: S3_ENDPOINT (stations on the server itself).
     */
    S3_PUBLIC_ENDPOINT: z.union([z.literal(''), z.string().url()]).default(''),
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
    /** The model's sidecar manifest (sha256 of the ONNX file, species served, OOD threshold), checked at load. */
    VISION_MANIFEST_PATH: z.string().min(1).default('models/weighvision-v1.json'),
    /** The out-of-distribution score output; empty runs a model that has none WITHOUT that check (docs/model-card.md). */
    VISION_OUTPUT_OOD: z.string().default('ood_score'),

    /**
     * The edge's operator API (ingress rejects, sync status and control, DLQ): every route but
     * /health and /metrics needs an operator token (`farmiq operators add`). Loopback by default.
     */
    EDGE_HTTP_PORT: port.default(8080),
    EDGE_HTTP_HOST: z.string().min(1).default('127.0.0.1'),
    /**
     * The edge's station listener: WeighVision image uploads (presign, complete; device credentials)
     * and /health, /metrics. On a farm server, 0.0.0.0 or the barn LAN address, so stations reach it.
     */
    EDGE_STATION_HTTP_PORT: port.default(8081),
    EDGE_STATION_HTTP_HOST: z.string().min(1).default('127.0.0.1'),
    CLOUD_HTTP_PORT: port.default(8090),
    /** Address the cloud HTTP API listens on (0.0.0.0 behind a reverse proxy; every route but /health and /metrics authenticates). */
    CLOUD_HTTP_HOST: z.string().min(1).default('127.0.0.1'),
    /**
     * Express `trust proxy` for the cloud HTTP API behind a reverse proxy: empty trusts none (the
     * client is the socket's peer); `loopback`, a hop count or addresses take the client from
     * X-Forwarded-For. Sign-in counts failures per client address (docs/auth.md), so behind a
     * proxy without this every client shares the proxy's count.
     */
    CLOUD_HTTP_TRUST_PROXY: z.string().default(''),
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
    /** The edge's Ed25519 private key (PEM), from `farmiq edges provision`. Unset: sync reports not_configured and idles. */
    EDGE_SIGNING_KEY_FILE: z
      .string()
      .optional()
      .transform((v) => v || undefined),
    /** Overrides the key id derived from the key (the one `edge add` printed). */
    EDGE_KEY_ID: z
      .string()
      .max(128)
      .optional()
      .transform((v) => v || undefined),
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

    // The downlink, cloud → farm server (docs/downlink.md)
    /** Edge: how long one pull of the cloud's commands waits for a command (the long-poll), at most 30. */
    DOWNLINK_WAIT_SECONDS: z.coerce.number().int().min(0).max(30).default(25),
    /**
     * Edge: the tenants this farm server serves (comma-separated uuids); a command for any other is
     * refused. Empty: the tenants it holds devices or flocks of.
     */
    EDGE_TENANTS: z
      .string()
      .default('')
      .refine((v) => v.split(',').every((t) => t.trim() === '' || /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(t.trim())), {
        message: 'EDGE_TENANTS must be comma-separated tenant uuids',
      }),
    /** Cloud: pulls of the edges' commands held open at once; more are answered 503 (the edge backs off). */
    DOWNLINK_MAX_WAITING_PULLS: positiveInt.max(100_000).default(1000),

    // Alarm rules on the farm server (docs/alarm-rules.md)
    /** Only readings measured this recently are judged by the alarm rules: history and backfill never raise. */
    ALARM_LIVE_WINDOW_SECONDS: positiveInt.default(600),
    /** A farm's alarm rules and flocks are reloaded by the bridge at least this often. */
    ALARM_RULES_REFRESH_SECONDS: positiveInt.max(3600).default(30),
    /** A raise or clear Temporal did not take is retried this often (ingest never waits for it). */
    ALARM_RETRY_SECONDS: positiveInt.max(600).default(5),

    // Alarm delivery on the farm server (docs/alarms.md, "Local delivery")
    /** The cloud counts as reachable while the last successful sync exchange is younger than this. */
    ALARM_CLOUD_GRACE_SECONDS: z.coerce.number().int().min(1).default(120),
    /**
     * The edge worker's broker login for the siren topics (farmiq/<tenant>/<farm>/<barn|_farm>/alarm/siren);
     * never a device's or the bridge's. Its password is derived from MQTT_BRIDGE_PASSWORD
     * (alarms/local-channels/mqtt-siren.ts), so there is no second broker secret to provision.
     */
    MQTT_ALARM_USERNAME: z.string().min(1).default('farmiq-alarms'),
    /** A LAN webhook that gets every locally delivered step as JSON (a dialler, a PLC); empty: none. */
    ALARM_LAN_WEBHOOK_URL: z.union([z.literal(''), z.string().url()]).default(''),
    /** How long one local delivery (siren publish, webhook POST) may take. */
    ALARM_LOCAL_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(5000),
    /** The edge operator API the CLI's `farmiq alarms` talks to, and its operator token (from `farmiq operators add`). */
    EDGE_OPERATOR_API_URL: z.union([z.literal(''), z.string().url()]).default(''),
    FARMIQ_OPERATOR_TOKEN: z.string().default(''),

    /** Seconds a process waits for a dependency (database, broker, Temporal) before giving up. */
    DEPENDENCY_WAIT_SECONDS: z.coerce.number().int().min(0).default(300),
    /** Seconds a process gets after SIGTERM to finish in-flight work. */
    SHUTDOWN_GRACE_SECONDS: z.coerce.number().int().min(1).default(20),
  })
  .superRefine((s, ctx) => {
    // zod runs this even when a field failed its own check: judge only well-formed durations.
    const seconds = (v: string) => (/^\d+\s*(s|m|h|d)?$/.test(v) ? durationSeconds(v) : undefined);
    const ttl = seconds(s.AUTH_TOKEN_TTL);
    const max = seconds(s.AUTH_TOKEN_MAX_TTL);
    if (ttl === undefined || max === undefined) return;
    if (ttl < 1) ctx.addIssue({ code: 'custom', path: ['AUTH_TOKEN_TTL'], message: 'must be at least 1 second' });
    if (max < 1 || max > 30 * 86_400) ctx.addIssue({ code: 'custom', path: ['AUTH_TOKEN_MAX_TTL'], message: 'must be between 1 second and 30 days' });
    if (ttl > max) ctx.addIssue({ code: 'custom', path: ['AUTH_TOKEN_TTL'], message: `must not exceed AUTH_TOKEN_MAX_TTL (${s.AUTH_TOKEN_MAX_TTL})` });
    const access = seconds(s.AUTH_ACCESS_TTL);
    if (access !== undefined && (access < 1 || access > max)) {
      ctx.addIssue({ code: 'custom', path: ['AUTH_ACCESS_TTL'], message: `must be between 1 second and AUTH_TOKEN_MAX_TTL (${s.AUTH_TOKEN_MAX_TTL})` });
    }
    for (const name of ['AUTH_REFRESH_TTL', 'AUTH_LOCKOUT_WINDOW', 'AUTH_LOCKOUT_DURATION'] as const) {
      const v = seconds(s[name]);
      if (v !== undefined && v < 1) ctx.addIssue({ code: 'custom', path: [name], message: 'must be at least 1 second' });
    }
  });

export type Settings = z.infer<typeof schema>;

let cached: Settings | undefined;

/** One error for every problem in the configuration: each line names a setting, never its value. */
export class ConfigError extends Error {
  declare readonly problems: ConfigProblem[];
  constructor(problems: ConfigProblem[], intro: string) {
    super(`${intro}\n${problems.map((p) => `  - ${p.setting}: ${p.message}`).join('\n')}`);
    this.name = 'ConfigError';
    // Not enumerable: an uncaught ConfigError prints its message once, not the list twice.
    Object.defineProperty(this, 'problems', { value: problems, enumerable: false });
  }
}

type Env = Record<string, string | undefined>;

/** Production mode: FARMIQ_ENV=production, or NODE_ENV=production (any case) with FARMIQ_ENV unset or empty. */
export function isProductionMode(env: Env): boolean {
  const nodeProduction = /^\s*production\s*$/i.test(env.NODE_ENV ?? '');
  if (env.FARMIQ_ENV === 'development' && nodeProduction) {
    throw new ConfigError(
      [{ setting: 'FARMIQ_ENV', message: 'development contradicts NODE_ENV=production; production mode cannot be switched off this way' }],
      'Invalid FarmIQ configuration:',
    );
  }
  return env.FARMIQ_ENV === 'production' || (!env.FARMIQ_ENV && nodeProduction);
}

export interface LoadOptions {
  /** Read $FARMIQ_HOME/secrets.env (outside production mode only); default true. */
  localSecrets?: boolean;
}

/**
 * Validates `env` (already holding FARMIQ_CONFIG's values) into Settings; one ConfigError naming
 * every invalid setting and, in production mode, every secret setting of FARMIQ_ROLE that is
 * unset, a development value or too weak. Pure apart from reading the local secrets file.
 */
export function loadSettings(env: Env, opts: LoadOptions = {}): Settings {
  const production = isProductionMode(env);
  const explicit: Env = { ...env };
  // An empty secret is an unset one (an example file's `MQTT_BRIDGE_PASSWORD=`); so is an empty switch.
  for (const name of ['FARMIQ_ENV', 'FARMIQ_ROLE', ...secretSettings.map((s) => s.name)]) if (explicit[name] === '') delete explicit[name];
  const input: Env = !production && opts.localSecrets !== false ? { ...readLocalSecrets(env), ...explicit } : explicit;
  // The refresh cookie goes over HTTPS only in production unless told otherwise.
  if (production && !input.AUTH_COOKIE_SECURE) input.AUTH_COOKIE_SECURE = 'true';

  const problems: ConfigProblem[] = [];
  const parsed = schema.safeParse(input);
  if (!parsed.success) {
    for (const i of parsed.error.issues) problems.push({ setting: i.path.join('.') || '(settings)', message: i.message });
  }
  if (production) {
    const role = (processRoles as readonly string[]).includes(explicit.FARMIQ_ROLE ?? '') ? (explicit.FARMIQ_ROLE as ProcessRole) : 'all';
    const invalid = new Set(problems.map((p) => p.setting));
    problems.push(...checkProductionSecrets(explicit, role).filter((p) => !invalid.has(p.setting)));
    if (problems.length) {
      const mode = env.FARMIQ_ENV === 'production' ? 'FARMIQ_ENV=production' : 'NODE_ENV=production';
      const roleNote = explicit.FARMIQ_ROLE
        ? `FARMIQ_ROLE=${explicit.FARMIQ_ROLE}`
        : 'FARMIQ_ROLE unset, so both edge and cloud secrets are checked; set FARMIQ_ROLE=edge or cloud';
      throw new ConfigError(
        problems,
        `FarmIQ refuses to start in production mode (${mode}; ${roleNote}). Set each setting below in the ` +
          'environment or FARMIQ_CONFIG to its own random value (e.g. `openssl rand -hex 32`; docs/security.md §7):',
      );
    }
  }
  if (!parsed.success || problems.length) throw new ConfigError(problems, 'Invalid FarmIQ configuration:');
  return parsed.data;
}

/** Reads FARMIQ_CONFIG (if set), the environment and the local secrets once, validating every value. */
export function settings(): Settings {
  if (cached) return cached;
  const file = process.env.FARMIQ_CONFIG;
  if (file) {
    if (!fs.existsSync(file)) throw new Error(`FARMIQ_CONFIG names ${file}, which does not exist`);
    process.loadEnvFile(file);
  }
  cached = loadSettings(process.env);
  return cached;
}

/** For tests: forget the cached settings so a changed environment is read again. */
export function resetSettingsForTests(): void {
  cached = undefined;
}
