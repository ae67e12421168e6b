/**
 * The minute sweep of the time-based alarm rules (alarms/sweep.ts), as an activity of the edge
 * worker: the schedule `alarm-sweep/<edge>` runs workflows/alarms/sweep.ts, which calls it.
 */
import type { Pool } from 'pg';
import { sweepAlarms, type AlarmSweepInput, type AlarmSweepResult } from '../../alarms/sweep';
import type { ConditionSignaller } from '../../alarms/evaluator';
import type { Logger } from '../../platform/logger';

export interface AlarmSweepActivityDeps {
  pool: Pool;
  /** temporalConditionSignaller(client, EDGE_TASK_QUEUE): raises and clears reach the alarm workflows. */
  signaller: ConditionSignaller;
  log?: Logger;
}

export function createAlarmSweepActivities(deps: AlarmSweepActivityDeps) {
  return {
    async sweepAlarmConditions(input: AlarmSweepInput): Promise<AlarmSweepResult> {
      return sweepAlarms(deps, input);
    },
  };
}
