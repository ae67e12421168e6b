/**
 * Alarm rules (docs/alarm-rules.md): the stored shape is the dashboard's AlarmRuleSpec
 * (domain/downlink/commands.ts). This module says how each kind is judged: which readings it
 * watches, its bound at a place (a flock's comfort band at its age for `age_band`), and the
 * escalation ladder the alarm workflow gets.
 *
 *   limit           a metric's value past `threshold` (`bound` max or min), or past the flock's band
 *   rate_of_change  a metric's change per `window_seconds` past `threshold` (max: a rise, min: a fall)
 *   sensor_silent   a telemetry device without a reading of any metric for `silent_seconds` (the sweep)
 *   station_silent  a WeighVision station without a session for `silent_seconds` (the sweep)
 *   feed_outage     a barn with a flock, fed by a dispenser here (or fed here lately), and no feed
 *                   dispensed for `silent_seconds` (the sweep)
 *   sync_stalled    waiting outbox rows older than `silent_seconds`: the cloud cannot be reached (the sweep)
 *
 * A time-based alarm carries its value and threshold in minutes (unit `min`); its machine judges seconds.
 */
import { alarmRuleSpec, type AlarmRuleSpec } from '../domain/downlink/commands';
import { bandRowAt, comfortBandTable } from '../domain/climate/bands';
import type { EscalationLadder } from './alarm-contract';
import type { ConditionRule } from './condition';

export type { AlarmRuleSpec };

/** Kinds judged from each accepted reading (the bridge), and those judged by the minute sweep. */
export const readingKinds = ['limit', 'rate_of_change'] as const;
export const timeKinds = ['sensor_silent', 'station_silent', 'feed_outage', 'sync_stalled'] as const;

/** The edge_devices kinds that send telemetry readings, watched by sensor_silent (the others send events or sessions). */
export const telemetryDeviceKinds = ['sensor'] as const;

/** The flock in a barn, as far as a band needs it. */
export interface BarnFlock {
  barnId: string;
  species: string;
  /** Age in days now (fractional). */
  ageDays: number;
}

/** The place key of a farm-wide rule in alarm_conditions. */
export const farmPlace = '_farm';

export function isFarmWide(rule: AlarmRuleSpec): boolean {
  return rule.kind === 'sync_stalled';
}

/** Whether a rule applies at a barn (a farm-wide rule applies at the farm only). */
export function appliesAt(rule: AlarmRuleSpec, barnId: string): boolean {
  return rule.enabled && !isFarmWide(rule) && (rule.barn_id === undefined || rule.barn_id === barnId);
}

/** Whether a rule judges this reading's metric. */
export function watchesReading(rule: AlarmRuleSpec, metric: string): boolean {
  return (readingKinds as readonly string[]).includes(rule.kind) && rule.metric === metric;
}

/**
 * The machine's view of a rule at a place: its bound there, or null when it has none (an
 * `age_band` rule in a barn without a flock of a species with a band table).
 */
export function conditionRuleAt(rule: AlarmRuleSpec, flock: BarnFlock | undefined): ConditionRule | null {
  const delays = {
    raiseDelaySeconds: rule.raise_delay_seconds,
    clearDelaySeconds: rule.clear_delay_seconds,
    hysteresis: rule.hysteresis ?? 0,
  };
  if (rule.kind === 'limit') {
    const bound = rule.bound ?? 'max';
    if (rule.age_band) {
      const table = flock ? comfortBandTable(flock.species) : null;
      const row = table && flock ? bandRowAt(table, flock.ageDays) : null;
      if (!row) return null;
      return { bound, threshold: bound === 'max' ? row.maxC : row.minC, ...delays };
    }
    return rule.threshold === undefined ? null : { bound, threshold: rule.threshold, ...delays };
  }
  if (rule.kind === 'rate_of_change') {
    if (rule.threshold === undefined || rule.window_seconds === undefined) return null;
    // A fall is judged as a negative change against a negative bound.
    const bound = rule.bound ?? 'max';
    const threshold = bound === 'max' ? Math.abs(rule.threshold) : -Math.abs(rule.threshold);
    return { bound, threshold, rateWindowSeconds: rule.window_seconds, ...delays };
  }
  // Time-based kinds: the seconds without news, against silent_seconds.
  if (rule.silent_seconds === undefined) return null;
  return { bound: 'max', threshold: rule.silent_seconds, ...delays, hysteresis: 0 };
}

/** The ladder the alarm workflow runs, in the contract's words. */
export function escalationLadder(rule: AlarmRuleSpec): EscalationLadder {
  return {
    steps: rule.ladder.steps.map((s) => ({ afterSeconds: s.after_seconds, channels: [...s.channels], recipients: [...s.recipients] })),
    ...(rule.ladder.reminder_every_seconds !== undefined ? { reminderEverySeconds: rule.ladder.reminder_every_seconds } : {}),
    ...(rule.ladder.always_local !== undefined ? { alwaysLocal: [...rule.ladder.always_local] } : {}),
  };
}

/** A stored rule row: its spec, or a tombstone for a deleted one. */
export interface StoredRule {
  ruleId: string;
  spec: AlarmRuleSpec | null;
}

/**
 * The rules in force at a farm: the defaults, each replaced by a stored rule of the same id (or
 * removed by its tombstone), and the stored rules of other ids. A stored spec that no longer
 * parses (written by an older version) is skipped rather than judged half.
 */
export function effectiveRules(defaults: readonly AlarmRuleSpec[], stored: readonly StoredRule[]): AlarmRuleSpec[] {
  const byId = new Map<string, AlarmRuleSpec | null>();
  for (const d of defaults) byId.set(d.rule_id, d);
  for (const s of stored) {
    if (s.spec === null) {
      byId.set(s.ruleId, null);
      continue;
    }
    const parsed = alarmRuleSpec.safeParse(s.spec);
    byId.set(s.ruleId, parsed.success ? parsed.data : null);
  }
  return [...byId.values()].filter((r): r is AlarmRuleSpec => r !== null);
}

/** A rule's consistency beyond its schema: what each kind needs to be judged. Null when sound. */
export function ruleProblem(rule: AlarmRuleSpec): string | null {
  if (rule.kind === 'limit') {
    if (!rule.metric) return 'a limit rule needs a metric';
    if (!rule.age_band && rule.threshold === undefined) return 'a limit rule needs a threshold or age_band';
    if (rule.age_band && rule.metric !== 'temperature') return 'age_band applies to temperature only';
  } else if (rule.kind === 'rate_of_change') {
    if (!rule.metric || rule.threshold === undefined || rule.window_seconds === undefined)
      return 'a rate_of_change rule needs metric, threshold and window_seconds';
  } else if (rule.silent_seconds === undefined) {
    return `a ${rule.kind} rule needs silent_seconds`;
  }
  if (rule.kind === 'sync_stalled' && rule.barn_id !== undefined) return 'sync_stalled is farm-wide: no barn_id';
  const after = rule.ladder.steps.map((s) => s.after_seconds);
  if (after.some((a, i) => i > 0 && a < after[i - 1])) return 'ladder steps must be in order of after_seconds';
  return null;
}

/**
 * The value, threshold and unit an alarm carries: a reading rule's as judged, a time-based rule's
 * seconds as minutes (people read "723 min (limit 720 min)", not "43,381.69 s").
 */
export function alarmMeasure(
  rule: AlarmRuleSpec,
  judged: number | undefined,
  threshold: number,
  unit: string | undefined,
): { value?: number; threshold: number; unit?: string } {
  const finite = judged !== undefined && Number.isFinite(judged);
  if (!(timeKinds as readonly string[]).includes(rule.kind)) {
    return { ...(finite ? { value: judged } : {}), threshold, ...(unit ? { unit } : {}) };
  }
  const minutes = (s: number) => Math.round((s / 60) * 10) / 10;
  return { ...(finite ? { value: minutes(judged) } : {}), threshold: minutes(threshold), unit: 'min' };
}

/** One sentence for a person: "barn-1 temperature 35.2 above 29 (temp-high)". */
export function alarmSummary(rule: AlarmRuleSpec, place: string, judged: number | undefined, threshold: number, unit?: string): string {
  const where = place === farmPlace ? rule.farm_id : place;
  const u = unit ? ` ${unit}` : '';
  const round = (v: number) => Math.round(v * 100) / 100;
  let text: string;
  if (rule.kind === 'limit') {
    text = `${where} ${rule.metric} ${round(judged ?? NaN)}${u} ${rule.bound === 'min' ? 'below' : 'above'} ${round(threshold)}${u}`;
  } else if (rule.kind === 'rate_of_change') {
    text = `${where} ${rule.metric} changed ${round(judged ?? NaN)}${u} in ${rule.window_seconds}s (limit ${round(Math.abs(threshold))}${u})`;
  } else {
    const what = {
      sensor_silent: 'a sensor silent',
      station_silent: 'a WeighVision station silent',
      feed_outage: 'no feed dispensed',
      sync_stalled: 'the cloud unreachable',
    }[rule.kind];
    text = `${where}: ${what} for ${Math.round((judged ?? 0) / 60)} min (limit ${Math.round(threshold / 60)} min)`;
  }
  return `${text} (${rule.rule_id})`.slice(0, 500);
}
