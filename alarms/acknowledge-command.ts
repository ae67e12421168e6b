/**
 * The downlink's `alarm.acknowledge` (domain/downlink/commands.ts): a dashboard user acknowledged
 * an alarm in the cloud. In the command's transaction it only checks that the alarm is this
 * tenant's and at the place the command names (else CommandRefused); after the commit it signals
 * the alarm's workflow through acknowledge.ts with the command id, which the workflow records and
 * dedupes on (a redelivered command, or the applier's retry of afterCommit, changes nothing).
 */
import type { Queryable } from '../db/transaction';
import type { DownlinkHandler } from '../sync/downlink/handlers';
import { CommandRefused } from '../sync/downlink/handlers';
import { AcknowledgeRefused, acknowledgeAlarm, alarmToAcknowledge, type AlarmSignaller } from './acknowledge';

export function acknowledgeCommandHandler(deps: { pool: Queryable; signaller: AlarmSignaller }): DownlinkHandler<'alarm.acknowledge'> {
  return {
    async apply(tx, payload, command) {
      let alarm;
      try {
        alarm = await alarmToAcknowledge(tx, { alarmId: payload.alarm_id, tenantId: command.tenant_id });
      } catch (err) {
        if (err instanceof AcknowledgeRefused) throw new CommandRefused(err.code === 'alarm_tenant_mismatch' ? 'alarm_not_found' : err.code);
        throw err;
      }
      if (alarm.farmId !== payload.farm_id || alarm.ruleId !== payload.rule_id || (alarm.barnId ?? null) !== (payload.barn_id ?? null)) {
        throw new CommandRefused('alarm_place_mismatch');
      }
      if (alarm.acknowledgedAt) return { result: `already acknowledged by ${alarm.acknowledgedBy}` };
      if (alarm.state === 'cleared') return { result: 'alarm already cleared' };
      return {
        result: 'acknowledgement signalled',
        afterCommit: async () => {
          try {
            await acknowledgeAlarm(deps.pool, deps.signaller, {
              alarmId: payload.alarm_id,
              tenantId: command.tenant_id,
              by: payload.acknowledged_by,
              source: 'dashboard',
              note: payload.note,
              at: payload.acknowledged_at,
              commandId: command.command_id,
            });
          } catch (err) {
            // Ended meanwhile (cleared): nothing left to acknowledge, and retrying cannot change that.
            if (err instanceof AcknowledgeRefused && (err.code === 'alarm_cleared' || err.code === 'alarm_not_running')) return;
            throw err;
          }
        },
      };
    },
  };
}
