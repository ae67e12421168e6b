/**
 * `farmiq flocks` on the real edge database: each action goes through flocks/flock-store.ts, so
 * its rows and its catalog event for the sync outbox land together; the head count in the listing
 * is placed minus the day rows; the flock store's refusals come back as one line with a code.
 */
import { randomUUID } from 'node:crypto';
import type { Pool } from 'pg';
import { cliDatabases, edgePool, farmiqError, farmiqJson } from './support';

let pool: Pool;
beforeAll(async () => {
  await cliDatabases();
  pool = edgePool();
});
afterAll(() => pool.end());

interface FlockJson {
  flock_id: string;
  farm_id: string;
  barn_id: string;
  head_count_placed: number;
  placement_weight_kg: number | null;
  status: string;
  head_count?: number;
  depopulated_at: string | null;
}

const outboxTypes = async (tenant: string) =>
  (await pool.query<{ event_type: string }>('SELECT event_type FROM sync_outbox WHERE tenant_id = $1 ORDER BY id', [tenant])).rows.map((r) => r.event_type);

test('place → record-mortality → list (head count) → depopulate, each with its outbox event', async () => {
  const tenant = randomUUID();
  const yesterday = new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);
  const placedAt = new Date(Date.now() - 3 * 86_400_000).toISOString();
  const placed = await farmiqJson<{ flock: FlockJson; created: boolean }>(
    'flocks',
    'place',
    '--tenant',
    tenant,
    '--farm',
    'farm-1',
    '--barn',
    'house-1',
    '--species',
    'broiler',
    '--breed',
    'ross-308',
    '--head-count',
    '20000',
    '--placement-weight-kg',
    '0.042',
    '--placed-at',
    placedAt,
  );
  expect(placed.created).toBe(true);
  expect(placed.flock).toMatchObject({ farm_id: 'farm-1', barn_id: 'house-1', head_count_placed: 20000, placement_weight_kg: 0.042, status: 'placed' });
  const id = placed.flock.flock_id;

  const counted = await farmiqJson('flocks', 'record-mortality', id, '--day', yesterday, '--dead', '37', '--culled', '5', '--reason', 'heat');
  expect(counted).toMatchObject({ flock_id: id, day: yesterday, dead: 37, culled: 5, event_id: expect.any(String) });

  const listed = await farmiqJson<FlockJson[]>('flocks', 'list', '--tenant', tenant);
  // 20000 placed − 37 dead − 5 culled yesterday = 19958 at the end of today.
  expect(listed).toEqual([expect.objectContaining({ flock_id: id, head_count: 19958 })]);

  const gone = await farmiqJson<{ flock: FlockJson; changed: boolean }>('flocks', 'depopulate', id);
  expect(gone).toMatchObject({ changed: true, flock: { status: 'depopulated', depopulated_at: expect.any(String) } });
  expect(await farmiqJson<FlockJson[]>('flocks', 'list', '--tenant', tenant)).toEqual([]);
  expect((await farmiqJson<FlockJson[]>('flocks', 'list', '--tenant', tenant, '--all')).map((f) => f.status)).toEqual(['depopulated']);

  expect(await outboxTypes(tenant)).toEqual(['flock.placed', 'flock.mortality.recorded', 'flock.depopulated']);
});

test('refusals: an occupied barn, an unknown flock, a day before placement, a weight out of range', async () => {
  const tenant = randomUUID();
  const first = await farmiqJson<{ flock: FlockJson }>(
    'flocks',
    'place',
    '--tenant',
    tenant,
    '--farm',
    'farm-1',
    '--barn',
    'pen-1',
    '--species',
    'swine',
    '--breed',
    'large-white',
    '--head-count',
    '400',
    '--age-days',
    '70',
  );
  const unknown = randomUUID();
  const [occupied, noFlock, early, heavy] = await Promise.all([
    farmiqError('flocks', 'place', '--tenant', tenant, '--farm', 'farm-1', '--barn', 'pen-1', '--species', 'swine', '--breed', 'duroc', '--head-count', '300'),
    farmiqError('flocks', 'record-mortality', unknown, '--day', '2026-01-01', '--dead', '1'),
    farmiqError('flocks', 'record-mortality', first.flock.flock_id, '--day', '2001-01-01', '--dead', '1'),
    farmiqError(
      'flocks',
      'place',
      '--tenant',
      tenant,
      '--farm',
      'farm-1',
      '--barn',
      'pen-2',
      '--species',
      'broiler',
      '--breed',
      'ross-308',
      '--head-count',
      '100',
      '--placement-weight-kg',
      '42',
    ),
  ]);
  expect(occupied).toMatchObject({ code: 1, error: { code: 'conflict' } });
  expect(occupied.error.message).toContain(`barn farm-1/pen-1 holds flock ${first.flock.flock_id}`);
  expect(noFlock).toMatchObject({ code: 1, error: { code: 'not_found', message: `no flock ${unknown}` } });
  expect(early).toMatchObject({ code: 1, error: { code: 'invalid_input' } });
  expect(early.error.message).toContain('is before flock');
  // 42 kg for a broiler chick: grams typed as kg (the bound is 0.02–6 kg).
  expect(heavy).toMatchObject({ code: 1, error: { code: 'invalid_input' } });
  expect(heavy.error.message).toContain('placement_weight_kg');
  expect(await outboxTypes(tenant)).toEqual(['flock.placed']);
});
