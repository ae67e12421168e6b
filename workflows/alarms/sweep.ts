/**
 * One minute's sweep of the time-based alarm rules (silent sensors and stations, feed outages, a
 * stalled sync): the `alarm-sweep/<edge>` schedule starts it (temporal/schedules.ts). A failed
 * run changes nothing that the next minute's run does not redo: conditions are stored only for
 * signals Temporal took.
 */
import { proxyActivities } from '@temporalio/workflow';
import type { createAlarmSweepActivities } from '../../activities/alarms/sweep';
import type { AlarmSweepInput, AlarmSweepResult } from '../../alarms/sweep';
import { edgeDatabase } from '../activity-options';

const { sweepAlarmConditions } = proxyActivities<ReturnType<typeof createAlarmSweepActivities>>({
  ...edgeDatabase,
  // Signals to the alarm workflows are part of it; still well inside the minute.
  startToCloseTimeout: '45 seconds',
  retry: { ...edgeDatabase.retry, maximumAttempts: 2 },
});

export async function sweepAlarmRules(input: AlarmSweepInput): Promise<AlarmSweepResult> {
  return sweepAlarmConditions(input);
}
