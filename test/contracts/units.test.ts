/** Telemetry units per metric (domain/contracts/units.ts): conversions worked by hand, refusals with their reason. */
import { normaliseReading } from '../../domain/contracts/units';

describe('normaliseReading', () => {
  it.each([
    // (77 − 32) × 5/9 = 25
    ['temperature', 77, 'F', 25, 'C'],
    ['temperature', 77, '°F', 25, 'C'],
    // 299.15 − 273.15 = 26
    ['temperature', 299.15, 'K', 26, 'C'],
    ['temperature', 26.4, '°C', 26.4, 'C'],
    ['humidity', 65, '%RH', 65, '%'],
    // 25 000 ppb / 1000 = 25 ppm
    ['nh3', 25000, 'ppb', 25, 'ppm'],
    ['weight', 2150, 'g', 2.15, 'kg'],
  ] as const)('%s %d %s is stored as %d %s', (metric, value, unit, want, wantUnit) => {
    const n = normaliseReading({ metric, value, unit });
    expect(n).toEqual({ ok: true, value: want, unit: wantUnit, converted: true });
  });

  it('leaves a reading in its stored unit as it is', () => {
    expect(normaliseReading({ metric: 'temperature', value: 26.4, unit: 'C' })).toEqual({ ok: true, value: 26.4, unit: 'C', converted: false });
    expect(normaliseReading({ metric: 'co2', value: 1800, unit: 'ppm' })).toEqual({ ok: true, value: 1800, unit: 'ppm', converted: false });
  });

  it.each([
    ['temperature', 'ppm'],
    ['temperature', 'c'], // units are case-sensitive: c is not C
    ['humidity', 'g/m3'],
    ['co2', '%'],
    ['weight', 'stone'],
  ])('refuses %s in %s with unit_not_accepted', (metric, unit) => {
    const n = normaliseReading({ metric, value: 1, unit });
    expect(n.ok).toBe(false);
    if (!n.ok) expect(n.reason).toBe('unit_not_accepted');
  });

  it('stores metrics it has no table for as sent', () => {
    expect(normaliseReading({ metric: 'water_flow', value: 3, unit: 'l/min' })).toEqual({ ok: true, value: 3, unit: 'l/min', converted: false });
  });
});
