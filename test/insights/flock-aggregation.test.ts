/**
 * The flock KPIs from the cloud database: a barn with a recorded flock (flocks,
 * flock_daily_counts written here as the owner, as cloud/consumers/flock-service.ts would) gets its
 * KPIs from the flock, read through the tenant pool; another tenant's flock never shows. The
 * arithmetic is worked in the comments.
 */
import { randomUUID } from 'node:crypto';
import type { Pool } from 'pg';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { createInsightActivities, type InsightActivities } from '../../activities/insights/generation';
import type { FeatureSummary } from '../../insights/feature-summary';
import { LocalInsightAnalyzer } from '../../insights/llm/analyzer';
import { localPredictor } from '../../insights/ml/predictor';
import { ownerPool, seedTenant, tenantPool, type TestTenant } from '../auth/support';
import { seedBarn, seedFarm, seedFeed } from './seed';

let owner: Pool;
let app: Pool;
let a: TestTenant;
let b: TestTenant;
let activities: InsightActivities;
const env = new MockActivityEnvironment(undefined, { logger: new DefaultLogger('ERROR') });
const farmId = 'farm-flock';
const window = { from: '2026-03-01T00:00:00.000Z', to: '2026-03-05T00:00:00.000Z' };

async function seedFlock(
  t: TestTenant,
  f: { flockId: string; barnId: string; head: number; placedAt: string; breed?: string; depopulatedAt?: string | null },
): Promise<void> {
  await owner.query(
    `INSERT INTO flocks (tenant_id, flock_id, farm_id, barn_id, species, breed, head_count_placed, age_at_placement_days, placed_at,
                         placed_event_id, depopulated_at, depopulated_event_id)
     VALUES ($1, $2, $3, $4, 'broiler', $5, $6, 0, $7, $8, $9, $10)`,
    [
      t.id,
      f.flockId,
      farmId,
      f.barnId,
      f.breed ?? 'ross-308',
      f.head,
      f.placedAt,
      randomUUID(),
      f.depopulatedAt ?? null,
      f.depopulatedAt ? randomUUID() : null,
    ],
  );
}

async function seedCounts(
  t: TestTenant,
  flockId: string,
  barnId: string,
  rows: { day: string; source: 'device' | 'operator'; dead: number; culled: number }[],
) {
  for (const r of rows) {
    await owner.query(
      `INSERT INTO flock_daily_counts (tenant_id, flock_id, day, source, farm_id, barn_id, dead, culled, event_id, device_id, recorded_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'counter-1', now())`,
      [t.id, flockId, r.day, r.source, farmId, barnId, r.dead, r.culled, randomUUID()],
    );
  }
}

const flockA = randomUUID();

beforeAll(async () => {
  owner = ownerPool();
  app = tenantPool();
  a = await seedTenant(owner, 'Flock KPIs A');
  b = await seedTenant(owner, 'Flock KPIs B');
  for (const t of [a, b]) {
    await seedFarm(owner, { tenantId: t.id, farmId, species: 'broiler' });
    await seedBarn(owner, { tenantId: t.id, farmId, barnId: 'barn-1', animalCount: 1000, placedAt: '2026-03-01' });
    await seedBarn(owner, { tenantId: t.id, farmId, barnId: 'barn-2', animalCount: 800, placedAt: '2026-03-01' });
  }
  // Tenant A, barn-1: 1000 day-old chicks placed 03-01 06:00. An earlier flock of the same barn left
  // on 02-20 and is not the window's.
  await seedFlock(a, { flockId: randomUUID(), barnId: 'barn-1', head: 900, placedAt: '2026-01-10T06:00:00Z', depopulatedAt: '2026-02-20T08:00:00Z' });
  await seedFlock(a, { flockId: flockA, barnId: 'barn-1', head: 1000, placedAt: '2026-03-01T06:00:00Z' });
  // 03-01: the counter said 5 dead, the operator corrected it to 4 (the operator's stands); 03-02: 2 dead, 1 cull.
  await seedCounts(a, flockA, 'barn-1', [
    { day: '2026-03-01', source: 'device', dead: 5, culled: 0 },
    { day: '2026-03-01', source: 'operator', dead: 4, culled: 0 },
    { day: '2026-03-02', source: 'device', dead: 2, culled: 1 },
  ]);
  // Feed: 5 kg at 05:00 on 03-01 (before the placement: the window's, not the flock's), 15 kg later
  // that day, 18 kg on 03-02, nothing on 03-03 (feeder outage), 12 + 8 kg on 03-04.
  await seedFeed(owner, { tenantId: a.id, farmId, barnId: 'barn-1' }, [
    { kg: 5, at: '2026-03-01T05:00:00Z' },
    { kg: 15, at: '2026-03-01T10:00:00Z' },
    { kg: 18, at: '2026-03-02T08:00:00Z' },
    { kg: 12, at: '2026-03-04T08:00:00Z' },
    { kg: 8, at: '2026-03-04T16:00:00Z' },
  ]);
  // Tenant B has a flock with the same barn id and very different figures.
  const flockB = randomUUID();
  await seedFlock(b, { flockId: flockB, barnId: 'barn-1', head: 50, placedAt: '2026-03-01T00:00:00Z' });
  await seedCounts(b, flockB, 'barn-1', [{ day: '2026-03-02', source: 'device', dead: 40, culled: 0 }]);
  activities = createInsightActivities({ pool: app, predictor: localPredictor, analyzer: new LocalInsightAnalyzer(null), llmModel: null });
});

afterAll(async () => {
  await app?.end();
  await owner?.end();
});

function aggregate(tenantId: string): Promise<FeatureSummary> {
  return env.run(activities.aggregateFeatureSummary, { tenantId, farmId, barnId: null, window, requestId: `req-flock-${randomUUID()}` });
}

it('computes the flock KPIs of a barn with a flock, and leaves the barn without one as it was', async () => {
  const s = await aggregate(a.id);
  const [b1, b2] = s.barns;
  // Animal-days (average head count × share of the day in the barn):
  //   03-01: placed 06:00 → 0.75 · (1000 + 996) / 2 = 748.5
  //   03-02: (996 + 993) / 2 = 994.5;  03-03: 993;  03-04: 993   → 3729
  // Flock feed 15 + 18 + 0 + 20 = 53 kg → 53 / 3729 = 0.014213 → 0.0142 kg (14 g per chick-day)
  expect(b1.flock?.feed).toEqual({ feed_kg: 53, animal_days: 3729, per_animal_day_kg: 0.0142, days_in_barn: 4, zero_feed_days: ['2026-03-03'] });
  expect(b1.feed).toEqual({ total_kg: 58, feed_days: 3, per_animal_per_day_kg: 0.0142 });
  // Losses 4 + 2 dead, 1 cull of 1000: 0.6 %, 0.1 %, depletion 0.7 %, livability 99.3 %; 993 left.
  expect(b1.flock?.mortality).toEqual({ deaths: 6, culls: 1, mortality_pct: 0.6, culls_pct: 0.1, depletion_pct: 0.7, livability_pct: 99.3 });
  expect(b1.animal_count).toBe(993);
  expect(b1.flock).toMatchObject({ breed: 'ross-308', placed_day: '2026-03-01', head_placed: 1000, head_count: 993, age_days_at_end: 3 });
  // No weighing yet: no ADG, no FCR (and it says why), no uniformity, no forecast.
  expect(b1.flock).toMatchObject({ adg: null, fcr: null, fcr_missing_reason: 'no_weighing', epef: null, uniformity: null, forecast: null });
  // barn-2 has no flock: barns.animal_count and no flock key.
  expect(b2.animal_count).toBe(800);
  expect(b2).not.toHaveProperty('flock');
  expect(s.farm.animals).toBe(993 + 800);
});

it('never shows another tenant its flocks', async () => {
  const s = await aggregate(b.id);
  // Tenant B: 50 placed 03-01 00:00, 40 dead on 03-02 → 10 left; none of tenant A's figures.
  expect(s.barns[0].flock).toMatchObject({ head_placed: 50, head_count: 10, mortality: { deaths: 40, mortality_pct: 80 } });
  expect(s.barns[1]).not.toHaveProperty('flock');
});
