/**
 * Which WeighVision sessions and which of their figures the insight aggregation reads
 * (insights/aggregation.ts), from the cloud DB as farmiq_app: the edge's concluded result over the
 * provisional recompute, a flock's sessions by batch_id before date, and the placement weight
 * recorded on the flock. Rows are seeded as the consumers leave them (as the owner); every
 * expected figure is worked in the comments.
 */
import { randomUUID } from 'node:crypto';
import type { Pool } from 'pg';
import { readSummaryInputs, tenantScopedDb } from '../../insights/aggregation';
import type { SummaryInputs } from '../../insights/kpis/summary';
import { ownerPool, seedTenant, tenantPool, type TestTenant } from '../auth/support';
import { seedBarn, seedFarm } from './seed';

let owner: Pool;
let app: Pool;
let t: TestTenant;
let inputs: SummaryInputs;
const farmId = 'farm-sessions';
const window = { from: '2026-03-01T00:00:00.000Z', to: '2026-03-05T00:00:00.000Z' };
const previousFlock = randomUUID();
const flock = randomUUID();
const unweighedFlock = randomUUID();

async function seedFlock(f: { flockId: string; barnId: string; placedAt: string; depopulatedAt?: string; placementWeightKg?: number }) {
  await owner.query(
    `INSERT INTO flocks (tenant_id, flock_id, farm_id, barn_id, species, breed, head_count_placed, age_at_placement_days, placed_at,
                         placed_event_id, depopulated_at, depopulated_event_id, placement_weight_kg)
     VALUES ($1, $2, $3, $4, 'broiler', 'ross-308', 1000, 0, $5, $6, $7, $8, $9)`,
    [t.id, f.flockId, farmId, f.barnId, f.placedAt, randomUUID(), f.depopulatedAt ?? null, f.depopulatedAt ? randomUUID() : null, f.placementWeightKg ?? null],
  );
}

interface SessionSeed {
  id: string;
  barnId: string;
  batchId: string | null;
  at: string;
  weightKg: number;
  visionKg?: number;
  /** The edge's conclusion, as cloud/consumers/weighvision-sessions.ts stores it. */
  concluded?: { weightSource: 'scale' | 'vision'; scaleMedianKg: number; flags: string[] };
}

async function seedSession(s: SessionSeed) {
  await owner.query(
    `INSERT INTO weighvision_sessions (tenant_id, session_id, farm_id, barn_id, station_id, batch_id, status, started_at, finalized_at,
                                       weight_kg, vision_weight_kg, weight_source, scale_median_kg, quality_flags, concluded_event_id,
                                       concluded_at)
     VALUES ($1, $2, $3, $4, 'st-1', $5, 'finalized', $6::timestamptz - interval '1 minute', $6, $7, $8, $9, $10, $11, $12,
             $6::timestamptz + interval '5 seconds')`,
    [
      t.id,
      s.id,
      farmId,
      s.barnId,
      s.batchId,
      s.at,
      s.weightKg,
      s.visionKg ?? null,
      s.concluded?.weightSource ?? null,
      s.concluded?.scaleMedianKg ?? null,
      s.concluded?.flags ?? [],
      s.concluded ? randomUUID() : null,
    ],
  );
  if (!s.concluded) await owner.query('UPDATE weighvision_sessions SET concluded_at = NULL WHERE tenant_id = $1 AND session_id = $2', [t.id, s.id]);
}

beforeAll(async () => {
  owner = ownerPool();
  app = tenantPool();
  t = await seedTenant(owner, 'Flock sessions');
  await seedFarm(owner, { tenantId: t.id, farmId, species: 'broiler' });
  for (const barnId of ['barn-1', 'barn-2', 'barn-3']) await seedBarn(owner, { tenantId: t.id, farmId, barnId, animalCount: 1000, placedAt: '2026-03-01' });
  // barn-1: the previous flock left at 02:00 on 03-01; this one came at 06:00, weighed at 45 g a chick.
  await seedFlock({ flockId: previousFlock, barnId: 'barn-1', placedAt: '2026-01-20T06:00:00Z', depopulatedAt: '2026-03-01T02:00:00Z' });
  await seedFlock({ flockId: flock, barnId: 'barn-1', placedAt: '2026-03-01T06:00:00Z', placementWeightKg: 0.045 });
  // barn-3: a flock nobody weighed at placement.
  await seedFlock({ flockId: unweighedFlock, barnId: 'barn-3', placedAt: '2026-03-01T06:00:00Z' });
  const run = randomUUID().slice(0, 8);
  const sessions: SessionSeed[] = [
    // Not this flock's: a station still set to the previous flock's batch, on a date inside this
    // flock's stay (date matching would take it), and a session without a batch before the placement.
    { id: `${run}-1-old-batch`, barnId: 'barn-1', batchId: previousFlock, at: '2026-03-03T10:00:00Z', weightKg: 3.1 },
    { id: `${run}-2-before-placement`, barnId: 'barn-1', batchId: null, at: '2026-03-01T04:00:00Z', weightKg: 2.9 },
    // This flock's: named by batch_id though its clock put it 10 minutes before the placement, and
    // one without a batch_id inside the stay.
    { id: `${run}-3-batch-early-clock`, barnId: 'barn-1', batchId: flock, at: '2026-03-01T05:50:00Z', weightKg: 0.046 },
    { id: `${run}-4-no-batch`, barnId: 'barn-1', batchId: null, at: '2026-03-03T09:00:00Z', weightKg: 0.08 },
    // Concluded by the edge: two chicks on the plate (multiple_animals) vetoed the scale's 0.120 kg;
    // the session weight is the calibrated vision estimate 0.085 kg.
    {
      id: `${run}-5-concluded`,
      barnId: 'barn-1',
      batchId: flock,
      at: '2026-03-03T10:00:00Z',
      weightKg: 0.085,
      visionKg: 0.085,
      concluded: { weightSource: 'vision', scaleMedianKg: 0.12, flags: ['multiple_animals'] },
    },
    // Provisional (no conclusion yet): weight_kg is the cloud's scale median, vision the image mean.
    { id: `${run}-6-provisional`, barnId: 'barn-1', batchId: flock, at: '2026-03-03T11:00:00Z', weightKg: 0.09, visionKg: 0.093 },
    // barn-2 has no flock: every session counts, whatever batch it names.
    { id: `${run}-7-no-flock`, barnId: 'barn-2', batchId: null, at: '2026-03-02T10:00:00Z', weightKg: 0.07 },
    { id: `${run}-8-no-flock-batch`, barnId: 'barn-2', batchId: randomUUID(), at: '2026-03-02T11:00:00Z', weightKg: 0.08 },
  ];
  for (const s of sessions) await seedSession(s);
  inputs = await readSummaryInputs(tenantScopedDb(app, t.id), { tenantId: t.id, farmId, barnId: null, window });
});

afterAll(async () => {
  await app?.end();
  await owner?.end();
});

const barn = (id: string) => inputs.barns.find((b) => b.barnId === id)!;

it("takes a flock's sessions by batch_id, and by date within its stay only without one", () => {
  // barn-1: 03-01 only the batch-named 0.046 (not the 2.9 kg before the placement);
  // 03-03: 0.080 + 0.085 + 0.090 = 0.255 / 3 = 0.085 (not the old batch's 3.1 kg, though its date is in the stay).
  const b1 = barn('barn-1');
  expect(b1.dailyWeights.map((d) => [d.day, d.sessions, +d.meanKg.toFixed(6)])).toEqual([
    ['2026-03-01', 1, 0.046],
    ['2026-03-03', 3, 0.085],
  ]);
  expect(b1.lastDayWeightsKg).toEqual([0.08, 0.085, 0.09]);
  expect(b1.flock?.weighings.map((w) => w.weightKg)).toEqual([0.08, 0.085, 0.09]);
  // barn-2 without a flock: both sessions, (0.07 + 0.08) / 2 = 0.075.
  expect(barn('barn-2').dailyWeights.map((d) => [d.day, d.sessions, +d.meanKg.toFixed(6)])).toEqual([['2026-03-02', 2, 0.075]]);
});

it("pairs the edge's concluded scale median with its vision estimate, and the provisional figures only otherwise", () => {
  // Concluded: scale 0.120 (scale_median_kg), vision 0.085 — the provisional reading of the same row
  // (weight_kg as the scale) would have paired 0.085 with 0.085 and hidden a 29 % disagreement.
  // Provisional: scale 0.090 (weight_kg), vision 0.093. Sessions without a vision estimate make no pair.
  expect(barn('barn-1').stations).toEqual([
    {
      stationId: 'st-1',
      pairs: [
        { scaleKg: 0.12, visionKg: 0.085 },
        { scaleKg: 0.09, visionKg: 0.093 },
      ],
    },
  ]);
});

it('gives the KPIs the placement weight recorded on the flock, and null where none was', () => {
  expect(barn('barn-1').flock?.flock).toMatchObject({ flockId: flock, placementWeightKg: 0.045 });
  expect(barn('barn-3').flock?.flock).toMatchObject({ flockId: unweighedFlock, placementWeightKg: null });
});
