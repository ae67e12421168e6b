/**
 * publishClosedRollups against the real edge test database: closed windows become exactly one
 * valid telemetry.aggregated outbox row each, per revision; open windows and windows still inside
 * the grace period wait; publishing again is a no-op.
 */
import { randomUUID } from 'node:crypto';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger, type LogEntry } from '@temporalio/worker';
import type { Pool } from 'pg';
import { createPool } from '../../db/pool';
import { createRollupActivities, type PublishClosedRollupsInput, type PublishClosedRollupsResult } from '../../activities/ingest/rollups';
import { farmEventSchema, type TelemetryAggregatedEvent } from '../../domain/contracts';
import { uuidV5 } from '../../domain/ids';
import { testEdgeDatabaseUrl } from '../support/stack';

let pool: Pool;
const tenant = randomUUID();
const traceId = `rollup-test-${randomUUID()}`;
/** What the activity logged, instead of printing it. */
const logged: LogEntry[] = [];
const activityEnv = () => new MockActivityEnvironment(undefined, { logger: new DefaultLogger('DEBUG', (e) => logged.push(e)) });

/** One publishClosedRollups call inside a mock activity context (the activity logs through it). */
function publishOnce(input: PublishClosedRollupsInput): Promise<PublishClosedRollupsResult> {
  const { publishClosedRollups } = createRollupActivities({ pool, edgeId: 'edge-test' });
  return activityEnv().run(publishClosedRollups, input);
}

beforeAll(() => {
  pool = createPool(testEdgeDatabaseUrl, { applicationName: 'farmiq-test-rollups' });
});

afterAll(async () => {
  await pool.query('DELETE FROM sync_outbox WHERE tenant_id = $1', [tenant]);
  await pool.query('DELETE FROM telemetry_rollup WHERE tenant_id = $1', [tenant]);
  await pool.end();
});

interface RollupSeed {
  device: string;
  metric?: string;
  width?: '1m' | '1h';
  /** SQL expression for bucket_start. */
  start: string;
  count: number;
  sum: number;
  min: number;
  max: number;
}

async function seed(r: RollupSeed): Promise<Date> {
  const { rows } = await pool.query<{ bucket_start: Date }>(
    `INSERT INTO telemetry_rollup (tenant_id, farm_id, barn_id, device_id, metric, bucket_width, bucket_start,
                                   unit, reading_count, value_sum, value_min, value_max)
     VALUES ($1, 'farm-1', 'barn-2', $2, $3, $4, ${r.start}, 'C', $5, $6, $7, $8)
     RETURNING bucket_start`,
    [tenant, r.device, r.metric ?? 'temperature', r.width ?? '1m', r.count, r.sum, r.min, r.max],
  );
  return rows[0].bucket_start;
}

/** Publishes until no closed window is left (other tests' tenants may share the table). */
async function publishAll(input: Partial<PublishClosedRollupsInput> = {}) {
  const total = { published: 0, invalid: 0 };
  for (;;) {
    const r = await publishOnce({ graceSeconds: 0, limit: 1000, traceId, ...input });
    total.published += r.published;
    total.invalid += r.invalid;
    if (!r.hasMore) return total;
  }
}

async function outbox(device?: string) {
  const { rows } = await pool.query<{
    id: string;
    event_id: string;
    event_type: string;
    envelope: TelemetryAggregatedEvent;
    trace_id: string;
    occurred_at: Date;
    priority: number;
    status: string;
  }>(
    `SELECT id, event_id, event_type, envelope, trace_id, occurred_at, priority, status FROM sync_outbox
     WHERE tenant_id = $1 AND ($2::text IS NULL OR envelope->>'device_id' = $2) ORDER BY id`,
    [tenant, device ?? null],
  );
  return rows;
}

async function publishedRevision(device: string): Promise<{ revision: number; published_revision: number }[]> {
  const { rows } = await pool.query('SELECT revision, published_revision FROM telemetry_rollup WHERE tenant_id = $1 AND device_id = $2 ORDER BY bucket_start', [
    tenant,
    device,
  ]);
  return rows;
}

describe('uuidV5', () => {
  it('matches the RFC 4122 test vector', () => {
    // The DNS namespace example from RFC 4122 / Python's uuid.uuid5(uuid.NAMESPACE_DNS, 'www.example.com').
    expect(uuidV5('www.example.com', '6ba7b810-9dad-11d1-80b4-00c04fd430c8')).toBe('2ed6657d-e927-568b-95e1-2665a8aea6a2');
  });
});

describe('publishClosedRollups', () => {
  it('publishes each closed window once, with the right statistics, and leaves open windows', async () => {
    const closedMinute = await seed({ device: 'sensor-a', start: `date_trunc('minute', now()) - interval '5 minutes'`, count: 3, sum: 75, min: 24, max: 26 });
    const closedHour = await seed({
      device: 'sensor-a',
      width: '1h',
      start: `date_trunc('hour', now()) - interval '2 hours'`,
      count: 120,
      sum: 3000,
      min: 20,
      max: 30,
    });
    await seed({ device: 'sensor-open', start: `date_trunc('minute', now()) + interval '1 minute'`, count: 2, sum: 50, min: 25, max: 25 });
    await seed({ device: 'sensor-open', width: '1h', start: `date_trunc('hour', now())`, count: 2, sum: 50, min: 25, max: 25 });

    await publishAll();

    const rows = await outbox();
    expect(rows).toHaveLength(2);
    const minute = rows.find((r) => r.envelope.payload.window === '1m')!;
    const hour = rows.find((r) => r.envelope.payload.window === '1h')!;

    for (const row of rows) {
      expect(farmEventSchema.safeParse(row.envelope).success).toBe(true);
      expect(row.event_type).toBe('telemetry.aggregated');
      expect(row.event_id).toBe(row.envelope.event_id);
      expect(row.trace_id).toBe(traceId);
      expect(row.envelope.trace_id).toBe(traceId);
      expect(row.priority).toBe(0);
      expect(row.status).toBe('pending');
      expect(row.envelope.tenant_id).toBe(tenant);
      expect(row.envelope.device_id).toBe('sensor-a');
      expect(row.envelope.schema_version).toBe('1.0');
      expect(row.occurred_at.toISOString()).toBe(row.envelope.payload.window_end);
      expect(row.envelope.ts).toBe(row.envelope.payload.window_end);
    }

    const minuteEnd = new Date(closedMinute.getTime() + 60_000).toISOString();
    expect(minute.envelope.payload).toEqual({
      farm_id: 'farm-1',
      barn_id: 'barn-2',
      metric: 'temperature',
      unit: 'C',
      window: '1m',
      window_start: closedMinute.toISOString(),
      window_end: minuteEnd,
      count: 3,
      mean: 25,
      min: 24,
      max: 26,
      revision: 1,
    });
    expect(minute.event_id).toBe(uuidV5([tenant, 'farm-1', 'barn-2', 'sensor-a', 'temperature', '1m', closedMinute.toISOString(), 1].join('|')));
    expect(hour.envelope.payload).toMatchObject({
      window: '1h',
      window_start: closedHour.toISOString(),
      window_end: new Date(closedHour.getTime() + 3_600_000).toISOString(),
      count: 120,
      mean: 25,
      min: 20,
      max: 30,
      revision: 1,
    });

    expect(await publishedRevision('sensor-a')).toEqual([
      { revision: 1, published_revision: 1 },
      { revision: 1, published_revision: 1 },
    ]);
    expect(await publishedRevision('sensor-open')).toEqual([
      { revision: 1, published_revision: 0 },
      { revision: 1, published_revision: 0 },
    ]);
  });

  it('publishes nothing when run again', async () => {
    const before = await outbox();
    const again = await publishAll();
    expect(again.published).toBe(0);
    expect(await outbox()).toEqual(before);
  });

  it('publishes a late reading as the next revision with a new event id', async () => {
    await pool.query(
      `UPDATE telemetry_rollup SET reading_count = reading_count + 1, value_sum = value_sum + 30,
              value_max = greatest(value_max, 30), revision = revision + 1
       WHERE tenant_id = $1 AND device_id = 'sensor-a' AND bucket_width = '1m'`,
      [tenant],
    );
    await publishAll();

    const minuteRows = (await outbox('sensor-a')).filter((r) => r.envelope.payload.window === '1m');
    expect(minuteRows).toHaveLength(2);
    const [first, second] = minuteRows;
    expect(second.envelope.payload).toMatchObject({ revision: 2, count: 4, mean: 26.25, min: 24, max: 30 });
    expect(second.event_id).not.toBe(first.event_id);
    expect(second.envelope.payload.window_start).toBe(first.envelope.payload.window_start);
  });

  it('derives the same event id for the same revision, so even a repeated append is one event downstream', async () => {
    const before = await outbox('sensor-a');
    // As if the mark had been lost (it cannot be: it commits with the append): the windows look
    // unpublished again at the same revisions.
    await pool.query(`UPDATE telemetry_rollup SET published_revision = 0 WHERE tenant_id = $1 AND device_id = 'sensor-a'`, [tenant]);
    await publishAll();
    const after = await outbox('sensor-a');
    const latest = (window: string) => before.filter((r) => r.envelope.payload.window === window).at(-1)!;
    const again = after.slice(before.length);
    expect(again.map((r) => r.event_id).sort()).toEqual([latest('1m').event_id, latest('1h').event_id].sort());
    expect((await publishedRevision('sensor-a')).map((r) => r.published_revision)).toEqual([1, 2]);
    // Leave the outbox as a real run would have: one row per (window, revision).
    await pool.query('DELETE FROM sync_outbox WHERE id = ANY($1)', [again.map((r) => r.id)]);
  });

  it('waits for the grace period after a window closes', async () => {
    // A one-minute window that ended 10 s ago.
    await seed({ device: 'sensor-grace', start: `now() - interval '70 seconds'`, count: 1, sum: 20, min: 20, max: 20 });
    await publishAll({ graceSeconds: 60 });
    expect(await outbox('sensor-grace')).toHaveLength(0);
    await publishAll({ graceSeconds: 5 });
    expect(await outbox('sensor-grace')).toHaveLength(1);
  });

  it('skips a window another transaction holds and publishes it on the next run', async () => {
    await seed({ device: 'sensor-locked', start: `date_trunc('minute', now()) - interval '3 minutes'`, count: 1, sum: 21, min: 21, max: 21 });
    const holder = await pool.connect();
    try {
      await holder.query('BEGIN');
      await holder.query(`SELECT 1 FROM telemetry_rollup WHERE tenant_id = $1 AND device_id = 'sensor-locked' FOR UPDATE`, [tenant]);
      await publishAll(); // must not wait for the lock
      expect(await outbox('sensor-locked')).toHaveLength(0);
    } finally {
      await holder.query('ROLLBACK');
      holder.release();
    }
    await publishAll();
    expect(await outbox('sensor-locked')).toHaveLength(1);
  });

  it('marks a window that cannot make a valid event (sum overflowed) instead of letting it block', async () => {
    await seed({ device: 'sensor-overflow', start: `date_trunc('minute', now()) - interval '4 minutes'`, count: 2, sum: Infinity, min: 1e308, max: 1e308 });
    const result = await publishAll();
    expect(result.invalid).toBe(1);
    expect(logged).toContainEqual(
      expect.objectContaining({
        level: 'ERROR',
        message: expect.stringContaining('not published'),
        meta: expect.objectContaining({ tenantId: tenant, deviceId: 'sensor-overflow', window: '1m', revision: 1 }),
      }),
    );
    expect(await outbox('sensor-overflow')).toHaveLength(0);
    expect(await publishedRevision('sensor-overflow')).toEqual([{ revision: 1, published_revision: 1 }]);
  });

  it('appends each window exactly once when several publishers run at the same time', async () => {
    const devices = Array.from({ length: 40 }, (_, i) => `sensor-race-${i}`);
    for (const d of devices) {
      await seed({ device: d, start: `date_trunc('minute', now()) - interval '6 minutes'`, count: 2, sum: 40, min: 19, max: 21 });
    }
    const { publishClosedRollups } = createRollupActivities({ pool, edgeId: 'edge-test' });
    const drain = async () => {
      for (;;) {
        const r: PublishClosedRollupsResult = await activityEnv().run(publishClosedRollups, { graceSeconds: 0, limit: 7, traceId });
        if (!r.hasMore) return;
      }
    };
    await Promise.all([drain(), drain(), drain(), drain()]);
    const { rows } = await pool.query<{ device: string; n: number }>(
      `SELECT envelope->>'device_id' AS device, count(*)::int AS n FROM sync_outbox
       WHERE tenant_id = $1 AND envelope->>'device_id' LIKE 'sensor-race-%' GROUP BY 1`,
      [tenant],
    );
    expect(rows).toHaveLength(devices.length);
    expect(rows.every((r) => r.n === 1)).toBe(true);
  });

  it('returns hasMore when the batch was full', async () => {
    for (const d of ['sensor-b1', 'sensor-b2', 'sensor-b3']) {
      await seed({ device: d, start: `date_trunc('minute', now()) - interval '2 minutes'`, count: 1, sum: 1, min: 1, max: 1 });
    }
    const first = await publishOnce({ graceSeconds: 0, limit: 2, traceId });
    expect(first).toEqual({ published: 2, invalid: 0, hasMore: true });
    await publishAll();
    for (const d of ['sensor-b1', 'sensor-b2', 'sensor-b3']) expect(await outbox(d)).toHaveLength(1);
  });

  it('refuses a request that cannot be right, without retrying', async () => {
    await expect(publishOnce({ graceSeconds: 0, limit: 0, traceId })).rejects.toMatchObject({
      type: 'InvalidRollupRequest',
      nonRetryable: true,
    });
  });
});
