/**
 * A stand-in `farmAlarm` for the evaluator and bridge tests: it records every raise and clear it
 * is signalled, answers `state`, and ends at the clear. The real workflow (workflows/alarms/alarm.ts)
 * is tested on its own; these tests are about what reaches it.
 */
import { condition, setHandler } from '@temporalio/workflow';
import { alarmStateQuery, clearSignal, raiseSignal, type AlarmClear, type AlarmInput, type AlarmStatus } from '../../alarms/alarm-contract';

export async function farmAlarm(input: AlarmInput): Promise<AlarmStatus> {
  const status: AlarmStatus = {
    tenantId: input.tenantId,
    farmId: input.farmId,
    ...(input.barnId !== undefined ? { barnId: input.barnId } : {}),
    ruleId: input.ruleId,
    alarmId: input.raise.alarmId,
    state: 'raised',
    severity: input.raise.severity,
    raisedAt: input.raise.raisedAt,
    nextStep: 0,
    history: [],
  };
  let cleared: AlarmClear | undefined;
  setHandler(raiseSignal, (r) => {
    status.history.push({ at: r.raisedAt, what: r.alarmId === status.alarmId ? 'raised' : 'ignored', detail: `${r.alarmId} ${r.summary}` });
  });
  setHandler(clearSignal, (c) => {
    cleared = c;
    status.history.push({ at: c.at, what: 'cleared', detail: c.alarmId });
  });
  setHandler(alarmStateQuery, () => status);
  await condition(() => cleared !== undefined);
  status.state = 'cleared';
  status.clearedAt = cleared!.at;
  return status;
}
