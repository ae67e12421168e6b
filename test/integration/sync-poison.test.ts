/**
 * Issue 3: "a poison event fails alone", against the real processes. An event that is a valid
 * envelope for the edge (the edge's schema leaves farm and barn to its own stamping) but that the
 * cloud rejects — a telemetry.reading without barn_id, which cloud telemetry_raw cannot hold — ends
 * `failed` on the edge with the cloud's reason, at once (no retries), while the 49 other events of
 * the same batch are acked and stored in the cloud. An event of a tenant the edge is not
 * authorised for fails the same way with `tenant_not_authorized`. Neither reaches RabbitMQ.
 */
import { randomUUID } from 'node:crypto';
import { metricValue } from '../support/processes';
import { appendToOutbox, countOf, openDatabases, SyncStack, sleep, telemetryReadings, type Databases } from './support';
import { until } from '../support/until';

const tenant = randomUUID();
const stranger = randomUUID(); // not one of the edge's tenants
let db: Databases;
let stack: SyncStack;

beforeAll(async () => {
  db = await openDatabases('poison');
  stack = await SyncStack.create({ label: 'poison', db, tenants: [tenant], edgeEnv: { SYNC_BATCH_SIZE: '500' } });
}, 180_000);

afterAll(async () => {
  await stack?.cleanup();
  await db?.close();
}, 120_000);

interface Row {
  event_id: string;
  tenant_id: string;
  status: string;
  last_error: string | null;
  attempt_count: number;
  claimed_by: string | null;
}

describe('a poison event', () => {
  it('ends failed with the reason while the rest of its batch is acked and stored', async () => {
    const events = telemetryReadings([tenant], 50, 5);
    const poison = events[25];
    delete poison.barn_id;
    const foreign = telemetryReadings([stranger], 1)[0];
    await appendToOutbox(db.edge, [...events, foreign], { createdAt: new Date(Date.now() - 3_600_000) });

    try {
      await stack.startAll();
      await until(
        'every reading settled',
        60_000,
        async () =>
          (await countOf(
            db.edge,
            `SELECT count(*) AS n FROM sync_outbox WHERE event_type = 'telemetry.reading' AND status NOT IN ('acked', 'failed', 'dlq')`,
          )) === 0,
      );
      await until('the good readings in the cloud', 60_000, async () => (await countOf(db.cloud, 'SELECT count(*) AS n FROM telemetry_raw')) >= 49);
    } catch (err) {
      throw new Error(`${(err as Error).message}\n${stack.logs()}`, { cause: err });
    }
    // Give a wrong retry of the failed events time to happen: none may.
    await sleep(3000);

    const { rows } = await db.edge.query<Row>(
      `SELECT event_id::text, tenant_id::text, status, last_error, attempt_count, claimed_by FROM sync_outbox WHERE event_type = 'telemetry.reading'`,
    );
    const byEvent = new Map(rows.map((r) => [r.event_id, r]));
    const poisoned = byEvent.get(poison.event_id)!;
    expect(poisoned).toMatchObject({ status: 'failed', attempt_count: 0 });
    expect(poisoned.last_error).toMatch(/^schema_violation:barn_id/);

    // Its batch: the poison and the 49 others went in one request, and those 49 are acked.
    const mates = rows.filter((r) => r.tenant_id === tenant && r.event_id !== poison.event_id);
    expect(mates).toHaveLength(49);
    expect(mates.every((r) => r.status === 'acked' && r.attempt_count === 0)).toBe(true);
    expect(new Set(mates.map((r) => r.claimed_by))).toEqual(new Set([poisoned.claimed_by]));

    const foreignRow = byEvent.get(foreign.event_id)!;
    expect(foreignRow).toMatchObject({ status: 'failed', attempt_count: 0 });
    expect(foreignRow.last_error).toMatch(/tenant_not_authorized/);

    // The cloud stored exactly the good ones; the poison never got past ingestion.
    const { rows: stored } = await db.cloud.query<{ event_id: string }>('SELECT event_id::text FROM telemetry_raw');
    expect(new Set(stored.map((r) => r.event_id))).toEqual(new Set(mates.map((r) => r.event_id)));
    expect(await countOf(db.cloud, 'SELECT count(*) AS n FROM ingestion_dedupe WHERE event_id = ANY($1::uuid[])', [[poison.event_id, foreign.event_id]])).toBe(
      0,
    );
    expect(await countOf(db.cloud, 'SELECT count(*) AS n FROM dead_letters')).toBe(0);

    // Each failed event was sent once and rejected once: the cloud's rejections equal the edge's
    // failed rows (the monitoring events about the stranger's batch carry its tenant and are
    // refused too), and the dead-event listing shows both readings with their reasons.
    const metrics = await stack.cloudMetrics();
    const failedRows = await countOf(db.edge, `SELECT count(*) AS n FROM sync_outbox WHERE status = 'failed'`);
    expect(metricValue(metrics, 'farmiq_cloud_ingestion_events_total', { outcome: 'rejected' })).toBe(failedRows);
    const dead = await db.edge.query<{ event_id: string }>(
      `SELECT event_id::text FROM sync_outbox WHERE status = 'failed' AND event_type = 'telemetry.reading'`,
    );
    expect(dead.rows.map((r) => r.event_id).sort()).toEqual([poison.event_id, foreign.event_id].sort());
  }, 300_000);
});
