/**
 * The simulator's pure models against figures worked by hand from the breed tables
 * (simulator/models/breeds.ts) and the climate formula (simulator/models/climate.ts).
 */
import { breeds, type Breed } from '../../simulator/models/breeds';
import { climateAt, dailyPhase } from '../../simulator/models/climate';
import { atAge } from '../../simulator/models/curve';
import { dailyFeedKg, headOn, type FlockFacts } from '../../simulator/models/flock-life';
import { weighing } from '../../simulator/plan';
import { parseFarmDescription } from '../../simulator/farm-description';
import { Draws } from '../../simulator/random';
import demoFarm from '../../demo/farm.json';

const ross = breeds['ross-308'];
const pig = breeds['grow-finish'];

describe('breed curves', () => {
  it('reads a table between its points and flat beyond its ends', () => {
    // Day 10 lies 3/7 of the way from day 7 (0.19 kg) to day 14 (0.48 kg): 0.19 + 0.29 × 3/7 = 0.3142857.
    expect(atAge(ross.weightKg, 10)).toBeCloseTo(0.3142857, 6);
    expect(atAge(ross.weightKg, 0)).toBe(0.042);
    expect(atAge(ross.weightKg, 60)).toBe(3.5);
    // Pig at 115 days: halfway from 100 d (60 kg) to 130 d (90 kg) = 75 kg.
    expect(atAge(pig.weightKg, 115)).toBe(75);
  });

  it('sets the broiler house at 33 °C on day 0 falling to 20 °C by day 35, the finisher at 22 → 18 °C', () => {
    expect(atAge(ross.setPointC, 0)).toBe(33);
    // Day 3.5: halfway from 33 (day 0) to 29 (day 7) = 31.
    expect(atAge(ross.setPointC, 3.5)).toBe(31);
    expect(atAge(ross.setPointC, 35)).toBe(20);
    expect(atAge(ross.setPointC, 49)).toBe(20);
    expect(atAge(pig.setPointC, 70)).toBe(22);
    // 100 d: half way from 22 (70 d) to 20 (130 d) = 21.
    expect(atAge(pig.setPointC, 100)).toBe(21);
    expect(atAge(pig.setPointC, 180)).toBe(18);
  });
});

describe('climate', () => {
  it('swings ±1.5 °C around the set-point, warmest at 15:00 local and coolest at 03:00', () => {
    // Asia/Bangkok is UTC+7 all year: 08:00 UTC is 15:00 local, sin((15 − 9)/24 · 2π) = sin(π/2) = 1; 20:00 UTC is 03:00 local, sin(−π/2) = −1.
    expect(dailyPhase(new Date('2026-12-01T08:00:00Z'), 'Asia/Bangkok')).toBeCloseTo(1, 9);
    expect(dailyPhase(new Date('2026-12-01T20:00:00Z'), 'Asia/Bangkok')).toBeCloseTo(-1, 9);
    const warm = climateAt(ross, 0, new Date('2026-12-01T08:00:00Z'), 'Asia/Bangkok');
    expect(warm.temperatureC).toBeCloseTo(34.5, 9);
    // Humidity 62 − 6 = 56 %, CO2 1500 − 400 = 1100 ppm, NH3 4 + 0 − 2 = 2 ppm for day-old chicks at the day's peak.
    expect(warm.humidityPct).toBeCloseTo(56, 9);
    expect(warm.co2Ppm).toBeCloseTo(1100, 9);
    expect(warm.nh3Ppm).toBeCloseTo(2, 9);
    // Day 21 at 03:00 local: 23 − 1.5 = 21.5 °C; NH3 4 + 10 · 21/42 + 2 = 11 ppm.
    const cold = climateAt(ross, 21, new Date('2026-12-01T20:00:00Z'), 'Asia/Bangkok');
    expect(cold.temperatureC).toBeCloseTo(21.5, 9);
    expect(cold.nh3Ppm).toBeCloseTo(11, 9);
  });
});

describe('flock life', () => {
  // 0.1 % a day of 1000 head is 1 death, and ±30 % of 1 still rounds to 1: exactly one death a day.
  const steady: Breed = { ...ross, dailyMortality: [[0, 0.001]] };
  const flock: FlockFacts = {
    flockId: '0193a5c0-0000-7000-8000-000000000001',
    breed: steady,
    headPlaced: 1000,
    ageAtPlacementDays: 0,
    placedDay: '2026-11-01',
  };

  it('counts the head down by each day’s deaths', () => {
    expect(headOn(flock, '2026-11-01', 1)).toEqual({ headAtStart: 1000, deaths: 1 });
    expect(headOn(flock, '2026-11-11', 1)).toEqual({ headAtStart: 990, deaths: 1 });
    // Before placement: the placed head, no deaths.
    expect(headOn(flock, '2026-10-30', 1)).toEqual({ headAtStart: 1000, deaths: 0 });
  });

  it('feeds intake per head at the day’s age times the head alive', () => {
    // Day 10: 0.035 + (0.075 − 0.035) × 3/7 = 0.0521429 kg a head; 990 head → 51.6214 kg.
    expect(dailyFeedKg(flock, '2026-11-11', 1)).toBeCloseTo(0.0521428571 * 990, 4);
    // A 600-head finisher placed at 70 days, 30 days in (100 d), no deaths: 2.1 kg × 600 = 1260 kg.
    const pigs: FlockFacts = { ...flock, breed: { ...pig, dailyMortality: [[0, 0]] }, headPlaced: 600, ageAtPlacementDays: 70 };
    expect(dailyFeedKg(pigs, '2026-12-01', 1)).toBeCloseTo(1260, 9);
  });
});

describe('weighing', () => {
  const farm = parseFarmDescription(demoFarm);
  const facts: FlockFacts = { flockId: '0193a5c0-0000-7000-8000-000000000002', breed: pig, headPlaced: 600, ageAtPlacementDays: 70, placedDay: '2026-11-01' };

  it('draws animals around the breed curve with the breed’s CV', () => {
    // 2026-12-01T00:00Z is 30 days in: 100 days old, 60 kg on the curve; CV 8 % → sd 4.8 kg.
    const at = new Date('2026-12-01T00:00:00Z');
    const w = Array.from({ length: 3000 }, (_, i) => weighing(facts, farm, at, new Draws(3, `w${i}`)).weightKg);
    const mean = w.reduce((a, b) => a + b, 0) / w.length;
    const sd = Math.sqrt(w.reduce((a, b) => a + (b - mean) ** 2, 0) / (w.length - 1));
    expect(mean).toBeGreaterThan(59.4);
    expect(mean).toBeLessThan(60.6);
    expect(sd / mean).toBeGreaterThan(0.072);
    expect(sd / mean).toBeLessThan(0.088);
  });

  it('settles the scale on the animal once it stands still (sd 0.3 %, so within 1.5 %), and sums two animals', () => {
    const at = new Date('2026-12-01T00:00:00Z');
    for (let i = 0; i < 300; i++) {
      const s = weighing(facts, farm, at, new Draws(5, `s${i}`));
      expect(s.readings.length).toBeGreaterThanOrEqual(farm.weighing.readings_min);
      expect(s.readings.length).toBeLessThanOrEqual(farm.weighing.readings_max);
      const onScale = s.photoCase === 'two_animals' ? s.weightKg + s.otherWeightKg! : s.weightKg;
      for (const r of s.readings.filter((x) => x.stable)) expect(Math.abs(r.kg / onScale - 1)).toBeLessThan(0.015);
      if (s.photoCase === 'half_on') expect(s.readings.every((r) => !r.stable)).toBe(true);
      if (s.photoCase === 'normal') expect(s.readings.some((r) => r.stable)).toBe(true);
    }
  });
});

describe('the farm description', () => {
  it('accepts the demo farm', () => {
    expect(parseFarmDescription(demoFarm).barns.map((b) => b.barn_id)).toEqual(['broiler-house-1', 'pig-finisher-1']);
  });

  it('names the path of what is wrong', () => {
    expect(() => parseFarmDescription({ ...demoFarm, time_zone: 'Mars/Olympus' })).toThrow(/time_zone: must be an IANA time zone/);
    const bad = { ...demoFarm, barns: [{ ...demoFarm.barns[0], flock: { ...demoFarm.barns[0].flock, breed: 'dodo' } }] };
    expect(() => parseFarmDescription(bad, 'farm.json')).toThrow(/farm\.json is not valid: barns\.0\.flock\.breed/);
    const both = { ...demoFarm, barns: [{ ...demoFarm.barns[0], flock: { ...demoFarm.barns[0].flock, placed_on: '2026-11-01' } }] };
    expect(() => parseFarmDescription(both)).toThrow(/exactly one of placed_on and placed_days_ago/);
    const twice = { ...demoFarm, barns: [demoFarm.barns[0], demoFarm.barns[0]] };
    expect(() => parseFarmDescription(twice)).toThrow(/barn broiler-house-1 appears twice/);
  });
});
