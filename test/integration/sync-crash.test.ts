/**
 * Issue 3, "against the real stack": 10,000 events across three tenants synced edge → cloud with 0
 * lost and 0 duplicated while the edge worker is kill -9ed several times mid-batch.
 *
 * Every process is real and separate: the edge worker (Temporal forwarder, signed HTTP), the cloud
 * HTTP process (ingestion + outbox relay) and the cloud consumers, on their own databases and
 * RabbitMQ topology. The events are appended to the edge outbox directly as the rows the bridge's
 * commit writes (valid envelopes with farm and barn stamped): the bridge is not what is under test
 * here (sync-offline.test.ts drives the same chain from the bridge).
 *
 * Each kill happens while the outbox shows a batch in `sending` or `sent` — its request is out or
 * answered, its outcome not yet recorded — so the restarted worker must send those events again.
 * The cloud's ingestion metric `farmiq_cloud_ingestion_events_total{outcome="duplicate"}` (the
 * cloud HTTP process is never restarted here) proves those resends happened and were absorbed.
 */
import { randomUUID } from 'node:crypto';
import { appendToOutbox, countOf, openDatabases, outboxCounts, SyncStack, sleep, telemetryReadings, type Databases } from './support';
import { until } from '../support/until';

const tenants = [randomUUID(), randomUUID(), randomUUID()];
const total = 10_000;
const kills = 4;

let db: Databases;
let stack: SyncStack;

beforeAll(async () => {
  db = await openDatabases('crash');
  stack = await SyncStack.create({
    label: 'crash',
    db,
    tenants,
    // Small batches so that many are in flight and a kill always lands mid-batch; a short lease so
    // that rows claimed by a claim the kill cut short come back in seconds, not a minute.
    edgeEnv: { SYNC_BATCH_SIZE: '100', SYNC_LEASE_SECONDS: '10', SYNC_MAX_IN_FLIGHT: '4' },
  });
}, 180_000);

afterAll(async () => {
  await stack?.cleanup();
  await db?.close();
}, 120_000);

describe('edge worker kill -9 mid-batch', () => {
  it(`delivers ${total} events exactly once to the cloud database through ${kills} crashes`, async () => {
    const perTenant = [3334, 3333, 3333];
    const events = tenants.flatMap((t, i) => telemetryReadings([t], perTenant[i], 10));
    expect(events).toHaveLength(total);
    await appendToOutbox(db.edge, events, { createdAt: new Date(Date.now() - 3_600_000) });

    const started = Date.now();
    const cutOff: { ids: string[]; restartedAt: Date }[] = [];
    try {
      await stack.startAll();
      // A kill counts when it cut a batch off between request and settlement; one that just missed
      // (the batch settled between the look and the kill) is followed by another, and so is a series
      // whose cut-off requests all died before reaching the cloud (no resend to absorb yet).
      for (let tries = 0; cutOff.length < kills || (cutOff.length <= kills && (await stack.duplicatesAnswered()) === 0); tries++) {
        if (tries >= kills * 4) throw new Error(`only ${cutOff.length} of ${tries} kills landed mid-batch`);
        const threshold = Math.floor((total * (cutOff.length + 1)) / (kills + 2));
        await until(
          `kill ${tries + 1}: ${threshold} acked and a batch in flight`,
          300_000,
          async () => {
            const c = await outboxCounts(db.edge);
            return (c.acked ?? 0) >= threshold && (c.sending ?? 0) + (c.sent ?? 0) > 0;
          },
          10,
        );
        await stack.edgeWorker.kill9();
        const { rows } = await db.edge.query<{ id: string }>(`SELECT id::text AS id FROM sync_outbox WHERE status IN ('sending', 'sent')`);
        await sleep(500);
        await stack.edgeWorker.start();
        if (rows.length > 0) cutOff.push({ ids: rows.map((r) => r.id), restartedAt: new Date() });
      }

      await until(
        'every reading in the cloud database',
        600_000,
        async () => (await countOf(db.cloud, 'SELECT count(*) AS n FROM telemetry_raw')) >= total,
        500,
      );
      // The monitoring events (sync.batch.*) of the last batches follow the readings.
      await until(
        'every outbox row acked',
        120_000,
        async () => {
          const c = await outboxCounts(db.edge);
          return Object.keys(c).every((s) => s === 'acked');
        },
        500,
      );
    } catch (err) {
      throw new Error(`${(err as Error).message}\noutbox: ${JSON.stringify(await outboxCounts(db.edge))}\n${stack.logs()}`, { cause: err });
    }
    const seconds = (Date.now() - started) / 1000;

    // 0 lost, 0 duplicated: exactly the seeded events, each once.
    const { rows: cloud } = await db.cloud.query<{ n: string; distinct_events: string; tenants: string }>(
      `SELECT count(*) AS n, count(DISTINCT (tenant_id, event_id)) AS distinct_events, count(DISTINCT tenant_id) AS tenants FROM telemetry_raw`,
    );
    expect(Number(cloud[0].n)).toBe(total);
    expect(Number(cloud[0].distinct_events)).toBe(total);
    expect(Number(cloud[0].tenants)).toBe(3);
    const matched = await countOf(
      db.cloud,
      `SELECT count(*) AS n FROM telemetry_raw r JOIN unnest($1::uuid[], $2::uuid[]) AS s(t, e) ON r.tenant_id = s.t AND r.event_id = s.e`,
      [events.map((e) => e.tenant_id), events.map((e) => e.event_id)],
    );
    expect(matched).toBe(total);
    for (const [i, t] of tenants.entries()) {
      expect(await countOf(db.cloud, 'SELECT count(*) AS n FROM telemetry_raw WHERE tenant_id = $1', [t])).toBe(perTenant[i]);
    }
    // Ingestion deduped each event once; nothing was dead-lettered on the way.
    expect(await countOf(db.cloud, `SELECT count(*) AS n FROM ingestion_dedupe WHERE event_type = 'telemetry.reading'`)).toBe(total);
    expect(await countOf(db.cloud, 'SELECT count(*) AS n FROM dead_letters')).toBe(0);

    // Every edge outbox row acked (the readings and the forwarder's monitoring events).
    const outbox = await outboxCounts(db.edge);
    expect(Object.keys(outbox)).toEqual(['acked']);
    expect(await countOf(db.edge, `SELECT count(*) AS n FROM sync_outbox WHERE event_type = 'telemetry.reading'`)).toBe(total);

    // The crashes were real and mid-batch, and the resends they forced were absorbed by the dedupe.
    expect(stack.edgeWorker.startCount).toBeGreaterThanOrEqual(kills + 1);
    // The loop above adds one kill when the first `kills` forced no resend yet.
    expect(cutOff.length).toBeGreaterThanOrEqual(kills);
    expect(cutOff.length).toBeLessThanOrEqual(kills + 1);
    expect(cutOff.every((c) => c.ids.length > 0)).toBe(true);
    const duplicates = await stack.duplicatesAnswered();
    expect(duplicates).toBeGreaterThan(0);

    // A batch the crash cut off goes out again within seconds of the restart: Temporal notices the
    // dead worker by the send activity's missing heartbeats (15 s), not by its 2-minute timeout.
    const recoverySeconds: number[] = [];
    for (const c of cutOff) {
      const { rows } = await db.edge.query<{ last: Date }>(`SELECT max(acked_at) AS last FROM sync_outbox WHERE id = ANY($1::bigint[])`, [c.ids]);
      recoverySeconds.push((rows[0].last.getTime() - c.restartedAt.getTime()) / 1000);
    }
    expect(Math.max(...recoverySeconds)).toBeLessThan(60);

    console.log(
      `sync-crash: ${total} events, ${stack.edgeWorker.startCount - 1} kills, ${kills} mid-batch (rows cut off mid-batch: ${cutOff.map((c) => c.ids.length).join(', ')}; ` +
        `acked again ${recoverySeconds.map((r) => r.toFixed(1)).join(', ')} s after each restart), ` +
        `${duplicates} duplicates answered by the cloud, ${seconds.toFixed(1)} s`,
    );
  }, 900_000);
});
