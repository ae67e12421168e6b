/**
 * Two queries that ordered bigint ids as text (`SELECT id::text AS id … ORDER BY id` sorts by the
 * text output column, so 99 comes after 100), found while benchmarking sync (docs/benchmarks.md):
 *
 * - the cloud outbox relay's claim: besides publishing out of order, it could not use its index and
 *   sorted every unpublished row on every round, which made the relay collapse under a backlog;
 * - the edge DLQ listing (newest first, keyset pages by id) and the status's "last dead event".
 *
 * Each is checked across a change in the number of digits of the ids (…, 98, 99, 100, 101). The
 * identity sequences are restarted for that, so this file has databases of its own.
 */
import { randomUUID } from 'node:crypto';
import { AmqpConnection } from '../../messaging/connection';
import { topologyNames } from '../../messaging/topology';
import { OutboxRelay } from '../../cloud/ingestion/outbox-relay';
import * as outbox from '../../sync/outbox';
import { seedRow } from '../activities/sync-db';
import { deleteTestTopology, testAmqpUrl, testTopologyPrefix } from '../support/amqp';
import { silentLog } from '../cloud/support';
import { openDatabases, type Databases } from './support';
import { until } from '../support/until';

let db: Databases;

beforeAll(async () => {
  db = await openDatabases('idorder');
}, 120_000);

afterAll(async () => {
  await db?.close();
});

describe('ids are ordered as numbers', () => {
  it('the outbox relay publishes the oldest rows first: 98, 99 before 100, 101', async () => {
    await db.cloud.query('ALTER TABLE ingestion_outbox ALTER COLUMN id RESTART WITH 98');
    const tenant = randomUUID();
    for (let i = 0; i < 4; i++) {
      await db.cloud.query(
        `INSERT INTO ingestion_outbox (tenant_id, event_id, routing_key, envelope, edge_id) VALUES ($1, $2, 'telemetry.ingested', '{}', 'edge-order')`,
        [tenant, randomUUID()],
      );
    }
    const names = topologyNames(testTopologyPrefix('idorder'));
    const connection = new AmqpConnection({ url: testAmqpUrl, name: 'test-idorder', log: silentLog, maxBackoffMs: 1000 });
    // One round of two rows; the sweep is not started, so only this round publishes.
    const relay = new OutboxRelay({ pool: db.cloud, connection, names, deliveryLimit: 5, log: silentLog, batchSize: 2, retentionHours: 24 });
    try {
      connection.start();
      await until('connected to RabbitMQ', 30_000, async () => connection.isConnected);
      expect(await relay.publishRound()).toBe(2);
      const { rows } = await db.cloud.query<{ id: string }>(
        `SELECT id::text FROM ingestion_outbox WHERE published_at IS NOT NULL ORDER BY ingestion_outbox.id`,
      );
      expect(rows.map((r) => r.id)).toEqual(['98', '99']);
    } finally {
      await relay.stop();
      await deleteTestTopology(names).catch(() => undefined);
      await connection.stop();
    }
  });

  it('the edge DLQ lists newest first by id, in keyset pages, and the status names the last dead event', async () => {
    await db.edge.query('ALTER TABLE sync_outbox ALTER COLUMN id RESTART WITH 98');
    const tenant = randomUUID();
    const ids: string[] = [];
    for (let i = 0; i < 4; i++) ids.push(await seedRow(db.edge, { tenant, status: 'dlq', attemptCount: 10, lastError: `error ${i}` }));
    expect(ids).toEqual(['98', '99', '100', '101']);

    const first = await outbox.listDead(db.edge, { status: 'dlq', limit: 2 });
    expect(first.map((r) => r.id)).toEqual(['101', '100']);
    const next = await outbox.listDead(db.edge, { status: 'dlq', limit: 2, before: first[1].id });
    expect(next.map((r) => r.id)).toEqual(['99', '98']);

    const figures = await outbox.outboxFigures(db.edge);
    expect(figures.lastDead).toMatchObject({ id: '101', status: 'dlq', lastError: 'error 3' });
  });
});
