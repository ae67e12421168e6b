/**
 * Head count and animal-days from a placement and its daily losses (flocks/head-count.ts, the one
 * convention of the edge API and the cloud KPIs), against figures worked by hand in the comments.
 */
import { animalDays, animalDaysByDay, effectiveDailyLosses, farmDayOf, headCountOn, type FlockStay } from '../../flocks/head-count';

const utc = 'UTC';
const presenceOn = (f: FlockStay, day: string) => animalDaysByDay(f, [], utc, day, day)[0].presentShare;

// 20,000 broilers placed at midnight on 1 March; deaths 30 / 25 / 20 on days 1-3, 5 culls on day 2.
const flock: FlockStay = { placedAt: '2026-03-01T00:00:00Z', headPlaced: 20000, depopulatedAt: null };
const losses = [
  { day: '2026-03-01', dead: 30, culled: 0 },
  { day: '2026-03-02', dead: 25, culled: 5 },
  { day: '2026-03-03', dead: 20, culled: 0 },
];

describe('headCountOn', () => {
  it('is placed minus cumulative deaths and culls at the end of each day', () => {
    expect(headCountOn(flock, losses, utc, '2026-02-28')).toBe(0); // before placement
    expect(headCountOn(flock, losses, utc, '2026-03-01')).toBe(19970); // 20000 - 30
    expect(headCountOn(flock, losses, utc, '2026-03-02')).toBe(19940); // 19970 - 25 - 5
    expect(headCountOn(flock, losses, utc, '2026-03-03')).toBe(19920); // 19940 - 20
    expect(headCountOn(flock, losses, utc, '2026-03-10')).toBe(19920); // no losses recorded since
  });

  it('is 0 from the depopulation day on', () => {
    const gone = { ...flock, depopulatedAt: '2026-03-03T12:00:00Z' };
    expect(headCountOn(gone, losses, utc, '2026-03-02')).toBe(19940);
    expect(headCountOn(gone, losses, utc, '2026-03-03')).toBe(0);
    expect(headCountOn(gone, losses, utc, '2026-03-04')).toBe(0);
  });

  it('never goes below 0 when more losses are recorded than were placed', () => {
    expect(headCountOn({ ...flock, headPlaced: 40 }, losses, utc, '2026-03-02')).toBe(0); // 40 - 30 - 30 < 0
  });
});

describe('animalDays', () => {
  it('counts a whole day as the mean of its opening and closing head count', () => {
    // (20000+19970)/2 + (19970+19940)/2 + (19940+19920)/2 = 19985 + 19955 + 19930 = 59870
    expect(animalDays(flock, losses, utc, '2026-03-01', '2026-03-03')).toBe(59870);
    // A day with no losses: 19920 all day.
    expect(animalDays(flock, losses, utc, '2026-03-04', '2026-03-04')).toBe(19920);
  });

  it('counts the placement day from the placement time and the depopulation day up to depopulation', () => {
    const partial = { ...flock, placedAt: '2026-03-01T18:00:00Z', depopulatedAt: '2026-03-03T12:00:00Z' };
    expect(presenceOn(partial, '2026-03-01')).toBe(0.25); // 18:00 → 24:00
    expect(presenceOn(partial, '2026-03-03')).toBe(0.5); // 00:00 → 12:00
    // 0.25 × 19985 + 19955 + 0.5 × 19930 = 4996.25 + 19955 + 9965 = 34916.25
    expect(animalDays(partial, losses, utc, '2026-03-01', '2026-03-03')).toBe(34916.25);
    // Nothing before placement or after depopulation.
    expect(animalDays(partial, losses, utc, '2026-02-20', '2026-03-10')).toBe(34916.25);
  });
});

describe('farm-local days', () => {
  // Asia/Bangkok is UTC+7 all year. 10,000 broilers placed at 18:00 UTC on 03-01 = 01:00 on 03-02 in
  // Bangkok; the counter's farm days: 40 dead on 03-02, 24 dead + 6 culls on 03-03; loaded out at
  // 20:00 UTC on 03-04 = 03:00 on 03-05 in Bangkok.
  const bangkok = 'Asia/Bangkok';
  const stay: FlockStay = { placedAt: '2026-03-01T18:00:00Z', headPlaced: 10000, depopulatedAt: '2026-03-04T20:00:00Z' };
  const counts = [
    { day: '2026-03-02', dead: 40, culled: 0 },
    { day: '2026-03-03', dead: 24, culled: 6 },
  ];

  it('reads placement and depopulation on the farm clock, so the days differ from UTC', () => {
    expect([farmDayOf(stay.placedAt, bangkok), farmDayOf(stay.placedAt, utc)]).toEqual(['2026-03-02', '2026-03-01']);
    // Bangkok:
    //   03-01  not yet placed                                     0
    //   03-02  01:00 → 24:00 = 23/24; (10000 + 9960) / 2 = 9980  → 23/24 · 9980 = 9564.1667
    //   03-03  (9960 + 9930) / 2                                  9945
    //   03-04  9930 all day                                       9930
    //   03-05  00:00 → 03:00 = 3/24 = 0.125 · 9930                1241.25, head count 0 (loaded out)
    const local = animalDaysByDay(stay, counts, bangkok, '2026-03-01', '2026-03-05');
    expect(local.map((d) => [d.day, d.openingHead, d.headCount])).toEqual([
      ['2026-03-01', 0, 0],
      ['2026-03-02', 10000, 9960],
      ['2026-03-03', 9960, 9930],
      ['2026-03-04', 9930, 9930],
      ['2026-03-05', 9930, 0],
    ]);
    expect(local.map((d) => d.animalDays)).toEqual([0, (23 / 24) * 9980, 9945, 9930, 1241.25]);
    // 9564.1667 + 9945 + 9930 + 1241.25 = 30680.4167
    expect(animalDays(stay, counts, bangkok, '2026-03-01', '2026-03-05')).toBeCloseTo(30680.4167, 3);
    // The same records read in UTC days put the flock a day earlier:
    //   03-01  18:00 → 24:00 = 0.25 · 10000 (no loss recorded for 03-01)   2500
    //   03-02  (10000 + 9960) / 2                                           9980
    //   03-03  9945;  03-04  00:00 → 20:00 = 20/24 · 9930 = 8275, then gone; 03-05 0
    //   → 2500 + 9980 + 9945 + 8275 = 30700
    expect(animalDays(stay, counts, utc, '2026-03-01', '2026-03-05')).toBeCloseTo(30700, 9);
    // On 03-01 a Bangkok farmer has no flock yet and UTC already has 10,000; on 03-04 the flock is
    // still in the Bangkok barn and already gone in UTC.
    expect([headCountOn(stay, counts, bangkok, '2026-03-01'), headCountOn(stay, counts, utc, '2026-03-01')]).toEqual([0, 10000]);
    expect([headCountOn(stay, counts, bangkok, '2026-03-04'), headCountOn(stay, counts, utc, '2026-03-04')]).toEqual([9930, 0]);
  });

  it("counts losses recorded for a day before the farm-local placement day as not the flock's", () => {
    // A count for Bangkok's 03-01 (before the 01:00 03-02 placement) is left out: 10000 − 40 on 03-02.
    expect(headCountOn(stay, [{ day: '2026-03-01', dead: 5, culled: 0 }, ...counts], bangkok, '2026-03-02')).toBe(9960);
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
