/**
 * The rules a farm has before anyone stored one (docs/alarm-rules.md): a stored rule of the same
 * id replaces its default. Limits from domain/climate (the flock's comfort band at its age for
 * temperature; NH3 and CO2 of Directive 2007/43/EC Annex II 3(a); the humidity guidance figures),
 * a temperature swing, and the time-based checks of the minute sweep.
 */
import { defaultLimits, feedMaxGapHours } from '../domain/climate';
import type { AlarmRuleSpec } from '../domain/downlink/commands';

type Ladder = AlarmRuleSpec['ladder'];

/**
 * The farm's operators are told at once in the app, by push and by email, by SMS after 5 min; then
 * a second person, the admins, by email and SMS after 15 min, and everyone is reminded every 30 min.
 */
export const defaultLadder: Ladder = {
  steps: [
    { after_seconds: 0, channels: ['in_app', 'push', 'email'], recipients: ['role:operator'] },
    { after_seconds: 300, channels: ['sms'], recipients: ['role:operator'] },
    { after_seconds: 900, channels: ['email', 'sms'], recipients: ['role:admin'] },
  ],
  reminder_every_seconds: 1800,
};

/** A critical alarm also sounds the barn's siren, cloud or not. */
export const criticalLadder: Ladder = { ...defaultLadder, always_local: ['mqtt_siren'] };

/** Only told in the app: things to look at, not to be woken for. */
export const quietLadder: Ladder = { steps: [{ after_seconds: 0, channels: ['in_app'], recipients: ['role:operator'] }] };

const broiler = defaultLimits.broiler.absolute;
const limitOf = (metric: 'nh3' | 'co2') => broiler.find((l) => l.metric === metric && l.bound === 'max')!.value;

/** The default rules of a farm (every barn of it). */
export function defaultRules(farmId: string): AlarmRuleSpec[] {
  const base = { farm_id: farmId, enabled: true } as const;
  return [
    {
      ...base,
      rule_id: 'temp-high',
      kind: 'limit',
      severity: 'critical',
      metric: 'temperature',
      bound: 'max',
      age_band: true,
      raise_delay_seconds: 120,
      clear_delay_seconds: 300,
      hysteresis: 1,
      ladder: criticalLadder,
    },
    {
      ...base,
      rule_id: 'temp-low',
      kind: 'limit',
      severity: 'critical',
      metric: 'temperature',
      bound: 'min',
      age_band: true,
      raise_delay_seconds: 120,
      clear_delay_seconds: 300,
      hysteresis: 1,
      ladder: criticalLadder,
    },
    {
      ...base,
      rule_id: 'nh3-high',
      kind: 'limit',
      severity: 'warning',
      metric: 'nh3',
      bound: 'max',
      threshold: limitOf('nh3'),
      raise_delay_seconds: 300,
      clear_delay_seconds: 600,
      hysteresis: 2,
      ladder: defaultLadder,
    },
    {
      ...base,
      rule_id: 'co2-high',
      kind: 'limit',
      severity: 'warning',
      metric: 'co2',
      bound: 'max',
      threshold: limitOf('co2'),
      raise_delay_seconds: 300,
      clear_delay_seconds: 600,
      hysteresis: 200,
      ladder: defaultLadder,
    },
    {
      ...base,
      rule_id: 'humidity-high',
      kind: 'limit',
      severity: 'warning',
      metric: 'humidity',
      bound: 'max',
      threshold: 80,
      raise_delay_seconds: 900,
      clear_delay_seconds: 900,
      hysteresis: 5,
      ladder: defaultLadder,
    },
    {
      ...base,
      rule_id: 'humidity-low',
      kind: 'limit',
      severity: 'warning',
      metric: 'humidity',
      bound: 'min',
      threshold: 40,
      raise_delay_seconds: 900,
      clear_delay_seconds: 900,
      hysteresis: 5,
      ladder: defaultLadder,
    },
    {
      ...base,
      rule_id: 'temp-rise',
      kind: 'rate_of_change',
      severity: 'warning',
      metric: 'temperature',
      bound: 'max',
      threshold: 3,
      window_seconds: 600,
      raise_delay_seconds: 0,
      clear_delay_seconds: 600,
      hysteresis: 1,
      ladder: defaultLadder,
    },
    {
      ...base,
      rule_id: 'sensor-silent',
      kind: 'sensor_silent',
      severity: 'warning',
      silent_seconds: 15 * 60,
      raise_delay_seconds: 0,
      clear_delay_seconds: 0,
      ladder: defaultLadder,
    },
    {
      ...base,
      rule_id: 'feed-outage',
      kind: 'feed_outage',
      severity: 'critical',
      silent_seconds: feedMaxGapHours * 3600,
      raise_delay_seconds: 0,
      clear_delay_seconds: 0,
      ladder: criticalLadder,
    },
    {
      ...base,
      rule_id: 'station-silent',
      kind: 'station_silent',
      severity: 'info',
      silent_seconds: 24 * 3600,
      raise_delay_seconds: 0,
      clear_delay_seconds: 0,
      ladder: quietLadder,
    },
    {
      ...base,
      rule_id: 'sync-stalled',
      kind: 'sync_stalled',
      severity: 'warning',
      silent_seconds: 6 * 3600,
      raise_delay_seconds: 0,
      clear_delay_seconds: 0,
      // The cloud is what is missing: the farm's own channels say it.
      ladder: { ...defaultLadder, always_local: ['lan_webhook'] },
    },
  ];
}
