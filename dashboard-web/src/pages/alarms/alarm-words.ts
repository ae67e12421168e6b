/** An alarm's machine words (severity, state, rule kind, history) as the farm says them. */
import type { Alarm, AlarmSeverity, AlarmState } from '../../api/alarms';
import { words } from '../../format';

export const severityWord: Record<AlarmSeverity, string> = { critical: 'Critical', warning: 'Warning', info: 'Info' };

export const stateWord: Record<AlarmState, string> = { raised: 'not acknowledged', acknowledged: 'acknowledged', cleared: 'cleared' };

const ruleWords: Record<string, string> = {
  limit: 'outside its limit',
  rate_of_change: 'changing fast',
  sensor_silent: 'sensor silent',
  feed_outage: 'feed outage',
  station_silent: 'weighing station silent',
  sync_stalled: 'farm server not syncing',
};

export const ruleWord = (kind: string | null): string => (kind ? (ruleWords[kind] ?? words(kind)) : '—');

const historyWords: Record<string, string> = {
  raised: 'Raised',
  escalated: 'Escalation step',
  reminder: 'Reminder',
  acknowledged: 'Acknowledged',
  cleared: 'Cleared',
  delivered_locally: 'Delivered on the farm (siren, LAN)',
  acknowledge_requested: 'Acknowledgement sent to the farm server',
};

export const historyWord = (what: string): string => historyWords[what] ?? words(what).replace(/^./, (c) => c.toUpperCase());

/** What the dashboard's own acknowledgement is doing, in words (null: nothing sent, or it is done). */
export function acknowledgementWord(a: Alarm): string | null {
  const p = a.pending_acknowledgement;
  if (!p || a.state !== 'raised') return null;
  if (p.status === 'pending') return 'Acknowledgement sent: waiting for the farm server to pick it up';
  if (p.status === 'delivered') return 'Acknowledgement delivered: waiting for the farm server to apply it';
  if (p.status === 'applied') return 'The farm server applied the acknowledgement: waiting for its confirmation';
  // Asking again would return the same command (the API answers one per alarm): the way left is the farm server's own.
  return 'The farm server refused the acknowledgement: acknowledge it on the farm server (its operator app or the farmiq CLI)';
}

/** Whether the dashboard already sent its acknowledgement (on its way, or refused): the button is not offered again. */
export const acknowledgementUnderway = (a: Alarm): boolean => a.state === 'raised' && !!a.pending_acknowledgement;
