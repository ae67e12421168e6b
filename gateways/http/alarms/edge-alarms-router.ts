/**
 * Alarms on the edge operator API (docs/alarms.md; the cloud's alarm API is ./alarms-router.ts),
 * behind the operator token like every route of the operator app. Reads the edge alarm tables
 * (alarms/alarm-store.ts); an acknowledgement goes through alarms/acknowledge.ts to the alarm's
 * workflow, which records it and stops the ladder. Works with the cloud away.
 *
 *   GET  /api/v1/alarms?state=open|all&limit=     open alarms (default) or all, newest first
 *   GET  /api/v1/alarms/:alarmId                  one alarm with its history
 *   POST /api/v1/alarms/:alarmId/acknowledge      { by, note? }: 202 signalled, 200 when acknowledged before
 *
 * Refusals: 400 invalid_query / invalid_body, 404 alarm_not_found, 409 alarm_cleared / alarm_not_running,
 * 503 temporal_unavailable.
 */
import { Router, type Response } from 'express';
import type { Pool } from 'pg';
import { z } from 'zod';
import { isUuid } from '../../../domain/contracts/identifiers';
import { text } from '../../../domain/contracts/storable';
import { AcknowledgeRefused, acknowledgeAlarm, type AcknowledgeProblem, type AlarmSignaller } from '../../../alarms/acknowledge';
import { alarmHistory, getAlarm, listAlarms, type AlarmRecord } from '../../../alarms/alarm-store';
import { HttpError, type ErrorCode } from '../errors';
import { operatorOf } from '../operator-auth';
import { parseBody, parseQuery } from '../sync/sync-http';
import { syncJsonBody as jsonBody } from '../sync/status';

const refusalStatus: Record<AcknowledgeProblem, number> = {
  alarm_not_found: 404,
  alarm_tenant_mismatch: 404,
  alarm_cleared: 409,
  alarm_not_running: 409,
  temporal_unavailable: 503,
};

/** The alarm API's own codes beside errors.ts's (cast only because ErrorCode is a closed union there). */
function httpError(err: unknown): unknown {
  if (!(err instanceof AcknowledgeRefused)) return err;
  const code = err.code === 'alarm_tenant_mismatch' ? 'alarm_not_found' : err.code;
  return new HttpError(refusalStatus[err.code], code as unknown as ErrorCode, err.message);
}

const listQuery = z.object({ state: z.enum(['open', 'all']).default('open'), limit: z.coerce.number().int().min(1).max(500).default(100) }).strict();
const noQuery = z.object({}).strict();
const ackBody = z.object({ by: text(1, 200), note: text(1, 1000).optional() }).strict();

/** snake_case, as every API of the edge answers. */
export function alarmJson(a: AlarmRecord) {
  return {
    alarm_id: a.alarmId,
    tenant_id: a.tenantId,
    farm_id: a.farmId,
    barn_id: a.barnId ?? null,
    rule_id: a.ruleId,
    rule_kind: a.ruleKind,
    severity: a.severity,
    state: a.state,
    summary: a.summary,
    metric: a.metric ?? null,
    device_id: a.deviceId ?? null,
    value: a.value ?? null,
    threshold: a.threshold ?? null,
    unit: a.unit ?? null,
    condition_since: a.conditionSince,
    raised_at: a.raisedAt,
    last_step: a.lastStep ?? null,
    acknowledged_by: a.acknowledgedBy ?? null,
    acknowledged_at: a.acknowledgedAt ?? null,
    acknowledged_via: a.acknowledgedVia ?? null,
    acknowledgement_note: a.acknowledgementNote ?? null,
    cleared_at: a.clearedAt ?? null,
    clear_reason: a.clearReason ?? null,
    workflow_id: a.workflowId,
  };
}

function alarmIdOf(raw: unknown): string {
  const id = String(raw);
  if (!isUuid(id)) throw new HttpError(400, 'invalid_query', 'path parameter alarmId: must be a UUID', 'alarmId');
  return id;
}

/** `by` names the person; the token's operator is kept beside it when they differ (a shared token). */
function who(res: Response, by: string): string {
  const operator = operatorOf(res)?.name;
  return operator && by !== operator ? `${by} (operator ${operator})`.slice(0, 200) : by;
}

export function edgeAlarmsRouter(pool: Pool, signaller: AlarmSignaller): Router {
  const router = Router();

  router.get('/', async (req, res) => {
    const q = parseQuery(listQuery, req);
    const alarms = await listAlarms(pool, { open: q.state === 'open', limit: q.limit });
    res.json({ state: q.state, alarms: alarms.map(alarmJson) });
  });

  router.get('/:alarmId', async (req, res) => {
    parseQuery(noQuery, req);
    const alarmId = alarmIdOf(req.params.alarmId);
    const alarm = await getAlarm(pool, alarmId);
    if (!alarm) throw new HttpError(404, 'alarm_not_found' as unknown as ErrorCode, `no alarm ${alarmId} on this farm server`);
    res.json({ alarm: alarmJson(alarm), history: await alarmHistory(pool, alarmId) });
  });

  router.post('/:alarmId/acknowledge', jsonBody, async (req, res) => {
    parseQuery(noQuery, req);
    const alarmId = alarmIdOf(req.params.alarmId);
    const body = parseBody(ackBody, req);
    // The CLI says so in a header; everything else on this API is the operator API.
    const source = req.get('x-farmiq-client') === 'cli' ? 'cli' : 'operator_api';
    const r = await acknowledgeAlarm(pool, signaller, { alarmId, by: who(res, body.by), source, note: body.note }).catch((e) => {
      throw httpError(e);
    });
    res.status(r.already ? 200 : 202).json({
      alarm_id: alarmId,
      acknowledged: r.already ? 'before' : 'signalled',
      ...(r.already ? { acknowledged_by: r.alarm.acknowledgedBy, acknowledged_at: r.alarm.acknowledgedAt } : {}),
    });
  });

  return router;
}
