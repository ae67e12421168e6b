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

  S3_ENDPOINT: z.string().url().default('http://127.0.0.1:9000'),
  S3_REGION: z.string().min(1).default('us-east-1'),
  S3_ACCESS_KEY: z.string().min(1).default('farmiq-edge'),
  S3_SECRET_KEY: z.string().min(1).default('farmiq-edge-dev-secret'),
  S3_BUCKET: z.string().min(3).default('farmiq-media'),

  EDGE_HTTP_PORT: port.default(8080),
  CLOUD_HTTP_PORT: port.default(8090),
  CLOUD_INGEST_URL: z.string().url().default('http://127.0.0.1:8090'),

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
