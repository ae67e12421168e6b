/**
 * The cloud's part of an escalation step (docs/cloud-alarms.md): one notification per resolved
 * recipient and cloud channel of the step (notifications/send.ts), each with the idempotency key
 * `alarm:<alarm_id>:<step>:<kind>:<user>:<channel>` — a redelivered event, a retried batch or a
 * step the edge sent twice sends nothing new. `in_app` with nobody resolved goes to the whole
 * tenant (user `tenant` in the key). The farm server's own channels (mqtt_siren, lan_webhook) are
 * not the cloud's to deliver. A recipient that names nobody, or a notification the service
 * refuses, is recorded in the step's delivery and the others still go. A step the cloud receives
 * after the alarm's acknowledgement or clearing sends nothing.
 */
import type { Queryable } from '../../db/transaction';
import { cloudAlarmChannels, type CloudAlarmChannel } from '../../domain/contracts/alarm-payloads';
import { NotificationError } from '../../notifications/model';
import { sendNotification, type NotificationDeps } from '../../notifications/send';
import type { AlarmEscalated, StepDelivery } from './alarm-store';
import { resolveRecipients } from './recipients';

const maxTitle = 200;

function titleOf(p: AlarmEscalated): string {
  const title = `${p.severity === 'critical' ? 'CRITICAL' : p.severity === 'warning' ? 'Warning' : 'Info'} alarm: ${p.summary}`.trim();
  return title.length <= maxTitle ? title : `${title.slice(0, maxTitle - 1)}…`;
}

function bodyOf(p: AlarmEscalated): string {
  const where = p.barn_id ? `farm ${p.farm_id}, barn ${p.barn_id}` : `farm ${p.farm_id}`;
  const which = p.kind === 'reminder' ? `Reminder (step ${p.step})` : `Step ${p.step}`;
  return `${p.summary}\n\n${where}, rule ${p.rule_id}. ${which}: the alarm is not acknowledged yet. Acknowledge it in the FarmIQ dashboard or on the farm server.`;
}

export function stepKey(p: AlarmEscalated, user: string, channel: CloudAlarmChannel): string {
  return `alarm:${p.alarm_id}:${p.step}:${p.kind}:${user}:${channel}`;
}

export async function deliverStep(
  db: Queryable,
  notifications: NotificationDeps,
  event: { tenant_id: string; trace_id: string; payload: AlarmEscalated },
): Promise<StepDelivery> {
  const p = event.payload;
  // A step that arrives after the acknowledgement or the clearing (a late retry, a backlog synced
  // out of order) tells nobody: the farm server would not have sent it had it known.
  const { rows } = await db.query<{ state: string }>('SELECT state FROM alarms WHERE tenant_id = $1 AND alarm_id = $2', [event.tenant_id, p.alarm_id]);
  const state = rows[0]?.state;
  if (state === 'acknowledged' || state === 'cleared') return { sent: [], unresolved: [], failed: [], skipped: `the alarm was ${state} already` };
  const channels = p.channels.filter((c): c is CloudAlarmChannel => (cloudAlarmChannels as readonly string[]).includes(c));
  const { users, unresolved } = await resolveRecipients(db, event.tenant_id, p.recipients);
  const delivery: StepDelivery = { sent: [], unresolved, failed: [] };
  const targets: { recipient: string; userId: string | null; channel: CloudAlarmChannel }[] = [];
  for (const channel of channels) {
    if (users.length === 0 && channel === 'in_app') targets.push({ recipient: 'tenant', userId: null, channel });
    for (const u of users) targets.push({ recipient: u.recipient, userId: u.userId, channel });
  }
  const data = { alarm_id: p.alarm_id, farm_id: p.farm_id, barn_id: p.barn_id ?? null, rule_id: p.rule_id, step: p.step, kind: p.kind, severity: p.severity };
  for (const t of targets) {
    try {
      const r = await sendNotification(notifications, {
        tenantId: event.tenant_id,
        recipientUserId: t.userId,
        channel: t.channel,
        title: titleOf(p),
        body: bodyOf(p),
        data,
        idempotencyKey: stepKey(p, t.userId ?? 'tenant', t.channel),
        traceId: event.trace_id,
      });
      delivery.sent.push({ recipient: t.recipient, userId: t.userId, channel: t.channel, notificationId: r.notification.id, duplicate: r.duplicate });
    } catch (err) {
      // The user was disabled a moment ago, or the service refuses the input: the others still go.
      if (!(err instanceof NotificationError)) throw err;
      delivery.failed.push({ recipient: t.recipient, channel: t.channel, reason: `${err.problem}: ${err.message}` });
    }
  }
  return delivery;
}
