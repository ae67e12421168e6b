/**
 * The outbox relay as the cloud HTTP process runs it beside the ingestion endpoint: its own small
 * pool (a round holds one connection while it waits for confirms) and its own AMQP connection,
 * both from the settings the process's main passes in. Stopping finishes the round in progress; killing the process instead loses
 * nothing either (unmarked rows are published again).
 */
import type { Settings } from '../../config/settings';
import { createPool } from '../../db/pool';
import { AmqpConnection } from '../../messaging/connection';
import { topologyNames } from '../../messaging/topology';
import type { CheckResult } from '../../platform/health';
import type { Logger } from '../../platform/logger';
import { OutboxRelay } from './outbox-relay';

export interface RunningRelay {
  relay: OutboxRelay;
  /** For the HTTP app's /health: RabbitMQ reachable and the last round could publish. */
  health(): CheckResult;
  stop(): Promise<void>;
}

export type OutboxRelaySettings = Pick<
  Settings,
  | 'CLOUD_DATABASE_URL'
  | 'AMQP_URL'
  | 'AMQP_TOPOLOGY_PREFIX'
  | 'AMQP_DELIVERY_LIMIT'
  | 'CLOUD_RELAY_BATCH_SIZE'
  | 'CLOUD_RELAY_CONCURRENCY'
  | 'CLOUD_RELAY_SWEEP_MS'
  | 'CLOUD_OUTBOX_RETENTION_HOURS'
>;

export function startOutboxRelay({ log, settings: s }: { log: Logger; settings: OutboxRelaySettings }): RunningRelay {
  const pool = createPool(s.CLOUD_DATABASE_URL, { applicationName: 'farmiq-outbox-relay', max: 3, log });
  const connection = new AmqpConnection({ url: s.AMQP_URL, name: 'farmiq-outbox-relay', log });
  const relay = new OutboxRelay({
    pool,
    connection,
    names: topologyNames(s.AMQP_TOPOLOGY_PREFIX),
    deliveryLimit: s.AMQP_DELIVERY_LIMIT,
    log,
    batchSize: s.CLOUD_RELAY_BATCH_SIZE,
    concurrency: s.CLOUD_RELAY_CONCURRENCY,
    sweepIntervalMs: s.CLOUD_RELAY_SWEEP_MS,
    retentionHours: s.CLOUD_OUTBOX_RETENTION_HOURS,
  });
  relay.start();
  return {
    relay,
    health: () => (relay.healthy ? { ok: true } : { ok: false, detail: connection.isConnected ? 'publishing fails' : 'RabbitMQ not connected' }),
    async stop() {
      await relay.stop();
      await connection.stop();
      await pool.end();
    },
  };
}
