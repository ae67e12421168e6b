/**
 * What an alarm carries as its value and limit (alarms/rules.ts alarmMeasure): a reading rule's
 * as judged, in the reading's unit; a time-based rule's seconds as minutes, so people read
 * "723 min (limit 720 min)" — and the summary says the same.
 */
import { defaultRules } from '../../alarms/default-rules';
import { alarmMeasure, alarmSummary } from '../../alarms/rules';

const rules = defaultRules('farm-1');
const rule = (id: string) => rules.find((r) => r.rule_id === id)!;

describe('an alarm measure', () => {
  it('carries a time-based rule in minutes', () => {
    const feed = rule('feed-outage');
    expect(alarmMeasure(feed, 43_381.69, feed.silent_seconds!, 's')).toEqual({ value: 723, threshold: 720, unit: 'min' });
    expect(alarmSummary(feed, 'barn-1', 43_381.69, feed.silent_seconds!, 's')).toBe('barn-1: no feed dispensed for 723 min (limit 720 min) (feed-outage)');
    const silent = rule('sensor-silent');
    expect(alarmMeasure(silent, 1000, silent.silent_seconds!, 's')).toEqual({ value: 16.7, threshold: 15, unit: 'min' });
    expect(alarmMeasure(silent, undefined, silent.silent_seconds!, 's')).toEqual({ threshold: 15, unit: 'min' });
  });

  it('carries a reading rule as judged', () => {
    expect(alarmMeasure(rule('nh3-high'), 28.5, 25, 'ppm')).toEqual({ value: 28.5, threshold: 25, unit: 'ppm' });
    expect(alarmMeasure(rule('temp-high'), Number.NaN, 32, undefined)).toEqual({ threshold: 32 });
  });
});
