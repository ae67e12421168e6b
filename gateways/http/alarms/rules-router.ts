/**
 * Alarm rules on the edge operator API (docs/alarm-rules.md), behind the operator token like every
 * route of the operator app. Works with the cloud away; the dashboard changes rules through the
 * downlink (alarms/rule-commands.ts) into the same table.
 *
 *   GET    /api/v1/alarm-rules?tenant_id=&farm_id=            the rules in force, each marked default or stored
 *   PUT    /api/v1/alarm-rules/:ruleId?tenant_id=             body: an AlarmRuleSpec (rule_id as in the path);
 *                                                             replaces the default of that id; 200 { changed }
 *   DELETE /api/v1/alarm-rules/:ruleId?tenant_id=&farm_id=    a default too (it stays deleted); 200 { changed }
 *
 * The bridge picks a change up within ALARM_RULES_REFRESH_SECONDS; an alarm open under a rule that
 * was deleted or disabled is cleared by the next minute's sweep. Refusals: 400 invalid_query /
 * invalid_body (with the field), 422 invalid_rule (a rule its kind cannot judge).
 */
import { Router, type Response } from 'express';
import type { Pool } from 'pg';
import { z } from 'zod';
import { topicSegment } from '../../../domain/contracts/envelope';
import { alarmRuleSpec } from '../../../domain/downlink/commands';
import { defaultRules } from '../../../alarms/default-rules';
import { deleteRule, farmRules, storedRules, upsertRule, type RuleChange } from '../../../alarms/rule-store';
import { ruleProblem } from '../../../alarms/rules';
import { HttpError, type ErrorCode } from '../errors';
import { operatorOf } from '../operator-auth';
import { parseBody, parseQuery } from '../sync/sync-http';
import { syncJsonBody as jsonBody } from '../sync/status';

const farmQuery = z.object({ tenant_id: z.uuid(), farm_id: topicSegment }).strict();
const tenantQuery = z.object({ tenant_id: z.uuid() }).strict();

function changeOf(res: Response): RuleChange {
  return { updatedBy: `operator:${operatorOf(res)?.name ?? 'unknown'}`, source: 'operator_api' };
}

function ruleIdOf(raw: unknown): string {
  const parsed = topicSegment.safeParse(String(raw));
  if (!parsed.success) throw new HttpError(400, 'invalid_query', 'path parameter ruleId: must be an identifier (A-Z a-z 0-9 . _ : -)', 'ruleId');
  return parsed.data;
}

export function alarmRulesRouter(pool: Pool): Router {
  const router = Router();

  router.get('/', async (req, res) => {
    const q = parseQuery(farmQuery, req);
    const tenantId = q.tenant_id.toLowerCase();
    const [rules, stored] = await Promise.all([farmRules(pool, tenantId, q.farm_id), storedRules(pool, tenantId, q.farm_id)]);
    const storedIds = new Set(stored.map((s) => s.ruleId));
    const defaultIds = new Set(defaultRules(q.farm_id).map((d) => d.rule_id));
    res.json({
      tenant_id: tenantId,
      farm_id: q.farm_id,
      rules: rules.map((r) => ({ ...r, source: storedIds.has(r.rule_id) ? 'stored' : 'default' })),
      deleted_defaults: stored.filter((s) => s.spec === null && defaultIds.has(s.ruleId)).map((s) => s.ruleId),
    });
  });

  router.put('/:ruleId', jsonBody, async (req, res) => {
    const { tenant_id } = parseQuery(tenantQuery, req);
    const ruleId = ruleIdOf(req.params.ruleId);
    // The path names the rule; a body may leave rule_id out.
    req.body = { rule_id: ruleId, ...((req.body ?? {}) as Record<string, unknown>) };
    const rule = parseBody(alarmRuleSpec, req);
    if (rule.rule_id !== ruleId) throw new HttpError(400, 'invalid_body', `body field rule_id: must be the path's ${ruleId}`, 'rule_id');
    const problem = ruleProblem(rule);
    if (problem) throw new HttpError(422, 'invalid_rule' as unknown as ErrorCode, problem);
    const { changed } = await upsertRule(pool, tenant_id.toLowerCase(), rule, changeOf(res));
    res.json({ rule, changed });
  });

  router.delete('/:ruleId', async (req, res) => {
    const q = parseQuery(farmQuery, req);
    const ruleId = ruleIdOf(req.params.ruleId);
    const { changed } = await deleteRule(pool, q.tenant_id.toLowerCase(), q.farm_id, ruleId, changeOf(res));
    res.json({ rule_id: ruleId, farm_id: q.farm_id, changed });
  });

  return router;
}
