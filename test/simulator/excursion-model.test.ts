/**
 * Climate excursions without the network: the model (ramp, plateau, after the end; silent
 * sensors), what the plan publishes with them (the same sensor noise, moved by the excursion), the
 * description's declared excursions, and the excursions file (written whole, a broken file
 * reported and ignored by the running simulator, re-read only when it changed).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { breeds } from '../../simulator/models/breeds';
import { climateAt } from '../../simulator/models/climate';
import { excursionShare, sensorsSilent, withExcursions, type Excursion } from '../../simulator/models/excursion';
import {
  addExcursion,
  clearExcursions,
  declaredExcursions,
  excursionStatus,
  excursionsFileFor,
  ExcursionsWatcher,
  readExcursions,
  writeExcursions,
} from '../../simulator/excursions';
import { parseFarmDescription } from '../../simulator/farm-description';
import type { FarmState } from '../../simulator/farm-state';
import { planWindow, type Action } from '../../simulator/plan';

const t0 = Date.parse('2026-12-01T08:00:00Z');
const at = (s: number) => new Date(t0 + s * 1000);
const ross = breeds['ross-308'];

const hot: Excursion = {
  kind: 'shift',
  barnId: 'barn-1',
  metric: 'temperature',
  rampSeconds: 60,
  change: { add: 8 },
  startMs: t0,
  endMs: t0 + 30 * 60_000,
};

describe('the excursion model', () => {
  const normal = climateAt(ross, 21, at(0), 'UTC');

  it('ramps in over its ramp seconds, holds on the plateau, and is gone at and after its end', () => {
    expect(excursionShare(hot, t0 - 1)).toBe(0);
    expect(excursionShare(hot, t0)).toBe(0);
    expect(excursionShare(hot, t0 + 15_000)).toBe(0.25);
    expect(excursionShare(hot, t0 + 60_000)).toBe(1);
    expect(excursionShare(hot, t0 + 29 * 60_000)).toBe(1);
    expect(excursionShare(hot, t0 + 30 * 60_000)).toBe(0);
    // A quarter into the ramp, +2 °C; on the plateau +8; after the end, the normal climate.
    expect(withExcursions(normal, 'barn-1', at(15), [hot]).temperatureC).toBeCloseTo(normal.temperatureC + 2, 9);
    expect(withExcursions(normal, 'barn-1', at(600), [hot]).temperatureC).toBeCloseTo(normal.temperatureC + 8, 9);
    expect(withExcursions(normal, 'barn-1', at(1800), [hot])).toEqual(normal);
    // Another barn, and the other metrics, are untouched.
    expect(withExcursions(normal, 'barn-2', at(600), [hot])).toEqual(normal);
    const { temperatureC: _t, ...others } = withExcursions(normal, 'barn-1', at(600), [hot]);
    const { temperatureC: _n, ...normalOthers } = normal;
    expect(others).toEqual(normalOthers);
  });

  it('moves to an absolute value (ramping from the normal one), stacks in order, and never reads beyond what a sensor can', () => {
    const ammonia: Excursion = { kind: 'shift', barnId: 'barn-1', metric: 'nh3', rampSeconds: 100, change: { to: 40 }, startMs: t0, endMs: t0 + 3_600_000 };
    // Halfway through the ramp: halfway from the normal NH3 to 40 ppm.
    expect(withExcursions(normal, 'barn-1', at(50), [ammonia]).nh3Ppm).toBeCloseTo((normal.nh3Ppm + 40) / 2, 9);
    expect(withExcursions(normal, 'barn-1', at(100), [ammonia]).nh3Ppm).toBe(40);
    const more: Excursion = { ...ammonia, rampSeconds: 0, change: { add: 5 } };
    expect(withExcursions(normal, 'barn-1', at(100), [ammonia, more]).nh3Ppm).toBe(45);
    const dry: Excursion = { kind: 'shift', barnId: 'barn-1', metric: 'humidity', rampSeconds: 0, change: { add: -500 }, startMs: t0, endMs: t0 + 60_000 };
    expect(withExcursions(normal, 'barn-1', at(1), [dry]).humidityPct).toBe(0);
  });

  it('silences the barn only inside the window', () => {
    const silent: Excursion = { kind: 'sensor_silent', barnId: 'barn-1', startMs: t0, endMs: t0 + 120_000 };
    expect(sensorsSilent('barn-1', at(-1), [silent])).toBe(false);
    expect(sensorsSilent('barn-1', at(0), [silent])).toBe(true);
    expect(sensorsSilent('barn-1', at(119), [silent])).toBe(true);
    expect(sensorsSilent('barn-1', at(120), [silent])).toBe(false);
    expect(sensorsSilent('barn-2', at(10), [silent])).toBe(false);
  });
});

const farm = parseFarmDescription({
  tenant_id: '00000000-0000-4000-8000-000000000001',
  farm_id: 'farm-1',
  barns: ['barn-1', 'barn-2'].map((barn_id) => ({
    barn_id,
    flock: { breed: 'ross-308', head_count: 1000, age_at_placement_days: 0, placed_on: '2026-11-20' },
    climate_sensors: ['climate-1', 'climate-2'],
    feed_dispensers: ['feeder-1'],
  })),
  live: { climate_interval_s: 10, session_interval_s: 600, feed_interval_s: 60, mortality_interval_s: 3600 },
  backfill: { climate_interval_s: 1800, session_interval_s: 21600, feed_interval_s: 21600, mortality_interval_s: 86400 },
  faults: { dropout: 0, broken: 0 },
  weighing: { readings_min: 4, readings_max: 6, images: 0, two_animals: 0, half_on: 0 },
});
const state: FarmState = {
  farm,
  flocks: {
    'barn-1': { flock_id: '00000000-0000-4000-8000-00000000000a', placed_day: '2026-11-20' },
    'barn-2': { flock_id: '00000000-0000-4000-8000-00000000000b', placed_day: '2026-11-20' },
  },
  credentials: {},
};

type Reading = Extract<Action, { kind: 'reading' }>;
const readings = (actions: Action[]) => actions.filter((a): a is Reading => a.kind === 'reading');
const key = (a: Action) => `${a.barnId}/${a.deviceId}/${a.kind === 'reading' ? a.metric : a.kind}/${a.at.toISOString()}`;

describe('the plan with excursions', () => {
  const from = at(-60);
  const to = at(180);
  const normal = planWindow(state, 3, farm.live, from, to);

  it('publishes every sensor of the barn moved by the excursion (same noise, same event ids) and nothing else changed', () => {
    const moved = planWindow(state, 3, farm.live, from, to, [{ ...hot, rampSeconds: 0 }]);
    expect(moved.map(key)).toEqual(normal.map(key));
    expect(moved.map((a) => a.eventId)).toEqual(normal.map((a) => a.eventId));
    const base = new Map(readings(normal).map((r) => [key(r), r.value]));
    const shifted = readings(moved).filter((r) => r.barnId === 'barn-1' && r.metric === 'temperature' && r.at.getTime() >= t0);
    // 18 slots of 10 s from the start to 180 s, two sensors.
    expect(shifted).toHaveLength(36);
    for (const r of shifted) expect(Math.abs(r.value - base.get(key(r))! - 8)).toBeLessThan(0.05 + 1e-9);
    // Before the start, in the other barn and for the other metrics: exactly the normal values; feed untouched.
    const untouched = moved.filter((a) => !shifted.includes(a as Reading));
    expect(untouched).toEqual(normal.filter((a) => !shifted.some((s) => key(s) === key(a))));
  });

  it('sends nothing from the barn’s climate sensors while they are silent, the rest as normal', () => {
    const silent: Excursion = { kind: 'sensor_silent', barnId: 'barn-1', startMs: t0, endMs: t0 + 120_000 };
    const quiet = planWindow(state, 3, farm.live, from, to, [silent]);
    const climate = (a: Action) => a.kind === 'reading' && a.barnId === 'barn-1';
    const inWindow = (a: Action) => a.at.getTime() >= t0 && a.at.getTime() < t0 + 120_000;
    expect(quiet.filter((a) => climate(a) && inWindow(a))).toEqual([]);
    // 12 slots × 2 sensors × 4 metrics went quiet; everything else is as without the excursion.
    expect(normal.length - quiet.length).toBe(96);
    expect(quiet).toEqual(normal.filter((a) => !(climate(a) && inWindow(a))));
  });

  it('starts a declared excursion `starts_after_s` after the run starts', () => {
    const declared = parseFarmDescription({
      ...farm,
      excursions: [
        { barn_id: 'barn-1', metric: 'co2', add: 2000, minutes: 10, ramp_seconds: 30, starts_after_s: 120 },
        { barn_id: 'barn-2', sensor_silent: true, minutes: 0.5 },
      ],
    }).excursions;
    expect(declaredExcursions(declared, at(0))).toEqual([
      { kind: 'shift', barnId: 'barn-1', metric: 'co2', rampSeconds: 30, change: { add: 2000 }, startMs: t0 + 120_000, endMs: t0 + 720_000 },
      { kind: 'sensor_silent', barnId: 'barn-2', startMs: t0, endMs: t0 + 30_000 },
    ]);
  });

  it('refuses a declared excursion that does not make sense, naming its path', () => {
    const bad = (e: object) => () => parseFarmDescription({ ...farm, excursions: [e] });
    expect(bad({ barn_id: 'barn-9', metric: 'co2', add: 1, minutes: 1 })).toThrow(/excursions\.0\.barn_id: no barn barn-9/);
    expect(bad({ barn_id: 'barn-1', metric: 'co2', add: 1, to: 2, minutes: 1 })).toThrow(/excursions\.0\.add: give exactly one of add and to/);
    expect(bad({ barn_id: 'barn-1', add: 1, minutes: 1 })).toThrow(/excursions\.0\.metric: give a metric/);
    expect(bad({ barn_id: 'barn-1', sensor_silent: true, metric: 'nh3', minutes: 1 })).toThrow(
      /excursions\.0\.metric: a sensor_silent excursion takes no metric/,
    );
    expect(bad({ barn_id: 'barn-1', metric: 'humidity', to: 130, minutes: 1 })).toThrow(
      /excursions\.0\.to: humidity 130 is beyond what a sensor reads \(0 to 100\)/,
    );
    expect(bad({ barn_id: 'barn-1', metric: 'co2', add: 1, minutes: 0 })).toThrow(/excursions\.0\.minutes/);
  });
});

describe('the excursions file', () => {
  let dir: string;
  let file: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'farmiq-excursions-'));
    file = excursionsFileFor(path.join(dir, 'state.json'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  function recordingLog() {
    const lines: { msg: string; err?: string; excursions?: string[] }[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        for (const l of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(l));
        done();
      },
    });
    return { log: pino({ level: 'info' }, sink), lines };
  }

  it('lives next to the state file, written whole (no temporary file left), mode 0600', () => {
    expect(file).toBe(path.join(dir, 'excursions.json'));
    expect(readExcursions(file)).toEqual([]);
    const { excursion } = addExcursion(file, { barn_id: 'barn-1', metric: 'temperature', add: 8, minutes: 30, ramp_seconds: 60 }, at(0));
    expect(excursion).toEqual({
      id: expect.stringMatching(/^exc-[0-9a-f]{6}$/),
      barn_id: 'barn-1',
      metric: 'temperature',
      add: 8,
      ramp_seconds: 60,
      minutes: 30,
      starts_at: '2026-12-01T08:00:00.000Z',
      ends_at: '2026-12-01T08:30:00.000Z',
      created_at: '2026-12-01T08:00:00.000Z',
    });
    expect(readExcursions(file)).toEqual([excursion]);
    expect(fs.readdirSync(dir)).toEqual(['excursions.json']);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
  });

  it('drops ended excursions when one is added; tells waiting, active and ended apart; clears by id, barn or all', () => {
    const a = addExcursion(file, { barn_id: 'barn-1', sensor_silent: true, minutes: 1 }, at(0)).excursion;
    const b = addExcursion(file, { barn_id: 'barn-1', metric: 'co2', to: 5000, minutes: 10, startsAt: at(300) }, at(10)).excursion;
    expect(excursionStatus(a, at(30))).toBe('active');
    expect(excursionStatus(b, at(30))).toBe('waiting');
    expect(excursionStatus(a, at(60))).toBe('ended');
    const c = addExcursion(file, { barn_id: 'barn-2', metric: 'nh3', add: 20, minutes: 10 }, at(120)).excursion;
    expect(readExcursions(file).map((e) => e.id)).toEqual([b.id, c.id]);
    expect(clearExcursions(file, { id: 'exc-000000' })).toEqual({ removed: [] });
    expect(clearExcursions(file, { barnId: 'barn-2' }).removed).toEqual([c]);
    expect(clearExcursions(file).removed).toEqual([b]);
    expect(readExcursions(file)).toEqual([]);
  });

  it('is followed by the running simulator: re-read when replaced, a broken file reported once and ignored, then read again once fixed', () => {
    const { log, lines } = recordingLog();
    const watcher = new ExcursionsWatcher(file, log);
    expect(watcher.current()).toEqual([]);
    const { excursion } = addExcursion(file, { barn_id: 'barn-1', metric: 'temperature', add: 8, minutes: 30 }, at(0));
    expect(watcher.current()).toEqual([
      { kind: 'shift', barnId: 'barn-1', metric: 'temperature', rampSeconds: 0, change: { add: 8 }, startMs: t0, endMs: t0 + 1_800_000 },
    ]);
    // Unchanged: the same answer without reading the file again (one "read" line so far).
    expect(watcher.current()).toBe(watcher.current());
    expect(lines.filter((l) => l.msg === 'excursions file read')).toHaveLength(1);

    fs.writeFileSync(file, '{"excursions": [{"barn_id": "barn-1", "metric": "temperature"');
    expect(watcher.current()).toEqual([]);
    expect(watcher.current()).toEqual([]);
    const ignored = lines.filter((l) => l.msg === 'excursions file ignored');
    expect(ignored).toHaveLength(1);
    expect(ignored[0].err).toMatch(/^excursions file .*excursions\.json is not JSON/);

    fs.writeFileSync(file, JSON.stringify({ excursions: [{ ...excursion, add: 'eight' }] }));
    expect(watcher.current()).toEqual([]);
    expect(lines.filter((l) => l.msg === 'excursions file ignored').at(-1)?.err).toMatch(/is not valid: excursions\.0\.add: /);

    writeExcursions(file, [excursion]);
    expect(watcher.current()).toHaveLength(1);
    fs.rmSync(file);
    expect(watcher.current()).toEqual([]);
  });

  it('adding over a broken file replaces it and says so; clearing all does too', () => {
    fs.writeFileSync(file, 'not json');
    const r = addExcursion(file, { barn_id: 'barn-1', metric: 'humidity', add: 20, minutes: 5 }, at(0));
    expect(r.replacedBroken).toMatch(/is not JSON/);
    expect(readExcursions(file)).toEqual([r.excursion]);
    fs.writeFileSync(file, '[]');
    expect(() => clearExcursions(file, { barnId: 'barn-1' })).toThrow(/is not valid/);
    expect(clearExcursions(file)).toEqual({ removed: [], replacedBroken: expect.stringMatching(/is not valid/) });
    expect(readExcursions(file)).toEqual([]);
  });
});
