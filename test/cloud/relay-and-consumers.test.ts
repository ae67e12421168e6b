/**
 * The cloud pipeline against the real servers: HTTP ingestion → ingestion_outbox → relay (confirms)
 * → RabbitMQ (farmiq_test vhost, this file's own exchange and queues) → consumer services → cloud
 * tables. Proves exactly-once into the tables when messages are published twice, the routing of
 * spec §8, dead-lettering of poison messages without blocking the queue, and that a RabbitMQ
 * restart in the middle loses nothing.
 */
import { randomUUID } from 'node:crypto';
import type { Pool, PoolClient } from 'pg';
import { createPool } from '../../db/pool';
import { eventCatalog, type EventType } from '../../domain/contracts';
import { AmqpConnection } from '../../messaging/connection';
import { assertTopology, consumerServices, eventTypesConsumedBy, queueNameOf, topologyNames } from '../../messaging/topology';
import { OutboxRelay } from '../../cloud/ingestion/outbox-relay';
import type { ConsumeMessage } from 'amqplib';
import { CloudConsumers } from '../../cloud/consumers/cloud-consumers';
import { EventConsumer } from '../../cloud/consumers/event-consumer';
import { telemetryService } from '../../cloud/consumers/telemetry-service';
import { TransientError } from '../../messaging/consumer';
import { DeadLetterRecorder } from '../../cloud/consumers/dead-letter-recorder';
import { consumerServiceList } from '../../cloud/consumers/services';
import { consumerMetrics } from '../../cloud/metrics';
import { testCloudDatabaseUrl } from '../support/stack';
import { deleteTestTopology, rabbitmqctl, testAmqpUrl, testTopologyPrefix, withTestChannel } from '../support/amqp';
import { batchOf, cleanupTenants, edgeEvent, newEdge, postSigned, resultsOf, silentLog, startIngestionServer, type TestEdge, type TestServer } from './support';
import { until } from '../support/until';

const deliveryLimit = 3;
const names = topologyNames(testTopologyPrefix('pipeline'));
const tenant = randomUUID();
const tenants = [tenant];

let pool: Pool;
let relayConnection: AmqpConnection;
let consumerConnection: AmqpConnection;
let relay: OutboxRelay;
let consumers: CloudConsumers;
let server: TestServer;
let edge: TestEdge;

async function count(sql: string, params: unknown[] = [tenant]): Promise<number> {
  const { rows } = await pool.query(sql, params);
  return Number(rows[0].n);
}

async function duplicatesAbsorbed(): Promise<number> {
  const m = await consumerMetrics.messages.get();
  return m.values.filter((v) => v.labels.outcome === 'duplicate').reduce((n, v) => n + v.value, 0);
}

async function post(events: unknown[]): Promise<void> {
  const res = await postSigned(server.base, edge, batchOf(edge, events));
  expect(res.status).toBe(200);
  expect(resultsOf(res).filter((r: { status: string }) => r.status === 'rejected')).toEqual([]);
}

function expectedDedupeRows(events: { event_type: string }[]): number {
  return events.reduce((n, e) => n + eventCatalog[e.event_type as EventType].consumers.length, 0);
}

beforeAll(async () => {
  pool = createPool(testCloudDatabaseUrl, { applicationName: 'farmiq-test-pipeline', max: 20 });
  relayConnection = new AmqpConnection({ url: testAmqpUrl, name: 'test-relay', log: silentLog, maxBackoffMs: 1000 });
  consumerConnection = new AmqpConnection({ url: testAmqpUrl, name: 'test-consumers', log: silentLog, maxBackoffMs: 1000 });
  relay = new OutboxRelay({
    pool,
    connection: relayConnection,
    names,
    deliveryLimit,
    log: silentLog,
    batchSize: 500,
    sweepIntervalMs: 250,
    retentionHours: 24,
  });
  consumers = new CloudConsumers({ pool, connection: consumerConnection, names, deliveryLimit, log: silentLog, prefetch: 200, batchMax: 100 });
  relay.start();
  consumers.start();
  await until('every consumer subscribed', 30_000, async () => Object.values(consumers.status()).every(Boolean));
  server = await startIngestionServer({ pool, relay });
  edge = await newEdge(pool, tenants);
});

afterAll(async () => {
  await server?.close();
  await consumers?.stop();
  await relay?.stop();
  await relayConnection?.stop();
  await consumerConnection?.stop();
  await deleteTestTopology(names).catch(() => {});
  if (pool) {
    await cleanupTenants(pool, tenants, edge ? [edge.edgeId] : []);
    await pool.end();
  }
});

test('every consumer service handles exactly the event types the catalog routes to it', () => {
  expect(consumerServiceList.map((s) => s.name).sort()).toEqual([...consumerServices].sort());
  for (const service of consumerServiceList) {
    expect(Object.keys(service.writers).sort()).toEqual(eventTypesConsumedBy(service.name).sort());
  }
  expect([...consumerServices].sort()).toEqual([
    'cloud-alarm-service',
    'cloud-analytics-service',
    'cloud-feed-service',
    'cloud-flock-service',
    'cloud-media-store',
    'cloud-telemetry-service',
    'internal-monitoring',
  ]);
});

test('a database outage holds messages (no delivery counted, nothing dead-lettered) and the relay simply waits', async () => {
  const deadPool = createPool('postgres://farmiq:farmiq@127.0.0.1:1/farmiq_cloud_test', { connectionTimeoutMillis: 1000 });
  const idle = new AmqpConnection({ url: testAmqpUrl, name: 'test-idle', log: silentLog });
  try {
    const consumer = new EventConsumer({
      service: telemetryService,
      pool: deadPool,
      connection: idle,
      names,
      deliveryLimit,
      log: silentLog,
      prefetch: 1,
      batchMax: 1,
    });
    const event = edgeEvent('telemetry.reading', tenant);
    const lastDelivery = {
      content: Buffer.from(JSON.stringify(event)),
      fields: { deliveryTag: 1, redelivered: true, exchange: names.exchange, routingKey: 'telemetry.ingested', consumerTag: 'test' },
      properties: { headers: { 'x-delivery-count': deliveryLimit } },
    } as unknown as ConsumeMessage;
    await expect(consumer.handle([lastDelivery])).rejects.toBeInstanceOf(TransientError);

    const deadRelay = new OutboxRelay({ pool: deadPool, connection: relayConnection, names, deliveryLimit, log: silentLog });
    expect(await deadRelay.publishRound()).toBe(0);
    expect(deadRelay.healthy).toBe(false);
  } finally {
    await idle.stop();
    await deadPool.end();
  }
});

test('a failure that is not the data (a writer bug) is requeued until the delivery limit, then dead-lettered as handler_error; a refusal is dead-lettered at once', async () => {
  const idle = new AmqpConnection({ url: testAmqpUrl, name: 'test-idle-verdicts', log: silentLog });
  try {
    const broken = {
      name: `test-broken-writer-${randomUUID().slice(0, 8)}`,
      writers: {
        'telemetry.reading': async () => {
          throw new Error('writer bug');
        },
      },
    };
    const consumer = new EventConsumer({ service: broken, pool, connection: idle, names, deliveryLimit, log: silentLog, prefetch: 1, batchMax: 1 });
    const delivery = (event: unknown, previous: number) =>
      ({
        content: Buffer.from(JSON.stringify(event)),
        fields: { deliveryTag: 1, redelivered: previous > 0, exchange: names.exchange, routingKey: 'telemetry.ingested', consumerTag: 'test' },
        properties: { headers: previous > 0 ? { 'x-delivery-count': previous } : {} },
      }) as unknown as ConsumeMessage;
    const event = edgeEvent('telemetry.reading', tenant);
    expect(await consumer.handle([delivery(event, 0)])).toEqual(['requeue']);
    expect(await consumer.handle([delivery(event, deliveryLimit - 1)])).toEqual(['requeue']);
    expect(await consumer.handle([delivery(event, deliveryLimit)])).toEqual(['ack']);
    const { rows } = await pool.query('SELECT reason, delivery_count FROM dead_letters WHERE tenant_id = $1 AND event_id = $2', [tenant, event.event_id]);
    expect(rows).toEqual([{ reason: 'handler_error: writer bug', delivery_count: deliveryLimit + 1 }]);

    const refusing = {
      name: broken.name,
      writers: {
        'telemetry.reading': async (client: PoolClient) => {
          await client.query('SELECT 1/0');
        },
      },
    };
    const strict = new EventConsumer({ service: refusing, pool, connection: idle, names, deliveryLimit, log: silentLog, prefetch: 1, batchMax: 1 });
    const refused = edgeEvent('telemetry.reading', tenant);
    expect(await strict.handle([delivery(refused, 0)])).toEqual(['ack']);
    const letter = await pool.query('SELECT reason, delivery_count FROM dead_letters WHERE tenant_id = $1 AND event_id = $2', [tenant, refused.event_id]);
    expect(letter.rows).toEqual([{ reason: expect.stringMatching(/^storage_refused:22012: division by zero/), delivery_count: 1 }]);
  } finally {
    await idle.stop();
  }
});

describe('accepted events reach their tables exactly once', () => {
  const session = `session-${randomUUID().slice(0, 8)}`;
  const mediaId = randomUUID();
  const readings = Array.from({ length: 20 }, (_, i) => edgeEvent('telemetry.reading', tenant, { payload: { value: 20 + i } }));
  // WeighVision events out of order: finalized, then the weights, then created.
  const finalized = edgeEvent('weighvision.session.finalized', tenant, { session_id: session, ts: '2025-01-01T10:07:00Z', payload: { image_count: 1 } });
  const weights = [118, 121, 140].map((kg, i) =>
    edgeEvent('weighvision.weight.recorded', tenant, { session_id: session, ts: `2025-01-01T10:05:1${i}Z`, payload: { weight_kg: kg, stable: kg !== 140 } }),
  );
  const created = edgeEvent('weighvision.session.created', tenant, { session_id: session, ts: '2025-01-01T10:05:00Z' });
  const rollupV2 = edgeEvent('telemetry.aggregated', tenant, { payload: { revision: 2, count: 7, mean: 26.2 } });
  const rollupV1 = edgeEvent('telemetry.aggregated', tenant, { payload: { revision: 1, count: 6, mean: 26.1 } });
  const feed = edgeEvent('feed.intake.recorded', tenant, { payload: { source_event_id: randomUUID() } });
  const media = edgeEvent('media.stored', tenant, { payload: { session_id: session, media_id: mediaId } });
  const inference = edgeEvent('inference.completed', tenant, {
    payload: { session_id: session, media_id: mediaId, estimated_weight_kg: 119.5, confidence: 0.9, quality_flags: ['blurred'] },
  });
  const acked = edgeEvent('sync.batch.acked', tenant);
  const all = [...readings, finalized, ...weights, created, rollupV2, rollupV1, feed, media, inference, acked];

  async function snapshot() {
    const q = (sql: string) => pool.query(sql, [tenant]).then((r) => r.rows);
    return {
      telemetry: await count('SELECT count(*) AS n FROM telemetry_raw WHERE tenant_id = $1'),
      weights: await count('SELECT count(*) AS n FROM weighvision_weights WHERE tenant_id = $1'),
      feed: await count('SELECT count(*) AS n FROM feed_intake WHERE tenant_id = $1'),
      media: await count('SELECT count(*) AS n FROM media_objects WHERE tenant_id = $1'),
      inference: await count('SELECT count(*) AS n FROM inference_results WHERE tenant_id = $1'),
      dedupe: await count('SELECT count(*) AS n FROM consumer_dedupe WHERE tenant_id = $1'),
      sessions: await q(`SELECT session_id, farm_id, barn_id, station_id, status, started_at, finalized_at, image_count, reading_count,
                                weight_kg::float8 AS weight_kg, vision_weight_kg::float8 AS vision_weight_kg, vision_confidence, quality_flags
                         FROM weighvision_sessions WHERE tenant_id = $1`),
      rollups: await q('SELECT revision, reading_count::int AS reading_count, value_mean FROM telemetry_rollups WHERE tenant_id = $1'),
    };
  }

  test('through ingestion, the relay and the consumers', async () => {
    await post([...readings, finalized]);
    await post([...weights, rollupV2]);
    await post([created, rollupV1, feed, media, inference, acked]);

    await until(
      'all events consumed',
      30_000,
      async () => (await count('SELECT count(*) AS n FROM consumer_dedupe WHERE tenant_id = $1')) === expectedDedupeRows(all),
    );
    const s = await snapshot();
    expect(s).toEqual({
      telemetry: 20,
      weights: 3,
      feed: 1,
      media: 1,
      inference: 1,
      dedupe: expectedDedupeRows(all),
      sessions: [
        {
          session_id: session,
          farm_id: 'farm-1',
          barn_id: 'barn-1',
          station_id: created.device_id,
          status: 'finalized',
          started_at: new Date('2025-01-01T10:05:00Z'),
          finalized_at: new Date('2025-01-01T10:07:00Z'),
          image_count: 1,
          reading_count: 3,
          weight_kg: 119.5, // median of the stable readings 118 and 121; 140 was unstable
          vision_weight_kg: 119.5,
          vision_confidence: 0.9,
          quality_flags: ['blurred'],
        },
      ],
      rollups: [{ revision: 2, reading_count: 7, value_mean: 26.2 }],
    });
    const t = await pool.query('SELECT farm_id, barn_id, trace_id FROM telemetry_raw WHERE tenant_id = $1 AND event_id = $2', [tenant, readings[0].event_id]);
    expect(t.rows).toEqual([{ farm_id: 'farm-1', barn_id: 'barn-1', trace_id: readings[0].trace_id }]);
    expect(await count('SELECT count(*) AS n FROM ingestion_outbox WHERE tenant_id = $1 AND published_at IS NULL')).toBe(0);
  });

  test('sessions whose events arrive shuffled across two queues end with complete summaries', async () => {
    const sessions = Array.from({ length: 30 }, () => `stress-${randomUUID().slice(0, 8)}`);
    const events = sessions.flatMap((session) => {
      const images = [randomUUID(), randomUUID()];
      return [
        edgeEvent('weighvision.session.created', tenant, { session_id: session }),
        ...[100, 102, 104].map((kg) => edgeEvent('weighvision.weight.recorded', tenant, { session_id: session, payload: { weight_kg: kg, stable: true } })),
        edgeEvent('weighvision.session.finalized', tenant, { session_id: session, payload: { image_count: 2 } }),
        ...images.map((mediaId, i) =>
          edgeEvent('inference.completed', tenant, {
            payload: { session_id: session, media_id: mediaId, estimated_weight_kg: 100 + 2 * i, confidence: 0.8, quality_flags: [] },
          }),
        ),
      ];
    });
    for (let i = events.length - 1; i > 0; i--) {
      const j = Math.floor(Math.random() * (i + 1));
      [events[i], events[j]] = [events[j], events[i]];
    }
    for (let i = 0; i < events.length; i += 30) await post(events.slice(i, i + 30));
    await until(
      'all session events consumed',
      30_000,
      async () =>
        (await count('SELECT count(*) AS n FROM consumer_dedupe WHERE tenant_id = $1 AND event_id = ANY($2::uuid[])', [
          tenant,
          events.map((e) => e.event_id),
        ])) === expectedDedupeRows(events),
    );
    const { rows } = await pool.query(
      `SELECT session_id, status, reading_count, weight_kg::float8 AS weight_kg, vision_weight_kg::float8 AS vision_weight_kg, image_count
       FROM weighvision_sessions WHERE tenant_id = $1 AND session_id = ANY($2) ORDER BY session_id`,
      [tenant, sessions],
    );
    expect(rows).toEqual(
      [...sessions].sort().map((session_id) => ({ session_id, status: 'finalized', reading_count: 3, weight_kg: 102, vision_weight_kg: 101, image_count: 2 })),
    );
  });

  test('routing follows spec §8: each event reached exactly the services of its catalog entry', async () => {
    const { rows } = await pool.query(
      'SELECT event_id::text, array_agg(consumer ORDER BY consumer) AS consumers FROM consumer_dedupe WHERE tenant_id = $1 GROUP BY event_id',
      [tenant],
    );
    const byEvent = new Map(rows.map((r) => [r.event_id, r.consumers]));
    for (const e of all) expect([e.event_type, byEvent.get(e.event_id)]).toEqual([e.event_type, [...eventCatalog[e.event_type].consumers].sort()]);
    expect(byEvent.get(finalized.event_id)).toEqual(['cloud-analytics-service', 'cloud-telemetry-service']);
  });

  test('the same outbox rows published a second time change nothing: consumer_dedupe absorbs them', async () => {
    const before = await snapshot();
    const absorbedBefore = await duplicatesAbsorbed();
    const republished = await pool.query('UPDATE ingestion_outbox SET published_at = NULL WHERE tenant_id = $1 AND event_id = ANY($2::uuid[])', [
      tenant,
      all.map((e) => e.event_id),
    ]);
    expect(republished.rowCount).toBe(all.length);
    relay.nudge();
    await until('the second copies consumed', 30_000, async () => (await duplicatesAbsorbed()) - absorbedBefore >= expectedDedupeRows(all));
    expect((await duplicatesAbsorbed()) - absorbedBefore).toBe(expectedDedupeRows(all));
    expect(await snapshot()).toEqual(before);
  });
});

describe('poison messages are dead-lettered (at once when they can never succeed) and never block the queue', () => {
  test('a valid event the database refuses (a rollup with min > max) is dead-lettered at its first delivery with the SQLSTATE; the messages after it are stored', async () => {
    const poison = edgeEvent('telemetry.aggregated', tenant, { payload: { farm_id: 'farm-poison', min: 30, max: 20 } });
    const goodRollup = edgeEvent('telemetry.aggregated', tenant, { payload: { farm_id: 'farm-good' } });
    const after = Array.from({ length: 10 }, () => edgeEvent('telemetry.reading', tenant, { farm_id: 'farm-after-poison' }));
    await post([poison, goodRollup, ...after]);
    await post([edgeEvent('telemetry.reading', tenant, { farm_id: 'farm-after-poison' })]);

    const letter = await until('the dead letter', 30_000, async () => {
      const { rows } = await pool.query('SELECT * FROM dead_letters WHERE tenant_id = $1 AND event_id = $2', [tenant, poison.event_id]);
      return rows[0];
    });
    expect(letter).toEqual(
      expect.objectContaining({
        queue: queueNameOf(names, 'cloud-analytics-service'),
        routing_key: 'telemetry.aggregated',
        reason: expect.stringMatching(/^storage_refused:23514: .*check constraint/),
        delivery_count: 1,
        envelope: poison,
        body: null,
        trace_id: poison.trace_id,
      }),
    );
    // The relay's headers: ids, event type, trace and the x-request-id of the ingestion request.
    const ingestionRequest = await pool.query('SELECT request_id FROM ingestion_outbox WHERE tenant_id = $1 AND event_id = $2', [tenant, poison.event_id]);
    expect(letter.headers).toEqual(
      expect.objectContaining({
        event_id: poison.event_id,
        tenant_id: tenant,
        event_type: 'telemetry.aggregated',
        trace_id: poison.trace_id,
        edge_id: edge.edgeId,
        'x-request-id': ingestionRequest.rows[0].request_id,
        'message-id': `${tenant}/${poison.event_id}`,
      }),
    );
    expect(ingestionRequest.rows[0].request_id).toMatch(/^[0-9a-f-]{36}$/);
    await until(
      'readings after the poison',
      30_000,
      async () => (await count(`SELECT count(*) AS n FROM telemetry_raw WHERE tenant_id = $1 AND farm_id = 'farm-after-poison'`)) === 11,
    );
    expect(await count(`SELECT count(*) AS n FROM telemetry_rollups WHERE tenant_id = $1 AND farm_id = 'farm-good'`)).toBe(1);
    expect(await count(`SELECT count(*) AS n FROM telemetry_rollups WHERE tenant_id = $1 AND farm_id = 'farm-poison'`)).toBe(0);
    // Delivered once (redelivering it could never help), stored once.
    expect(await count('SELECT count(*) AS n FROM dead_letters WHERE tenant_id = $1 AND event_id = $2', [tenant, poison.event_id])).toBe(1);
  });

  test('garbage published straight to the exchange is dead-lettered at once with its bytes and reason; good messages keep flowing', async () => {
    const marker = randomUUID();
    const garbage = Buffer.from(`\u0000not json ${marker}`);
    const notAnEvent = JSON.stringify({ hello: 'world', marker });
    await withTestChannel(async (ch) => {
      ch.publish(names.exchange, 'telemetry.ingested', garbage, { persistent: true, messageId: `garbage-${marker}` });
      ch.publish(names.exchange, 'telemetry.ingested', Buffer.from(notAnEvent), { persistent: true, messageId: `json-${marker}` });
      await ch.waitForConfirms();
    });
    const good = Array.from({ length: 5 }, () => edgeEvent('telemetry.reading', tenant, { farm_id: 'farm-after-garbage' }));
    await post(good);

    const queue = queueNameOf(names, 'cloud-telemetry-service');
    const letters = await until('two dead letters', 30_000, async () => {
      const { rows } = await pool.query(
        `SELECT reason, delivery_count, envelope, body, tenant_id, headers->>'message-id' AS message_id FROM dead_letters
         WHERE queue = $1 AND (body = $2 OR envelope->>'marker' = $3) ORDER BY reason`,
        [queue, garbage, marker],
      );
      return rows.length === 2 ? rows : undefined;
    });
    expect(letters).toEqual([
      { reason: 'invalid_json', delivery_count: 1, envelope: null, body: garbage, tenant_id: null, message_id: `garbage-${marker}` },
      {
        reason: 'schema_violation:event_type',
        delivery_count: 1,
        envelope: { hello: 'world', marker },
        body: null,
        tenant_id: null,
        message_id: `json-${marker}`,
      },
    ]);
    await until(
      'good readings',
      30_000,
      async () => (await count(`SELECT count(*) AS n FROM telemetry_raw WHERE tenant_id = $1 AND farm_id = 'farm-after-garbage'`)) === 5,
    );
  });

  test('a message the broker dead-letters itself (its consumer kept failing without a verdict) is recorded with reason delivery_limit', async () => {
    const crashNames = topologyNames(testTopologyPrefix('crash'));
    const recorderConnection = new AmqpConnection({ url: testAmqpUrl, name: 'test-recorder', log: silentLog });
    const recorder = new DeadLetterRecorder({ pool, connection: recorderConnection, names: crashNames, deliveryLimit, log: silentLog });
    try {
      recorder.start();
      await until('recorder subscribed', 30_000, async () => recorder.isConsuming);
      const eventId = randomUUID();
      const deliveries = await withTestChannel(async (ch) => {
        await assertTopology(ch, crashNames, { deliveryLimit });
        ch.publish(crashNames.exchange, 'feed.intake.recorded', Buffer.from('{"truncated":'), {
          persistent: true,
          headers: { tenant_id: tenant, event_id: eventId, trace_id: 'trace-crash' },
        });
        await ch.waitForConfirms();
        let n = 0;
        await ch.consume(queueNameOf(crashNames, 'cloud-feed-service'), (msg) => {
          if (!msg) return;
          n++;
          ch.nack(msg, false, true); // a consumer that dies on every delivery, as far as RabbitMQ can tell
        });
        await until(
          'broker dead letter',
          30_000,
          async () => (await pool.query('SELECT 1 FROM dead_letters WHERE tenant_id = $1 AND event_id = $2', [tenant, eventId])).rowCount,
        );
        return n;
      });
      expect(deliveries).toBe(deliveryLimit + 1);
      const { rows } = await pool.query(
        'SELECT queue, routing_key, reason, delivery_count, body, trace_id FROM dead_letters WHERE tenant_id = $1 AND event_id = $2',
        [tenant, eventId],
      );
      expect(rows).toEqual([
        {
          queue: queueNameOf(crashNames, 'cloud-feed-service'),
          routing_key: 'feed.intake.recorded',
          reason: 'delivery_limit',
          delivery_count: deliveryLimit + 1,
          body: Buffer.from('{"truncated":'),
          trace_id: 'trace-crash',
        },
      ]);
    } finally {
      await recorder.stop();
      await recorderConnection.stop();
      await deleteTestTopology(crashNames).catch(() => {});
    }
  });
});

test('a RabbitMQ restart in the middle of a stream loses nothing', async () => {
  const batches = 12;
  const perBatch = 200;
  const farm = 'farm-restart';
  const sent: string[] = [];
  const readingsFor = () => Array.from({ length: perBatch }, () => edgeEvent('telemetry.reading', tenant, { farm_id: farm }));
  // The sender waits on this before each batch: open now, closed while RabbitMQ is down.
  let paused: Promise<void> = Promise.resolve();
  const sender = (async () => {
    for (let b = 0; b < batches; b++) {
      await paused;
      const events = readingsFor();
      await post(events);
      sent.push(...events.map((e) => e.event_id));
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  await until('the first batches sent', 30_000, async () => sent.length >= 3 * perBatch);

  let resume!: () => void;
  paused = new Promise<void>((r) => (resume = r));
  await rabbitmqctl('stop_app');
  try {
    // Ingestion does not need RabbitMQ: this batch is accepted, and its rows wait in the outbox.
    const during = readingsFor();
    await post(during);
    sent.push(...during.map((e) => e.event_id));
    await new Promise((r) => setTimeout(r, 1000));
    expect(
      await count('SELECT count(*) AS n FROM ingestion_outbox WHERE event_id = ANY($1::uuid[]) AND published_at IS NULL', [during.map((e) => e.event_id)]),
    ).toBe(perBatch);
    expect(relay.healthy).toBe(false);
  } finally {
    await rabbitmqctl('start_app');
    await rabbitmqctl('await_startup', '--timeout', '60');
    resume();
  }
  await sender;

  const total = (batches + 1) * perBatch;
  await until(
    'every reading stored',
    90_000,
    async () => (await count(`SELECT count(*) AS n FROM telemetry_raw WHERE tenant_id = $1 AND farm_id = '${farm}'`)) === total,
  );
  expect(
    await count(
      `SELECT count(*) AS n FROM consumer_dedupe d JOIN telemetry_raw t USING (tenant_id, event_id) WHERE d.tenant_id = $1 AND t.farm_id = '${farm}' AND d.consumer = 'cloud-telemetry-service'`,
    ),
  ).toBe(total);
  await until(
    'outbox drained',
    30_000,
    async () => (await count('SELECT count(*) AS n FROM ingestion_outbox WHERE tenant_id = $1 AND published_at IS NULL')) === 0,
  );
  const stored = await pool.query(`SELECT event_id::text FROM telemetry_raw WHERE tenant_id = $1 AND farm_id = $2`, [tenant, farm]);
  expect(new Set(stored.rows.map((r) => r.event_id))).toEqual(new Set(sent));
  await until('consumers subscribed again', 30_000, async () => Object.values(consumers.status()).every(Boolean));
  expect(relay.healthy).toBe(true);
}, 180_000);

test('two relays share the outbox: one stuck mid-round neither blocks the other nor gets its rows published twice', async () => {
  await relay.stop(); // the two below do the publishing now; the ingestion nudge reaches nobody
  const connections = [0, 1].map((i) => new AmqpConnection({ url: testAmqpUrl, name: `test-relay-${i}`, log: silentLog }));
  const relays = connections.map((connection) => new OutboxRelay({ pool, connection, names, deliveryLimit, log: silentLog, batchSize: 500 }));
  const stuck = await pool.connect();
  try {
    for (const c of connections) c.start();
    await Promise.all(connections.map((c) => c.ready()));
    const events = Array.from({ length: 1000 }, () => edgeEvent('telemetry.reading', tenant, { farm_id: 'farm-two-relays' }));
    await post(events.slice(0, 500));
    await post(events.slice(500));
    const absorbedBefore = await duplicatesAbsorbed();
    const first = events.slice(0, 500).map((e) => e.event_id);

    // A relay that claimed the first 500 rows and hangs before its commit.
    await stuck.query('BEGIN');
    await stuck.query('SELECT id FROM ingestion_outbox WHERE event_id = ANY($1::uuid[]) FOR UPDATE', [first]);
    const other = await Promise.race([relays[1].publishRound(), new Promise<string>((r) => setTimeout(() => r('blocked'), 5000))]);
    expect(other).toBe(500);
    expect(await count('SELECT count(*) AS n FROM ingestion_outbox WHERE event_id = ANY($1::uuid[]) AND published_at IS NULL', [first])).toBe(500);

    await stuck.query('ROLLBACK'); // the stuck one dies: its rows are free again
    expect(await relays[0].publishRound()).toBe(500);
    await until(
      'all consumed',
      30_000,
      async () => (await count(`SELECT count(*) AS n FROM telemetry_raw WHERE tenant_id = $1 AND farm_id = 'farm-two-relays'`)) === 1000,
    );
    expect(await duplicatesAbsorbed()).toBe(absorbedBefore);
  } finally {
    await stuck.query('ROLLBACK').catch(() => {});
    stuck.release();
    for (const r of relays) await r.stop();
    for (const c of connections) await c.stop();
  }
});
