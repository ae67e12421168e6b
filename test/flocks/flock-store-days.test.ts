/**
 * The edge flock store reads a mortality record's day and the placement's day in the farm's time
 * zone (flocks/flock-store.ts with flocks/head-count.ts), against the real edge test database.
 */
import { randomUUID } from 'node:crypto';
import type { Pool } from 'pg';
import { createPool } from '../../db/pool';
import { FlockRefusal, placeFlock, recordOperatorMortality } from '../../flocks/flock-store';
import { testEdgeDatabaseUrl } from '../support/stack';

let pool: Pool;
const tenantId = randomUUID();
const meta = { traceId: 'test-flock-days', actor: 'edge-operator-api' };

beforeAll(() => {
  pool = createPool(testEdgeDatabaseUrl, { applicationName: 'farmiq-test-flock-days' });
});

afterAll(async () => {
  await pool.query('DELETE FROM sync_outbox WHERE tenant_id = $1', [tenantId]);
  await pool.query('DELETE FROM flocks WHERE tenant_id = $1', [tenantId]);
  await pool?.end();
});

// Placed at 18:00 UTC on 03-01, which is 01:00 on 03-02 in Bangkok (UTC+7).
const place = (barnId: string) =>
  placeFlock(
    pool,
    {
      tenant_id: tenantId,
      flock_id: randomUUID(),
      farm_id: 'farm-1',
      barn_id: barnId,
      placed_at: '2026-03-01T18:00:00Z',
      species: 'broiler',
      breed: 'ross-308',
      head_count: 10000,
      age_at_placement_days: 0,
    },
    meta,
  );

test('a count for the day before the farm-local placement day is refused in Bangkok and accepted in UTC days', async () => {
  const bangkok = (await place('barn-bkk')).flock;
  const refused = await recordOperatorMortality(pool, bangkok.flockId, { day: '2026-03-01', dead: 3, culled: 0 }, meta, 'Asia/Bangkok').catch(
    (e: unknown) => e,
  );
  expect(refused).toBeInstanceOf(FlockRefusal);
  expect((refused as FlockRefusal).code).toBe('flock_day_out_of_range');
  // 03-02 is the Bangkok placement day: accepted.
  await expect(recordOperatorMortality(pool, bangkok.flockId, { day: '2026-03-02', dead: 3, culled: 0 }, meta, 'Asia/Bangkok')).resolves.toMatchObject({
    flock: { flockId: bangkok.flockId },
  });
  // The same placement read in UTC days was placed on 03-01, so 03-01 is in range.
  const utc = (await place('barn-utc')).flock;
  await expect(recordOperatorMortality(pool, utc.flockId, { day: '2026-03-01', dead: 3, culled: 0 }, meta, 'UTC')).resolves.toMatchObject({
    flock: { flockId: utc.flockId },
  });
});
