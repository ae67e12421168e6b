/**
 * The cloud's alarm API (docs/cloud-alarms.md), an ApiRouter behind requireUser(), through the
 * tenant pool (row-level security): another tenant's alarm is 404, never visible. (The farm
 * server's own alarm routes are ./edge-alarms-router.ts.)
 *
 *   GET  /api/v1/alarms?farm_id=&state=open|all&limit=      viewer    { items: Alarm[] }, open ones first
 *   GET  /api/v1/alarms/:alarmId                            viewer    { alarm, history }
 *   POST /api/v1/alarms/:alarmId/acknowledge { note? }      operator  202 { command_id, seq, status: 'pending' }
 *   PUT  /api/v1/farms/:farmId/alarm-rules/:ruleId          admin     202 { command_id, seq }
 *
 * The farm server is the source of truth for its alarms. Acknowledging here enqueues an
 * `alarm.acknowledge` downlink command for the alarm's farm server (cloud/downlink/); the alarm
 * turns acknowledged in the cloud only when the farm server's alarm.acknowledged event comes back
 * — until then the alarm shows the command as `pending_acknowledgement`. Asking twice gives the
 * same command. A rule change is likewise an `alarm_rule.upsert` command. The cloud's roles are
 * viewer, operator and admin: "manager and up" is admin.
 */
import type { Pool, PoolClient } from 'pg';
import { z } from 'zod';
import { withTenant } from '../../../auth/tenant-db';
import { edgeOfFarm } from '../../../cloud/alarms/alarm-edges';
import { alarmHistory, alarmPlace, getAlarm, listAlarms, maxAlarmPage } from '../../../cloud/alarms/alarm-reads';
import { recordAcknowledgementRequest } from '../../../cloud/alarms/alarm-store';
import { DownlinkError, enqueueCommand } from '../../../cloud/downlink/command-queue';
import { alarmRuleKinds, alarmSeverities } from '../../../domain/contracts/alarm-payloads';
import { topicSegment } from '../../../domain/contracts/envelope';
import { text } from '../../../domain/contracts/storable';
import { alarmRuleSpec, type CommandType } from '../../../domain/downlink/commands';
import { ApiRouter } from '../api/api-router';
import { errorBodySchema } from '../api/openapi';
import { HttpError, type ErrorCode } from '../errors';

export interface AlarmsRouterDeps {
  /** The tenant pool (farmiq_app): every statement under row-level security. */
  pool: Pool;
  now?: () => Date;
}

/** This API's codes beside errors.ts's (cast: ErrorCode is a closed union there). */
type AlarmErrorCode = 'alarm_not_found' | 'alarm_cleared' | 'already_acknowledged' | 'farm_server_unknown' | 'edge_not_serving_tenant' | 'farm_not_found';

function refused(status: number, code: AlarmErrorCode, message: string, field?: string): HttpError {
  return new HttpError(status, code as unknown as ErrorCode, message, field);
}

const instant = z.iso.datetime();
const acknowledgementSchema = z
  .object({
    command_id: z.uuid(),
    status: z.enum(['pending', 'delivered', 'applied', 'refused']).meta({ description: 'where the downlink command stands; applied: the farm server took it' }),
    created_at: instant,
  })
  .meta({ id: 'AlarmAcknowledgementRequest' });

const alarmSchema = z
  .object({
    alarm_id: z.uuid(),
    edge_id: z.string().nullable().meta({ description: 'the farm server that sent it' }),
    farm_id: z.string(),
    barn_id: z.string().nullable().meta({ description: 'null for a farm-wide rule (sync_stalled)' }),
    rule_id: z.string(),
    rule_kind: z.enum(alarmRuleKinds).nullable().meta({ description: 'null until the raise itself arrived' }),
    severity: z.enum(alarmSeverities),
    state: z.enum(['raised', 'acknowledged', 'cleared']),
    summary: z.string(),
    value: z.number().nullable(),
    threshold: z.number().nullable(),
    unit: z.string().nullable(),
    condition_since: instant.nullable(),
    raised_at: instant.nullable(),
    acknowledged_at: instant.nullable(),
    acknowledged_by: z.string().nullable(),
    cleared_at: instant.nullable(),
    last_step: z.number().int().nullable().meta({ description: 'the highest escalation step so far (0: at the raise)' }),
    pending_acknowledgement: acknowledgementSchema
      .nullable()
      .meta({ description: 'a dashboard acknowledgement on its way to the farm server; null once the farm server says acknowledged' }),
  })
  .meta({ id: 'Alarm' });

const historySchema = z
  .object({ at: instant, what: z.enum(['raised', 'escalated', 'acknowledged', 'cleared']), detail: z.string(), event_id: z.uuid() })
  .meta({ id: 'AlarmHistoryEntry' });

const listQuery = z.strictObject({
  farm_id: topicSegment.optional(),
  state: z.enum(['open', 'all']).default('open').meta({ description: 'open: not cleared (raised or acknowledged)' }),
  limit: z.coerce.number().int().min(1).max(maxAlarmPage).default(100),
});
const alarmParams = z.strictObject({ alarmId: z.uuid() });
const ackBody = z.strictObject({ note: text(1, 1000).optional() }).meta({ id: 'AlarmAcknowledgement' });
const ruleParams = z.strictObject({ farmId: topicSegment, ruleId: topicSegment });

const errorAnswer = (description: string) => ({ description, schema: errorBodySchema });
const bodyErrors = {
  413: errorAnswer('the body is larger than 64 kB'),
  415: errorAnswer('a charset other than UTF-8 (unsupported_charset)'),
};
const commandAnswer = z.object({ command_id: z.uuid(), seq: z.number().int() });

/** Enqueues for the edge, in the caller's transaction; the downlink's refusals as this API's. */
async function enqueue(
  client: PoolClient,
  input: { tenantId: string; edgeId: string; type: CommandType; payload: unknown; createdBy: string; dedupeKey?: string },
) {
  try {
    return await enqueueCommand(client, input);
  } catch (err) {
    if (!(err instanceof DownlinkError)) throw err;
    if (err.code === 'edge_not_serving_tenant') throw refused(409, 'edge_not_serving_tenant', err.message);
    throw new HttpError(400, 'invalid_body', err.message);
  }
}

/** The caller's email (who acknowledged, as the farm server records it), or their id if they are gone. */
async function callerName(client: PoolClient, userId: string): Promise<string> {
  const { rows } = await client.query<{ email: string }>('SELECT email FROM users WHERE id = $1', [userId]);
  return rows[0]?.email ?? `user:${userId}`;
}

/** 404 farm_not_found unless the farm is the tenant's (row-level security hides the others). */
async function assertFarm(client: PoolClient, tenantId: string, farmId: string): Promise<void> {
  const farm = await client.query('SELECT 1 FROM farms WHERE tenant_id = $1 AND farm_id = $2', [tenantId, farmId]);
  if (farm.rowCount === 0) throw refused(404, 'farm_not_found', `no farm ${farmId}`);
}

export function createAlarmsRouter({ pool, now = () => new Date() }: AlarmsRouterDeps): ApiRouter {
  const api = new ApiRouter('alarms');

  api.route(
    {
      method: 'get',
      path: '/api/v1/alarms',
      role: 'viewer',
      summary: "The tenant's alarms, open ones first",
      description: 'As the farm servers reported them. `state=open` (default) leaves out the cleared ones; a farm_id not of the tenant is 404 farm_not_found.',
      query: listQuery,
      responses: { 200: { description: 'the alarms', schema: z.object({ items: z.array(alarmSchema) }).meta({ id: 'AlarmList' }) } },
    },
    async ({ query, auth }) =>
      withTenant(pool, auth.tenantId, async (c) => {
        if (query.farm_id !== undefined) await assertFarm(c, auth.tenantId, query.farm_id);
        return { body: { items: await listAlarms(c, auth.tenantId, { farmId: query.farm_id, state: query.state, limit: query.limit }) } };
      }),
  );

  api.route(
    {
      method: 'get',
      path: '/api/v1/alarms/:alarmId',
      role: 'viewer',
      summary: 'One alarm and its history',
      params: alarmParams,
      responses: {
        200: { description: 'the alarm', schema: z.object({ alarm: alarmSchema, history: z.array(historySchema) }).meta({ id: 'AlarmDetail' }) },
      },
    },
    async ({ params, auth }) =>
      withTenant(pool, auth.tenantId, async (c) => {
        const alarm = await getAlarm(c, auth.tenantId, params.alarmId);
        if (!alarm) throw refused(404, 'alarm_not_found', `no alarm ${params.alarmId}`);
        return { body: { alarm, history: await alarmHistory(c, auth.tenantId, params.alarmId) } };
      }),
  );

  api.route(
    {
      method: 'post',
      path: '/api/v1/alarms/:alarmId/acknowledge',
      role: 'operator',
      summary: 'Acknowledge an alarm (through its farm server)',
      description:
        'Queues an alarm.acknowledge command for the farm server that raised it. The alarm turns acknowledged when the farm server says so ' +
        '(its alarm.acknowledged event); meanwhile it carries the command as pending_acknowledgement. Asking again returns the same command.',
      params: alarmParams,
      body: ackBody,
      responses: {
        202: {
          description: 'queued for the farm server',
          schema: commandAnswer.extend({ status: z.literal('pending') }).meta({ id: 'AlarmAcknowledgementQueued' }),
        },
        409: errorAnswer('alarm_cleared, already_acknowledged, farm_server_unknown (no farm server known for the alarm), edge_not_serving_tenant'),
        ...bodyErrors,
      },
    },
    async ({ params, body, auth }) =>
      withTenant(pool, auth.tenantId, async (c) => {
        const alarm = await alarmPlace(c, auth.tenantId, params.alarmId);
        if (!alarm) throw refused(404, 'alarm_not_found', `no alarm ${params.alarmId}`);
        if (alarm.state === 'cleared') throw refused(409, 'alarm_cleared', 'the alarm is cleared already');
        if (alarm.state === 'acknowledged') throw refused(409, 'already_acknowledged', 'the alarm is acknowledged already');
        const edgeId = alarm.edge_id ?? (await edgeOfFarm(c, auth.tenantId, alarm.farm_id));
        if (!edgeId) throw refused(409, 'farm_server_unknown', 'the cloud does not know which farm server raised this alarm');
        const by = await callerName(c, auth.userId);
        const payload = {
          alarm_id: params.alarmId,
          farm_id: alarm.farm_id,
          ...(alarm.barn_id ? { barn_id: alarm.barn_id } : {}),
          rule_id: alarm.rule_id,
          acknowledged_by: by,
          ...(body.note ? { note: body.note } : {}),
          acknowledged_at: now().toISOString(),
        };
        const command = await enqueue(c, {
          tenantId: auth.tenantId,
          edgeId,
          type: 'alarm.acknowledge',
          payload,
          createdBy: by,
          dedupeKey: `ack:${params.alarmId}`,
        });
        await recordAcknowledgementRequest(c, {
          tenantId: auth.tenantId,
          alarmId: params.alarmId,
          commandId: command.commandId,
          seq: command.seq,
          requestedBy: by,
          note: body.note ?? null,
        });
        return { status: 202, body: { command_id: command.commandId, seq: command.seq, status: 'pending' as const } };
      }),
  );

  api.route(
    {
      method: 'put',
      path: '/api/v1/farms/:farmId/alarm-rules/:ruleId',
      role: 'admin',
      summary: "Create or change one of a farm's alarm rules (on its farm server)",
      description:
        'Queues an alarm_rule.upsert command for the farm server of the farm; the farm server evaluates its rules itself. ' +
        'The body is the rule (farm_id and rule_id as in the path).',
      params: ruleParams,
      body: alarmRuleSpec.meta({ id: 'AlarmRule' }),
      responses: {
        202: { description: 'queued for the farm server', schema: commandAnswer.meta({ id: 'AlarmRuleQueued' }) },
        409: errorAnswer('farm_server_unknown (the farm has no farm server the cloud can tell), edge_not_serving_tenant'),
        ...bodyErrors,
      },
    },
    async ({ params, body, auth }) => {
      if (body.farm_id !== params.farmId) throw new HttpError(400, 'invalid_body', 'farm_id: must be the farm of the path', 'farm_id');
      if (body.rule_id !== params.ruleId) throw new HttpError(400, 'invalid_body', 'rule_id: must be the rule of the path', 'rule_id');
      return withTenant(pool, auth.tenantId, async (c) => {
        await assertFarm(c, auth.tenantId, params.farmId);
        const edgeId = await edgeOfFarm(c, auth.tenantId, params.farmId);
        if (!edgeId) throw refused(409, 'farm_server_unknown', 'the cloud cannot tell which farm server runs this farm');
        const command = await enqueue(c, {
          tenantId: auth.tenantId,
          edgeId,
          type: 'alarm_rule.upsert',
          payload: body,
          createdBy: await callerName(c, auth.userId),
        });
        return { status: 202, body: { command_id: command.commandId, seq: command.seq } };
      });
    },
  );

  return api;
}
