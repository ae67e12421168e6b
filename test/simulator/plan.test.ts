/**
 * The simulator's plan and messages without a network: the cadences give the hand-counted slots,
 * the same window gives the same actions and event ids, overlapping windows agree, and each kind
 * of broken reading is refused by the farm server's own checks with the reason the simulator
 * expects for it.
 */
import { parseDeviceMessage } from '../../domain/contracts/device-message';
import { normaliseReading } from '../../domain/contracts/units';
import { parseFarmDescription } from '../../simulator/farm-description';
import type { FarmState } from '../../simulator/farm-state';
import { messageOf, sessionMessage } from '../../simulator/messages';
import { brokenKinds, planWindow, type Action } from '../../simulator/plan';

const farm = parseFarmDescription({
  tenant_id: '0193a5c0-0000-7000-8000-00000000aa01',
  farm_id: 'farm-p',
  barns: [
    {
      barn_id: 'house-1',
      flock: { breed: 'ross-308', head_count: 1000, age_at_placement_days: 0, placed_on: '2026-11-20' },
      climate_sensors: ['c-1'],
      weighvision_stations: ['wv-1'],
      feed_dispensers: ['f-1', 'f-2'],
      mortality_counters: ['m-1'],
    },
  ],
  live: { climate_interval_s: 60, session_interval_s: 600, feed_interval_s: 3600, mortality_interval_s: 3600 },
  backfill: { climate_interval_s: 1800, session_interval_s: 21600, feed_interval_s: 21600, mortality_interval_s: 86400 },
  faults: { dropout: 0.05, broken: 0.3 },
  weighing: { readings_min: 3, readings_max: 5, images: 2, two_animals: 0.1, half_on: 0.1 },
});
const state: FarmState = {
  farm,
  flocks: { 'house-1': { flock_id: '0193a5c0-0000-7000-8000-00000000aa02', placed_day: '2026-11-20' } },
  credentials: {},
};
const day = (d: string) => new Date(`${d}T00:00:00Z`);
const count = (actions: Action[], ...kinds: Action['kind'][]) => actions.filter((a) => kinds.includes(a.kind)).length;

describe('a backfill window', () => {
  const actions = planWindow(state, 1, farm.backfill, day('2026-11-25'), day('2026-11-27'));

  it('has every slot of the cadence', () => {
    // 2 days: climate every 30 min = 96 slots × 4 metrics; sessions every 6 h = 8; two feeders every 6 h = 16; one report a day = 2.
    expect(count(actions, 'reading', 'broken', 'dropout')).toBe(384);
    expect(count(actions, 'session')).toBe(8);
    expect(count(actions, 'feed')).toBe(16);
    expect(count(actions, 'mortality')).toBe(2);
    expect(actions.map((a) => a.at.getTime())).toEqual([...actions.map((a) => a.at.getTime())].sort((x, y) => x - y));
  });

  it('splits the day’s ration between the feeders and reports the whole day’s deaths once a day', () => {
    const feeds = actions.filter((a): a is Extract<Action, { kind: 'feed' }> => a.kind === 'feed' && a.at.toISOString().startsWith('2026-11-25'));
    // Day 5 of a Ross flock: 0.012 + 0.023 × 5/7 = 0.0284286 kg a head; ~1000 head (a few died) ⇒ ≈ 28.4 kg a day,
    // four dispenses of two feeders, each a quarter of a half ±3 %.
    const day5 = feeds.reduce((a, f) => a + f.quantityKg, 0);
    expect(day5).toBeGreaterThan(28.43 * 0.97 * 0.99);
    expect(day5).toBeLessThan(28.43 * 1.03);
    const reports = actions.filter((a): a is Extract<Action, { kind: 'mortality' }> => a.kind === 'mortality');
    expect(reports.map((r) => r.day)).toEqual(['2026-11-25', '2026-11-26']);
  });

  it('is the same every time, and an overlapping window agrees on what they share', () => {
    const again = planWindow(state, 1, farm.backfill, day('2026-11-25'), day('2026-11-27'));
    expect(again).toEqual(actions);
    const overlap = planWindow(state, 1, farm.backfill, day('2026-11-26'), day('2026-11-28'));
    const shared = actions.filter((a) => a.at >= day('2026-11-26'));
    expect(overlap.slice(0, shared.length)).toEqual(shared);
    const ids = actions.map((a) => a.eventId);
    expect(new Set(ids).size).toBe(ids.length);
    // Another seed draws other values at the same slots, under the same ids.
    const other = planWindow(state, 2, farm.backfill, day('2026-11-25'), day('2026-11-27'));
    expect(other.map((a) => a.eventId)).toEqual(ids);
    expect(other).not.toEqual(actions);
  });

  it('plays nothing before the flock is placed', () => {
    expect(planWindow(state, 1, farm.backfill, day('2026-11-10'), day('2026-11-20'))).toEqual([]);
  });
});

describe('the messages', () => {
  const actions = planWindow(state, 1, farm.backfill, day('2026-11-21'), day('2026-11-28'));

  it('are accepted by the contract checks, except each broken reading, refused with its expected reason', () => {
    const broken = actions.filter((a) => a.kind === 'broken');
    expect(new Set(broken.map((a) => a.kind === 'broken' && a.broken))).toEqual(new Set(Object.keys(brokenKinds)));
    for (const a of actions) {
      if (a.kind === 'session' || a.kind === 'dropout') continue;
      const m = messageOf(farm, a);
      const parsed = parseDeviceMessage(m.topic, Buffer.from(m.body), 64 * 1024);
      const reason = !parsed.ok ? parsed.reason : parsed.event.event_type === 'telemetry.reading' ? unitVerdict(parsed.event.payload) : 'accepted';
      expect(reason).toBe(a.kind === 'broken' ? brokenKinds[a.broken] : 'accepted');
    }
  });

  it('give each session event its own id and the station as device', () => {
    const s = actions.find((a): a is Extract<Action, { kind: 'session' }> => a.kind === 'session')!;
    const created = sessionMessage(farm, s, 'created', 0, { batch_id: s.flockId });
    const reading = sessionMessage(farm, s, 'weight.recorded', 1, { weight_kg: 1, stable: true });
    for (const m of [created, reading]) expect(parseDeviceMessage(m.topic, Buffer.from(m.body), 64 * 1024).ok).toBe(true);
    expect(JSON.parse(created.body).event_id).not.toBe(JSON.parse(reading.body).event_id);
    expect(created.topic).toBe(`iot/weighvision/${farm.tenant_id}/farm-p/house-1/wv-1/session/${s.sessionId}/created`);
  });
});

function unitVerdict(payload: { metric: string; value: number; unit: string }): string {
  const n = normaliseReading(payload);
  return n.ok ? 'accepted' : n.reason;
}
