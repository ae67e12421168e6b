/**
 * Head count and animal-days from a placement and its daily losses (flocks/head-count.ts), against
 * figures worked by hand in the comments.
 */
import { animalDays, effectiveDailyLosses, headCountOn, presenceOn } from '../../flocks/head-count';

// 20,000 broilers placed at midnight on 1 March; deaths 30 / 25 / 20 on days 1-3, 5 culls on day 2.
const flock = { placed_at: '2026-03-01T00:00:00Z', head_count: 20000, depopulated_at: null };
const losses = [
  { day: '2026-03-01', dead: 30, culled: 0 },
  { day: '2026-03-02', dead: 25, culled: 5 },
  { day: '2026-03-03', dead: 20, culled: 0 },
];

describe('headCountOn', () => {
  it('is placed minus cumulative deaths and culls at the end of each day', () => {
    expect(headCountOn(flock, losses, '2026-02-28')).toBe(0); // before placement
    expect(headCountOn(flock, losses, '2026-03-01')).toBe(19970); // 20000 - 30
    expect(headCountOn(flock, losses, '2026-03-02')).toBe(19940); // 19970 - 25 - 5
    expect(headCountOn(flock, losses, '2026-03-03')).toBe(19920); // 19940 - 20
    expect(headCountOn(flock, losses, '2026-03-10')).toBe(19920); // no losses recorded since
  });

  it('is 0 from the depopulation day on', () => {
    const gone = { ...flock, depopulated_at: '2026-03-03T12:00:00Z' };
    expect(headCountOn(gone, losses, '2026-03-02')).toBe(19940);
    expect(headCountOn(gone, losses, '2026-03-03')).toBe(0);
    expect(headCountOn(gone, losses, '2026-03-04')).toBe(0);
  });

  it('never goes below 0 when more losses are recorded than were placed', () => {
    expect(headCountOn({ ...flock, head_count: 40 }, losses, '2026-03-02')).toBe(0); // 40 - 30 - 30 < 0
  });
});

describe('animalDays', () => {
  it('counts a whole day as the mean of its opening and closing head count', () => {
    // (20000+19970)/2 + (19970+19940)/2 + (19940+19920)/2 = 19985 + 19955 + 19930 = 59870
    expect(animalDays(flock, losses, '2026-03-01', '2026-03-03')).toBe(59870);
    // A day with no losses: 19920 all day.
    expect(animalDays(flock, losses, '2026-03-04', '2026-03-04')).toBe(19920);
  });

  it('counts the placement day from the placement time and the depopulation day up to depopulation', () => {
    const partial = { ...flock, placed_at: '2026-03-01T18:00:00Z', depopulated_at: '2026-03-03T12:00:00Z' };
    expect(presenceOn(partial, '2026-03-01')).toBe(0.25); // 18:00 → 24:00
    expect(presenceOn(partial, '2026-03-03')).toBe(0.5); // 00:00 → 12:00
    // 0.25 × 19985 + 19955 + 0.5 × 19930 = 4996.25 + 19955 + 9965 = 34916.25
    expect(animalDays(partial, losses, '2026-03-01', '2026-03-03')).toBe(34916.25);
    // Nothing before placement or after depopulation.
    expect(animalDays(partial, losses, '2026-02-20', '2026-03-10')).toBe(34916.25);
  });
});

describe('effectiveDailyLosses', () => {
  it('takes the operator count of a day over the device count, and the device count otherwise', () => {
    const records = [
      { day: '2026-03-02', dead: 27, culled: 0, source: 'device' as const },
      { day: '2026-03-01', dead: 30, culled: 0, source: 'device' as const },
      { day: '2026-03-02', dead: 25, culled: 5, source: 'operator' as const },
    ];
    expect(effectiveDailyLosses(records)).toEqual([
      { day: '2026-03-01', dead: 30, culled: 0 },
      { day: '2026-03-02', dead: 25, culled: 5 },
    ]);
  });
});
