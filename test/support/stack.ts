/**
 * Where the integration tests find the real servers started by `make test` (scripts/services.sh).
 * Tests use their own databases (…_test) so a running `make up` stack keeps its data, and their
 * own random tenants so tests never see each other's rows.
 */
import path from 'node:path';

export const repoRoot = path.resolve(__dirname, '..', '..');
export const farmiqHome = process.env.FARMIQ_HOME ?? path.join(repoRoot, '.run');

export const testEdgeDatabaseUrl =
  process.env.TEST_EDGE_DATABASE_URL ?? 'postgres://farmiq:farmiq@127.0.0.1:5432/farmiq_edge_test';
export const testCloudDatabaseUrl =
  process.env.TEST_CLOUD_DATABASE_URL ?? 'postgres://farmiq:farmiq@127.0.0.1:5432/farmiq_cloud_test';

export const mqttUrl = process.env.MQTT_URL ?? 'mqtt://127.0.0.1:1883';
export const temporalAddress = process.env.TEMPORAL_ADDRESS ?? '127.0.0.1:7233';

/** The pinned time-skipping test server installed into the project venv by scripts/setup.sh. */
export const temporalTestServerPath =
  process.env.TEMPORAL_TEST_SERVER_PATH ?? path.join(repoRoot, '.venv', 'bin', 'temporal-test-server');
export const temporalCliPath = process.env.TEMPORAL_CLI_PATH ?? path.join(repoRoot, '.venv', 'bin', 'temporal');
