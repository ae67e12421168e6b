/**
 * The downlink's rule commands (docs/downlink.md, docs/alarm-rules.md): `alarm_rule.upsert` and
 * `alarm_rule.delete` store the rule in the command's own transaction (rule-store.ts). Nothing
 * outside the database: the bridge reloads a farm's rules within ALARM_RULES_REFRESH_SECONDS, and
 * the minute sweep clears an alarm left open by a rule that was deleted or disabled.
 *
 * The applier checks that the command's tenant is one this farm server serves before a handler
 * runs; the rule is stored under that tenant, so a command can only ever change its own tenant's rules.
 */
import { CommandRefused, type DownlinkHandlers } from '../sync/downlink/handlers';
import { deleteRule, upsertRule } from './rule-store';
import { ruleProblem } from './rules';

export function createAlarmRuleHandlers(): Pick<DownlinkHandlers, 'alarm_rule.upsert' | 'alarm_rule.delete'> {
  return {
    'alarm_rule.upsert': {
      async apply(tx, rule, command) {
        const problem = ruleProblem(rule);
        if (problem) throw new CommandRefused(`invalid_rule: ${problem}`);
        const { changed } = await upsertRule(tx, command.tenant_id.toLowerCase(), rule, {
          updatedBy: command.created_by,
          source: 'downlink',
          commandId: command.command_id,
        });
        return { result: changed ? 'stored' : 'unchanged' };
      },
    },
    'alarm_rule.delete': {
      async apply(tx, payload, command) {
        const { changed } = await deleteRule(tx, command.tenant_id.toLowerCase(), payload.farm_id, payload.rule_id, {
          updatedBy: command.created_by,
          source: 'downlink',
          commandId: command.command_id,
        });
        return { result: changed ? 'deleted' : 'already_deleted' };
      },
    },
  };
}
