/**
 * The condition of one rule at one place, as a pure state machine (docs/alarm-rules.md):
 *
 *   normal ──beyond──▶ pending_raise ──beyond for raise_delay──▶ active (raise)
 *   active ──back inside bound∓hysteresis──▶ pending_clear ──inside for clear_delay──▶ normal (clear)
 *
 * "Beyond" is past the bound (above a max, below a min); "back inside" is past the bound by the
 * hysteresis the other way. A value between the two (the hysteresis band) keeps the phase, so a
 * value wobbling at the limit raises one alarm and clears once. An observation older than the last
 * one is ignored (a late reading does not rewind the machine).
 *
 * A rate-of-change rule feeds the same machine with the change per window: the window's first
 * sample is kept in the state; a sample within the window is judged on its change since then, a
 * sample past it on the change scaled to the window, and starts the next window.
 *
 * The time-based kinds (silent sensor, station, feed, sync) feed it the seconds without news, with
 * their silent_seconds as a max bound.
 */

export type ConditionPhase = 'normal' | 'pending_raise' | 'active' | 'pending_clear';

export interface ConditionState {
  phase: ConditionPhase;
  /** When the value first went beyond the bound (kept through active and pending_clear). */
  conditionSince?: string;
  /** When the value came back inside (pending_clear). */
  clearingSince?: string;
  /** The raised alarm (active, pending_clear). */
  alarmId?: string;
  lastValue?: number;
  lastAt?: string;
  /** rate_of_change: the first sample of the current window. */
  windowStart?: { value: number; at: string };
}

export const normalCondition: ConditionState = { phase: 'normal' };

/** What the machine needs of a rule: a bound, its delays and hysteresis. */
export interface ConditionRule {
  bound: 'max' | 'min';
  threshold: number;
  raiseDelaySeconds: number;
  clearDelaySeconds: number;
  hysteresis: number;
  /** Present for a rate-of-change rule: observations are raw values, judged per window. */
  rateWindowSeconds?: number;
}

export interface Observation {
  value: number;
  /** ISO time of the observation. */
  at: string;
}

export type Transition = 'raise' | 'clear';

export interface ConditionStep {
  state: ConditionState;
  transition?: Transition;
  /** The value judged against the bound (the change per window for a rate rule). */
  judged?: number;
}

const ms = (iso: string) => Date.parse(iso);

/** The change per window a rate rule judges, and the window the state keeps next. */
function rateOf(rule: ConditionRule, prev: ConditionState, obs: Observation): { judged?: number; windowStart: { value: number; at: string } } {
  const window = rule.rateWindowSeconds!;
  const start = prev.windowStart;
  if (!start) return { windowStart: { value: obs.value, at: obs.at } };
  const elapsed = (ms(obs.at) - ms(start.at)) / 1000;
  const change = obs.value - start.value;
  if (elapsed <= window) return { judged: change, windowStart: start };
  // Past the window: the change scaled to one window, and this sample opens the next window.
  return { judged: (change * window) / elapsed, windowStart: { value: obs.value, at: obs.at } };
}

export function stepCondition(rule: ConditionRule, prev: ConditionState, obs: Observation): ConditionStep {
  if (!Number.isFinite(obs.value) || !Number.isFinite(ms(obs.at))) return { state: prev };
  if (prev.lastAt !== undefined && ms(obs.at) < ms(prev.lastAt)) return { state: prev };

  let judged: number | undefined = obs.value;
  let windowStart: ConditionState['windowStart'];
  if (rule.rateWindowSeconds !== undefined) ({ judged, windowStart } = rateOf(rule, prev, obs));
  const base: ConditionState = { ...prev, lastValue: obs.value, lastAt: obs.at, ...(windowStart ? { windowStart } : {}) };
  if (judged === undefined) return { state: base };

  const beyond = rule.bound === 'max' ? judged > rule.threshold : judged < rule.threshold;
  const inside = rule.bound === 'max' ? judged <= rule.threshold - rule.hysteresis : judged >= rule.threshold + rule.hysteresis;
  const heldFor = (since: string | undefined) => (since === undefined ? 0 : (ms(obs.at) - ms(since)) / 1000);

  switch (prev.phase) {
    case 'normal':
    case 'pending_raise': {
      if (inside || (!beyond && prev.phase === 'normal')) {
        return { state: { ...base, phase: 'normal', conditionSince: undefined, clearingSince: undefined, alarmId: undefined }, judged };
      }
      if (!beyond) return { state: base, judged }; // in the hysteresis band: still pending
      const conditionSince = prev.phase === 'pending_raise' && prev.conditionSince ? prev.conditionSince : obs.at;
      if (heldFor(conditionSince) >= rule.raiseDelaySeconds) {
        return { state: { ...base, phase: 'active', conditionSince, clearingSince: undefined }, transition: 'raise', judged };
      }
      return { state: { ...base, phase: 'pending_raise', conditionSince }, judged };
    }
    case 'active':
    case 'pending_clear': {
      if (beyond) return { state: { ...base, phase: 'active', clearingSince: undefined }, judged };
      if (!inside) return { state: base, judged }; // in the hysteresis band: keep the phase
      const clearingSince = prev.phase === 'pending_clear' && prev.clearingSince ? prev.clearingSince : obs.at;
      if (heldFor(clearingSince) >= rule.clearDelaySeconds) {
        return { state: { ...base, phase: 'normal', conditionSince: undefined, clearingSince: undefined, alarmId: undefined }, transition: 'clear', judged };
      }
      return { state: { ...base, phase: 'pending_clear', clearingSince }, judged };
    }
  }
}

/** Strips undefined fields, so a state compares and stores the same however it was built. */
export function compactCondition(s: ConditionState): ConditionState {
  return Object.fromEntries(Object.entries(s).filter(([, v]) => v !== undefined)) as unknown as ConditionState;
}
