/**
 * The condition machine (alarms/condition.ts) on hand-worked sequences: raise delay, hysteresis,
 * flapping at the limit, clear delay, late readings, a minimum bound and rate of change.
 */
import { normalCondition, stepCondition, type ConditionRule, type ConditionState, type Transition } from '../../alarms/condition';

const t0 = Date.parse('2026-06-01T10:00:00Z');
const at = (s: number) => new Date(t0 + s * 1000).toISOString();

/** Runs [seconds, value] pairs and returns the phases and transitions seen. */
function run(rule: ConditionRule, samples: [number, number][], start: ConditionState = normalCondition) {
  let state = start;
  const phases: string[] = [];
  const transitions: { at: number; t: Transition }[] = [];
  for (const [s, value] of samples) {
    const step = stepCondition(rule, state, { value, at: at(s) });
    state = step.state;
    phases.push(state.phase);
    if (step.transition) transitions.push({ at: s, t: step.transition });
  }
  return { state, phases, transitions };
}

const max29: ConditionRule = { bound: 'max', threshold: 29, raiseDelaySeconds: 120, clearDelaySeconds: 300, hysteresis: 1 };

describe('a max limit with delays and hysteresis', () => {
  it('raises only once the value has been above the bound for the raise delay', () => {
    const r = run(max29, [
      [0, 28],
      [30, 30], // beyond: pending since 30
      [90, 31],
      [149, 31], // 119 s: not yet
      [150, 31], // 120 s: raise
      [180, 32],
    ]);
    expect(r.phases).toEqual(['normal', 'pending_raise', 'pending_raise', 'pending_raise', 'active', 'active']);
    expect(r.transitions).toEqual([{ at: 150, t: 'raise' }]);
    expect(r.state.conditionSince).toBe(at(30));
  });

  it('does not raise when the value comes back inside before the delay', () => {
    const r = run(max29, [
      [0, 30],
      [60, 27.5], // inside 29-1: back to normal
      [130, 30], // beyond again: a new pending from 130
      [200, 30],
    ]);
    expect(r.phases).toEqual(['pending_raise', 'normal', 'pending_raise', 'pending_raise']);
    expect(r.transitions).toEqual([]);
    expect(r.state.conditionSince).toBe(at(130));
  });

  it('raises ONE alarm for a value flapping at the limit, and keeps it open in the hysteresis band', () => {
    const samples: [number, number][] = [];
    for (let i = 0; i < 40; i++) samples.push([i * 15, i % 2 === 0 ? 29.2 : 28.6]); // 28.6 is inside the band (28..29)
    const r = run(max29, samples);
    expect(r.transitions).toEqual([{ at: 120, t: 'raise' }]);
    expect(r.state.phase).toBe('active');
  });

  it('clears only after the value has been back inside bound − hysteresis for the clear delay', () => {
    const active = run(max29, [
      [0, 31],
      [120, 31],
    ]).state;
    expect(active.phase).toBe('active');
    const r = run(
      max29,
      [
        [200, 28.5], // in the band: still active
        [260, 27.9], // inside: pending_clear from 260
        [400, 28.4], // band: keeps pending_clear
        [500, 29.5], // beyond: back to active, no new raise
        [600, 27], // inside: pending_clear from 600
        [899, 27], // 299 s
        [900, 27], // 300 s: clear
      ],
      active,
    );
    expect(r.phases).toEqual(['active', 'pending_clear', 'pending_clear', 'active', 'pending_clear', 'pending_clear', 'normal']);
    expect(r.transitions).toEqual([{ at: 900, t: 'clear' }]);
    expect(r.state.conditionSince).toBeUndefined();
  });

  it('raises and clears at once with no delays', () => {
    const rule: ConditionRule = { bound: 'max', threshold: 20, raiseDelaySeconds: 0, clearDelaySeconds: 0, hysteresis: 0 };
    const r = run(rule, [
      [0, 21],
      [10, 22],
      [20, 20],
      [30, 25],
    ]);
    expect(r.transitions).toEqual([
      { at: 0, t: 'raise' },
      { at: 20, t: 'clear' },
      { at: 30, t: 'raise' },
    ]);
  });

  it('ignores a reading older than the last one, and a non-finite value', () => {
    const first = stepCondition(max29, normalCondition, { value: 30, at: at(100) });
    expect(first.state.phase).toBe('pending_raise');
    const late = stepCondition(max29, first.state, { value: 27, at: at(50) });
    expect(late.state).toBe(first.state);
    expect(late.transition).toBeUndefined();
    const nan = stepCondition(max29, first.state, { value: Number.NaN, at: at(300) });
    expect(nan.state).toBe(first.state);
  });
});

describe('a min limit', () => {
  it('raises below the bound and clears above bound + hysteresis', () => {
    const rule: ConditionRule = { bound: 'min', threshold: 40, raiseDelaySeconds: 60, clearDelaySeconds: 60, hysteresis: 5 };
    const r = run(rule, [
      [0, 39],
      [60, 38], // raise
      [120, 43], // band 40..45: active
      [180, 46], // inside: pending_clear
      [240, 47], // clear
    ]);
    expect(r.phases).toEqual(['pending_raise', 'active', 'active', 'pending_clear', 'normal']);
    expect(r.transitions.map((t) => t.t)).toEqual(['raise', 'clear']);
  });
});

describe('rate of change', () => {
  const rise3in10: ConditionRule = { bound: 'max', threshold: 3, raiseDelaySeconds: 0, clearDelaySeconds: 0, hysteresis: 1, rateWindowSeconds: 600 };

  it('keeps the window first sample and raises when the change within the window passes the bound', () => {
    const r = run(rise3in10, [
      [0, 22], // opens the window
      [120, 23], // +1
      [300, 24.5], // +2.5
      [480, 25.2], // +3.2: raise
    ]);
    expect(r.transitions).toEqual([{ at: 480, t: 'raise' }]);
    expect(r.state.windowStart).toEqual({ value: 22, at: at(0) });
  });

  it('scales the change past the window and opens the next window there', () => {
    const r = run(rise3in10, [
      [0, 22],
      [1200, 26], // +4 in 20 min = +2 per 10 min: no raise; next window opens at 1200
      [1500, 26.5], // +0.5
    ]);
    expect(r.transitions).toEqual([]);
    expect(r.state.windowStart).toEqual({ value: 26, at: at(1200) });
  });

  it('judges a fall with a min bound', () => {
    const fall: ConditionRule = { ...rise3in10, bound: 'min', threshold: -3 };
    const r = run(fall, [
      [0, 25],
      [300, 21.5], // −3.5
    ]);
    expect(r.transitions).toEqual([{ at: 300, t: 'raise' }]);
  });
});
