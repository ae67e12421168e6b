/**
 * One alarm on the farm server (alarms/alarm-contract.ts, docs/alarms.md), under the id
 * alarm/<tenant>/<farm>/<barn|_farm>/<rule>: the rule evaluator signals-with-start `raise`, and
 * signals `clear`; the downlink, the operator API and the CLI signal `acknowledge`.
 *
 *   raised ──ladder: a timer to each step, deliverAlarmStep──▶ reminders every reminderEverySeconds
 *     │                          │ acknowledge (this alarm's id)
 *     │                          ▼
 *     │                    acknowledged ── waits for the clear
 *     └──────── clear, at any time ──────────▶ cleared (the run returns its status)
 *
 * - Every transition runs an activity that writes the alarm tables and appends the catalog event
 *   to the outbox in one transaction, idempotently (activities/alarms/alarm-steps.ts).
 * - Each step falls due at raisedAt + afterSeconds, reminders every reminderEverySeconds after the
 *   last step; the waits are workflow timers, so a restarted worker neither repeats a step nor
 *   skips one.
 * - A `raise` while open is ignored (noted in the history if it names another alarm); an
 *   acknowledgement or clear naming another alarm is ignored and noted; a second acknowledgement
 *   changes nothing.
 * - A long reminder loop continues as new before its history grows big, carrying the status.
 * - FarmiqStatus follows raised → acknowledged → cleared; the `state` query returns the status.
 */
import { allHandlersFinished, condition, continueAsNew, proxyActivities, setHandler, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import type { AlarmActivities, AlarmSummary } from '../../activities/alarms/alarm-steps';
import { farmiqBarn, farmiqFarm, farmiqRule, farmiqStatus, farmiqTenant } from '../../domain/temporal/search-attributes';
import {
  acknowledgeSignal,
  alarmStateQuery,
  clearSignal,
  raiseSignal,
  type AlarmAcknowledgement,
  type AlarmAddress,
  type AlarmClear,
  type AlarmHistoryEntry,
  type AlarmInput,
  type AlarmState,
  type AlarmStatus,
  type LadderStep,
} from '../../alarms/alarm-contract';
import { alarmRecord, alarmStep } from './activity-options';

const { recordAlarmRaised, recordAlarmAcknowledged, recordAlarmCleared, noteAlarm } = proxyActivities<AlarmActivities>(alarmRecord);
const { deliverAlarmStep } = proxyActivities<AlarmActivities>({ ...alarmStep, summary: 'deliver a ladder step (local channels when needed)' });

/** Continue as new past this many history events (well below Temporal's 50k limit and its warnings). */
export const alarmHistoryEventLimit = 500;
/** Lines of history the status carries (the alarm_history table keeps them all). */
const keptHistory = 200;

/** What a continued run carries over from the previous one. */
export interface AlarmContinuation {
  status: AlarmStatus;
}

export type FarmAlarmInput = AlarmInput & { continued?: AlarmContinuation };

interface Note {
  key: string;
  detail: string;
}

export async function farmAlarm(input: FarmAlarmInput): Promise<AlarmStatus> {
  const { raise, continued, tenantId, farmId, barnId, ruleId } = input;
  const address: AlarmAddress = { tenantId, farmId, ...(barnId === undefined ? {} : { barnId }), ruleId };
  const alarm: AlarmSummary = { alarmId: raise.alarmId, severity: raise.severity, summary: raise.summary };
  const status: AlarmStatus = continued?.status ?? {
    ...address,
    alarmId: raise.alarmId,
    state: 'raised',
    severity: raise.severity,
    raisedAt: raise.raisedAt,
    nextStep: 0,
    history: [],
  };
  const ladder = raise.ladder;
  let ack: AlarmAcknowledgement | undefined;
  let clear: AlarmClear | undefined;
  const notes: Note[] = [];
  const seenNotes = new Set<string>();

  const log = (what: AlarmHistoryEntry['what'], detail: string) => {
    status.history.push({ at: new Date().toISOString(), what, detail });
    if (status.history.length > keptHistory) status.history.splice(0, status.history.length - keptHistory);
  };
  const note = (key: string, detail: string) => {
    if (seenNotes.has(key)) return;
    seenNotes.add(key);
    notes.push({ key, detail });
    log('ignored', detail);
  };

  setHandler(alarmStateQuery, () => status);
  setHandler(raiseSignal, (r) => {
    if (r.alarmId !== raise.alarmId) note(`raise:${r.alarmId}`, `raise of alarm ${r.alarmId} ignored: alarm ${raise.alarmId} is open`);
  });
  setHandler(acknowledgeSignal, (a) => {
    if (a.alarmId !== raise.alarmId) {
      note(`ack:${a.commandId ?? `${a.alarmId}:${a.by}:${a.at}`}`, `acknowledgement by ${a.by} ignored: it names alarm ${a.alarmId}, not ${raise.alarmId}`);
      return;
    }
    // The first acknowledgement counts; a redelivered command or a second operator changes nothing.
    if (!ack && status.state === 'raised') ack = a;
  });
  setHandler(clearSignal, (c) => {
    if (c.alarmId !== raise.alarmId) {
      note(`clear:${c.alarmId}:${c.at}`, `clear of alarm ${c.alarmId} ignored: this is alarm ${raise.alarmId}`);
      return;
    }
    clear ??= c;
  });

  setStatus(address, status.state);
  if (!continued) {
    await recordAlarmRaised({ address, raise, workflowId: workflowInfo().workflowId });
    log('raised', `${raise.severity}: ${raise.summary}`);
  }

  const flushNotes = async () => {
    while (notes.length > 0) {
      const n = notes.shift()!;
      await noteAlarm({ address, alarmId: raise.alarmId, key: n.key, at: new Date().toISOString(), detail: n.detail });
    }
  };
  const woken = () => ack !== undefined || clear !== undefined || notes.length > 0;

  // The ladder, until acknowledged or cleared.
  while (status.state === 'raised' && !ack && !clear) {
    await flushNotes();
    const next = rungAt(ladder, status.nextStep, Date.parse(raise.raisedAt));
    if (!next) {
      await condition(woken);
      continue;
    }
    const wait = next.dueMs - Date.now();
    if (wait > 0 && (await condition(woken, wait))) continue;
    const at = new Date().toISOString();
    const r = await deliverAlarmStep({ address, alarm, step: status.nextStep, kind: next.kind, rung: next.rung, alwaysLocal: ladder.alwaysLocal ?? [], at });
    log(
      next.kind === 'reminder' ? 'reminded' : 'escalated',
      `step ${status.nextStep} (${next.kind}): ${next.rung.channels.join(', ')}${r.repeated ? ' (recorded before)' : ''}`,
    );
    for (const o of r.local) log(o.ok ? 'delivered_locally' : 'local_delivery_failed', `${o.channel}: ${o.detail}`);
    status.nextStep += 1;
    if (!woken() && (workflowInfo().historyLength > alarmHistoryEventLimit || workflowInfo().continueAsNewSuggested)) {
      await condition(allHandlersFinished);
      if (!woken()) await continueAsNew<typeof farmAlarm>({ ...input, continued: { status } });
    }
  }

  // An acknowledgement that came with (or before) the clear still counts.
  if (ack) {
    await recordAlarmAcknowledged({ address, ack });
    status.state = 'acknowledged';
    status.acknowledgedBy = ack.by;
    status.acknowledgedAt = ack.at;
    log('acknowledged', `by ${ack.by} (${ack.source}${ack.commandId ? `, command ${ack.commandId}` : ''})`);
    setStatus(address, 'acknowledged');
  }

  // Acknowledged (or cleared straight away): the alarm stays open until its condition clears.
  while (!clear) {
    await flushNotes();
    await condition(() => clear !== undefined || notes.length > 0);
  }
  await flushNotes();
  const acknowledged = status.state === 'acknowledged';
  await recordAlarmCleared({ address, alarm, clear, acknowledged });
  status.state = 'cleared';
  status.clearedAt = clear.at;
  log('cleared', `${clear.reason}${acknowledged ? '' : ' (never acknowledged)'}`);
  setStatus(address, 'cleared');
  await condition(allHandlersFinished);
  await flushNotes();
  return status;
}

/** The rung that falls due as step `n`, and when: the ladder's steps, then reminders of the last one. */
export function rungAt(
  ladder: AlarmInput['raise']['ladder'],
  n: number,
  raisedAtMs: number,
): { rung: LadderStep; kind: 'step' | 'reminder'; dueMs: number } | undefined {
  const { steps, reminderEverySeconds } = ladder;
  if (n < steps.length) return { rung: steps[n], kind: 'step', dueMs: raisedAtMs + steps[n].afterSeconds * 1000 };
  const last = steps[steps.length - 1];
  if (!last || !reminderEverySeconds || reminderEverySeconds <= 0) return undefined;
  const k = n - steps.length + 1;
  return { rung: last, kind: 'reminder', dueMs: raisedAtMs + (last.afterSeconds + k * reminderEverySeconds) * 1000 };
}

function setStatus(address: AlarmAddress, state: AlarmState): void {
  upsertSearchAttributes([
    { key: farmiqTenant, value: address.tenantId },
    { key: farmiqFarm, value: address.farmId },
    ...(address.barnId === undefined ? [] : [{ key: farmiqBarn, value: address.barnId }]),
    { key: farmiqRule, value: address.ruleId },
    { key: farmiqStatus, value: state },
  ]);
}
