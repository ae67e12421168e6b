/**
 * The history and the live run meet with no hole and no overlap (simulator/handover.ts), without
 * a network: the windows the simulator plays are caught at `play` (what it would send). A live
 * run started first makes the backfill end at its first moment; a live run started after a
 * backfill continues from the backfill's end; a restart of the live run plays nothing twice.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { parseFarmDescription } from '../../simulator/farm-description';
import type { FarmState } from '../../simulator/farm-state';
import { backfillEnd, handoverFileFor, liveCatchUpSeconds, liveStart, readHandover } from '../../simulator/handover';
import type { Action } from '../../simulator/plan';
import { Simulator } from '../../simulator/simulator';

const farm = parseFarmDescription({
  tenant_id: '0193a5c0-0000-7000-8000-00000000ab01',
  farm_id: 'farm-h',
  barns: [
    {
      barn_id: 'house-1',
      flock: { breed: 'ross-308', head_count: 1000, age_at_placement_days: 0, placed_days_ago: 5 },
      climate_sensors: ['c-1'],
      weighvision_stations: [],
      feed_dispensers: ['f-1'],
      mortality_counters: [],
    },
  ],
  live: { climate_interval_s: 1, session_interval_s: 600, feed_interval_s: 3600, mortality_interval_s: 3600 },
  backfill: { climate_interval_s: 60, session_interval_s: 21600, feed_interval_s: 21600, mortality_interval_s: 86400 },
  faults: { dropout: 0, broken: 0 },
  weighing: { readings_min: 3, readings_max: 5, images: 2, two_animals: 0, half_on: 0 },
});
const placed = new Date(Date.now() - 5 * 86_400_000).toISOString().slice(0, 10);
const state: FarmState = { farm, flocks: { 'house-1': { flock_id: '0193a5c0-0000-7000-8000-00000000ab02', placed_day: placed } }, credentials: {} };

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'farmiq-handover-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

/** A simulator whose sends are recorded, not made; the handover beside the excursions file, as the CLI builds it. */
function recording() {
  const sim = new Simulator({
    state,
    seed: 1,
    mqttUrl: 'mqtt://127.0.0.1:1',
    stationHttpBase: 'http://127.0.0.1:1',
    log: pino({ level: 'silent' }),
    excursionsFile: path.join(dir, 'excursions.json'),
  });
  const played: Action[] = [];
  jest.spyOn(sim, 'play').mockImplementation(async (actions) => {
    played.push(...actions);
    return {};
  });
  return { sim, played };
}

const times = (actions: Action[]) => actions.filter((a) => a.kind === 'reading' || a.kind === 'dropout').map((a) => a.at.getTime());

describe('the handover between the history and the live run', () => {
  it('a backfill after the live run started ends where the live run began: no hole, no overlap', async () => {
    const live = recording();
    await live.sim.run({ until: new Date(Date.now() + 2500), tickMs: 200 });
    const since = readHandover(handoverFileFor(path.join(dir, 'state.json')), farm)?.live_since;
    expect(since).toBeDefined();
    const liveTimes = times(live.played);
    expect(Math.min(...liveTimes)).toBeGreaterThanOrEqual(Date.parse(since!));

    const history = recording();
    await history.sim.backfill({ days: 1 });
    const historyTimes = times(history.played);
    // The history's last slot is the last of its cadence before the live run's start, not midnight.
    expect(Math.max(...historyTimes)).toBeLessThan(Date.parse(since!));
    expect(Date.parse(since!) - Math.max(...historyTimes)).toBeLessThanOrEqual(60_000);
    expect(Math.min(...historyTimes)).toBeGreaterThanOrEqual(Date.parse(since!) - 86_400_000);
    expect(readHandover(handoverFileFor(path.join(dir, 'state.json')), farm)?.backfill_until).toBe(since);

    // Played again, the same window: the same actions.
    const again = recording();
    await again.sim.backfill({ days: 1 });
    expect(times(again.played)).toEqual(historyTimes);

    // A restarted live run starts now: the history is not played twice, nor the previous run's seconds.
    const restarted = recording();
    await restarted.sim.run({ until: new Date(Date.now() + 1200), tickMs: 200 });
    expect(Math.min(...times(restarted.played))).toBeGreaterThan(Math.max(...liveTimes));
  });

  it('a live run started after a backfill continues from its end', async () => {
    const history = recording();
    const until = new Date(Math.floor((Date.now() - 30_000) / 1000) * 1000);
    await history.sim.backfill({ days: 1, until });
    const live = recording();
    await live.sim.run({ until: new Date(Date.now() + 1000), tickMs: 200 });
    expect(Math.min(...times(live.played))).toBe(until.getTime());
    expect(Math.max(...times(history.played))).toBeLessThan(until.getTime());
  });

  it('decides from the handover alone', () => {
    const now = new Date('2026-12-03T06:30:00Z');
    const f = { tenant_id: farm.tenant_id, farm_id: farm.farm_id };
    expect(backfillEnd(undefined, now)).toEqual(now);
    expect(backfillEnd({ ...f, live_since: '2026-12-03T06:29:10.000Z' }, now)).toEqual(new Date('2026-12-03T06:29:10Z'));
    expect(liveStart(undefined, now)).toEqual(now);
    expect(liveStart({ ...f, backfill_until: '2026-12-03T06:20:00.000Z' }, now)).toEqual(new Date('2026-12-03T06:20:00Z'));
    // The live run took over at the backfill's end already: a restart starts now.
    expect(liveStart({ ...f, live_since: '2026-12-03T06:20:00.000Z', backfill_until: '2026-12-03T06:20:00.000Z' }, now)).toEqual(now);
    // A backfill ended long ago: the gap since was the farm being off.
    const old = new Date(now.getTime() - (liveCatchUpSeconds + 1) * 1000).toISOString();
    expect(liveStart({ ...f, backfill_until: old }, now)).toEqual(now);
  });
});
