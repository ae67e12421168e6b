/**
 * Issue 3: "RabbitMQ restarted mid-run: nothing lost" — and nothing doubled in the cloud tables.
 *
 * A mixed backlog (telemetry readings of two tenants, feed intake, WeighVision sessions whose
 * `finalized` event fans out to two consumer queues) is synced through the real processes, and
 * RabbitMQ is restarted (`rabbitmqctl stop_app && start_app`, every connection dropped) once the
 * first readings have reached the cloud table. The cloud HTTP process keeps accepting batches (its
 * relay's rounds fail and the rows wait in ingestion_outbox), the consumers lose their channels with
 * messages unacknowledged; both reconnect. At the end every table holds each event exactly once:
 * rows per table, per consumer (consumer_dedupe), per session (reading_count recomputed from the
 * stored weights), every outbox row published, no dead letter.
 */
import { randomUUID } from 'node:crypto';
import { metricValue } from '../support/processes';
import { restartRabbitApp } from '../support/amqp';
import { edgeEvent } from '../cloud/support';
import { appendToOutbox, countOf, openDatabases, outboxCounts, SyncStack, telemetryReadings, type Databases, type OutboxEvent } from './support';
import { until } from '../support/until';

const tenants = [randomUUID(), randomUUID()];
const readingsPerTenant = 6000;
const feedRecords = 300;
const sessions = 20;
const weightsPerSession = 10;

let db: Databases;
let stack: SyncStack;

beforeAll(async () => {
  db = await openDatabases('rabbit');
  // Small batches, so the run is long enough for the restart to land in the middle of it.
  stack = await SyncStack.create({ label: 'rabbit', db, tenants, edgeEnv: { SYNC_BATCH_SIZE: '100' } });
}, 180_000);

afterAll(async () => {
  await stack?.cleanup();
  await db?.close();
}, 180_000);

function backlog(): OutboxEvent[] {
  const start = Date.now() - 3_600_000;
  const at = (ms: number) => new Date(start + ms).toISOString();
  const events: OutboxEvent[] = telemetryReadings(tenants, readingsPerTenant, 10, start);
  for (let i = 0; i < feedRecords; i++) {
    events.push(edgeEvent('feed.intake.recorded', tenants[i % 2], { ts: at(i * 7), device_id: 'dispenser-1', payload: { source_event_id: randomUUID() } }));
  }
  for (let s = 0; s < sessions; s++) {
    const tenant = tenants[s % 2];
    const session_id = `session-${s}`;
    const t0 = s * 60_000;
    events.push(edgeEvent('weighvision.session.created', tenant, { session_id, device_id: 'station-1', ts: at(t0) }));
    for (let w = 0; w < weightsPerSession; w++) {
      events.push(
        edgeEvent('weighvision.weight.recorded', tenant, {
          session_id,
          device_id: 'station-1',
          ts: at(t0 + 1000 * (w + 1)),
          payload: { weight_kg: 100 + w, stable: true },
        }),
      );
    }
    events.push(edgeEvent('weighvision.session.finalized', tenant, { session_id, device_id: 'station-1', ts: at(t0 + 30_000), payload: { image_count: 0 } }));
  }
  return events;
}

describe('RabbitMQ restarted mid-run', () => {
  it('loses nothing and doubles nothing in the cloud tables', async () => {
    const events = backlog();
    const readings = readingsPerTenant * tenants.length;
    const weighvision = sessions * (weightsPerSession + 2);
    await appendToOutbox(db.edge, events, { createdAt: new Date(Date.now() - 3_600_000) });

    let storedAtRestart: number;
    let restartSeconds: number;
    try {
      await stack.startAll();
      storedAtRestart = await until(
        'the first readings stored',
        120_000,
        async () => {
          const n = await countOf(db.cloud, 'SELECT count(*) AS n FROM telemetry_raw');
          return n >= 1000 ? n : undefined;
        },
        20,
      );
      const t0 = Date.now();
      await restartRabbitApp();
      restartSeconds = (Date.now() - t0) / 1000;

      await until(
        'every event stored',
        300_000,
        async () =>
          (await countOf(db.cloud, 'SELECT count(*) AS n FROM telemetry_raw')) >= readings &&
          (await countOf(db.cloud, 'SELECT count(*) AS n FROM feed_intake')) >= feedRecords &&
          (await countOf(db.cloud, `SELECT count(*) AS n FROM weighvision_sessions WHERE status = 'finalized' AND reading_count = $1`, [weightsPerSession])) >=
            sessions &&
          (await countOf(db.cloud, `SELECT count(*) AS n FROM ingestion_outbox WHERE published_at IS NULL`)) === 0,
        500,
      );
      await until('every outbox row acked on the edge', 120_000, async () => Object.keys(await outboxCounts(db.edge)).every((s) => s === 'acked'), 500);
    } catch (err) {
      throw new Error(`${(err as Error).message}\nedge outbox: ${JSON.stringify(await outboxCounts(db.edge))}\n${stack.logs()}`, { cause: err });
    }
    // The restart landed mid-run.
    expect(storedAtRestart).toBeLessThan(readings);

    const ids = events.map((e) => e.event_id);
    const count = (sql: string, params: unknown[] = []) => countOf(db.cloud, sql, params);
    // Nothing lost, nothing doubled: each table holds exactly the events sent to it.
    expect(await count('SELECT count(*) AS n FROM telemetry_raw')).toBe(readings);
    expect(await count('SELECT count(*) AS n FROM telemetry_raw WHERE event_id = ANY($1::uuid[])', [ids])).toBe(readings);
    expect(await count('SELECT count(*) AS n FROM feed_intake')).toBe(feedRecords);
    expect(await count('SELECT count(*) AS n FROM weighvision_weights')).toBe(sessions * weightsPerSession);
    expect(await count('SELECT count(*) AS n FROM weighvision_sessions')).toBe(sessions);
    expect(
      await count(`SELECT count(*) AS n FROM weighvision_sessions WHERE status = 'finalized' AND reading_count = $1 AND weight_kg IS NOT NULL`, [
        weightsPerSession,
      ]),
    ).toBe(sessions);
    // Each consumer processed each of its events once (finalized goes to two consumers).
    const { rows: perConsumer } = await db.cloud.query<{ consumer: string; n: string }>(
      `SELECT consumer, count(*) AS n FROM consumer_dedupe WHERE event_id = ANY($1::uuid[]) GROUP BY consumer`,
      [ids],
    );
    expect(Object.fromEntries(perConsumer.map((r) => [r.consumer, Number(r.n)]))).toEqual({
      'cloud-telemetry-service': readings + weighvision,
      'cloud-feed-service': feedRecords,
      'cloud-analytics-service': sessions,
    });
    // Ingestion took each event once and published every one of them; no message was given up on.
    expect(await count('SELECT count(*) AS n FROM ingestion_dedupe WHERE event_id = ANY($1::uuid[])', [ids])).toBe(events.length);
    expect(await count('SELECT count(*) AS n FROM ingestion_outbox WHERE event_id = ANY($1::uuid[]) AND published_at IS NOT NULL', [ids])).toBe(events.length);
    expect(await count('SELECT count(*) AS n FROM dead_letters')).toBe(0);

    const cloudMetrics = await stack.cloudMetrics();
    const consumerMetrics = await stack.consumers.get('/metrics');
    console.log(
      `sync-rabbitmq-restart: ${events.length} events; restart (${restartSeconds.toFixed(1)} s) after ${storedAtRestart} readings were stored; ` +
        `relay published ${metricValue(cloudMetrics, 'farmiq_cloud_relay_published_total')} messages for ${events.length} events ` +
        `(failed rounds: ${metricValue(cloudMetrics, 'farmiq_cloud_relay_failures_total')}); consumers absorbed ` +
        `${metricValue(consumerMetrics, 'farmiq_cloud_consumer_messages_total', { outcome: 'duplicate' })} redelivered messages`,
    );
  }, 600_000);
});
