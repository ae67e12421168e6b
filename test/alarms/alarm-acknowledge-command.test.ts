/**
 * The downlink's alarm.acknowledge handler (alarms/acknowledge-command.ts) and the alarm events
 * (alarms/alarm-events.ts) against an edge database of its own (farmiq_edge_alarm_cmd): a command
 * for another tenant's alarm or another place is refused, a good one signals the workflow only
 * after the commit (as the dashboard's, with the command id), an acknowledged or cleared alarm
 * needs no signal; every event is a valid catalog event with the same id on every build.
 */
import { randomUUID } from 'node:crypto';
import type { Pool } from 'pg';
import type { AlarmSignaller } from '../../alarms/acknowledge';
import { acknowledgeCommandHandler } from '../../alarms/acknowledge-command';
import type { AlarmAcknowledgement, AlarmAddress, AlarmRaise } from '../../alarms/alarm-contract';
import { alarmAcknowledgedEvent, alarmClearedEvent, alarmEscalatedEvent, alarmEventId, alarmRaisedEvent } from '../../alarms/alarm-events';
import { recordAcknowledged, recordCleared, recordRaised } from '../../alarms/alarm-store';
import { inTransaction } from '../../db/transaction';
import { farmEventSchema } from '../../domain/contracts/catalog';
import type { EdgeCommand } from '../../domain/downlink/commands';
import { CommandRefused } from '../../sync/downlink/handlers';
import { edgeTestDatabaseUrl, openSyncTestDatabase } from '../activities/sync-db';

let pool: Pool;
const signals: { workflowId: string; ack: AlarmAcknowledgement }[] = [];
const signaller: AlarmSignaller = {
  acknowledge: async (workflowId, ack) => {
    signals.push({ workflowId, ack });
  },
  close: async () => {},
};

beforeAll(async () => {
  pool = await openSyncTestDatabase('alarm-command-test', edgeTestDatabaseUrl('alarm_cmd'));
});
afterAll(() => pool?.end());
beforeEach(() => {
  signals.length = 0;
});

function alarm(): { address: AlarmAddress; raise: AlarmRaise } {
  const at = '2026-06-01T10:00:00.000Z';
  return {
    address: { tenantId: randomUUID(), farmId: 'farm-2', barnId: 'barn-1', ruleId: 'temp-high' },
    raise: {
      alarmId: randomUUID(),
      ruleKind: 'limit',
      severity: 'critical',
      metric: 'temperature',
      value: 34,
      threshold: 30,
      unit: 'C',
      conditionSince: at,
      raisedAt: at,
      summary: 'Barn 1 temperature 34 °C above 30 °C',
      ladder: { steps: [{ afterSeconds: 0, channels: ['in_app'], recipients: ['role:admin'] }] },
    },
  };
}

async function recorded() {
  const a = alarm();
  await inTransaction(pool, (c) => recordRaised(c, { ...a, workflowId: `alarm/${a.address.tenantId}/farm-2/barn-1/temp-high` }));
  return a;
}

function command(a: { address: AlarmAddress; raise: AlarmRaise }, over: Partial<EdgeCommand> = {}) {
  const payload = {
    alarm_id: a.raise.alarmId,
    farm_id: a.address.farmId,
    barn_id: a.address.barnId,
    rule_id: a.address.ruleId,
    acknowledged_by: 'ana@farm.example',
    acknowledged_at: '2026-06-01T10:03:00.000Z',
  };
  const cmd: EdgeCommand = {
    command_id: randomUUID(),
    seq: 1,
    tenant_id: a.address.tenantId,
    type: 'alarm.acknowledge',
    payload,
    created_at: '2026-06-01T10:03:01.000Z',
    created_by: 'ana@farm.example',
    ...over,
  };
  return { payload, cmd };
}

const handler = () => acknowledgeCommandHandler({ pool, signaller });

test('a command for another tenant, or naming another place, is refused in its transaction; nothing is signalled', async () => {
  const a = await recorded();
  const other = command(a, { tenant_id: randomUUID() });
  await expect(inTransaction(pool, (tx) => handler().apply(tx, other.payload, other.cmd))).rejects.toEqual(new CommandRefused('alarm_not_found'));
  const elsewhere = command(a);
  await expect(inTransaction(pool, (tx) => handler().apply(tx, { ...elsewhere.payload, barn_id: 'barn-9' }, elsewhere.cmd))).rejects.toEqual(
    new CommandRefused('alarm_place_mismatch'),
  );
  const missing = command(alarm());
  await expect(inTransaction(pool, (tx) => handler().apply(tx, missing.payload, missing.cmd))).rejects.toEqual(new CommandRefused('alarm_not_found'));
  expect(signals).toEqual([]);
});

test('a good command signals only after the commit, as the dashboard, with the command id; done or cleared alarms need none', async () => {
  const a = await recorded();
  const { payload, cmd } = command(a);
  const applied = await inTransaction(pool, (tx) => handler().apply(tx, payload, cmd));
  expect(applied.result).toBe('acknowledgement signalled');
  expect(signals).toEqual([]);
  await applied.afterCommit!();
  expect(signals).toEqual([
    {
      workflowId: `alarm/${a.address.tenantId}/farm-2/barn-1/temp-high`,
      ack: { alarmId: a.raise.alarmId, by: 'ana@farm.example', source: 'dashboard', at: '2026-06-01T10:03:00.000Z', commandId: cmd.command_id },
    },
  ]);

  // Once the workflow recorded it: a redelivered command is answered, not signalled again.
  await inTransaction(pool, (c) => recordAcknowledged(c, { address: a.address, ack: signals[0].ack }));
  const again = await inTransaction(pool, (tx) => handler().apply(tx, payload, cmd));
  expect(again).toEqual({ result: 'already acknowledged by ana@farm.example' });

  const b = await recorded();
  await inTransaction(pool, (c) =>
    recordCleared(c, { address: b.address, clear: { alarmId: b.raise.alarmId, reason: 'condition', at: '2026-06-01T10:05:00.000Z' }, acknowledged: false }),
  );
  const late = command(b);
  expect(await inTransaction(pool, (tx) => handler().apply(tx, late.payload, late.cmd))).toEqual({ result: 'alarm already cleared' });
});

test('every alarm event is a valid catalog event whose id is derived from the alarm and what happened', () => {
  const a = alarm();
  const rung = a.raise.ladder.steps[0];
  const events = [
    alarmRaisedEvent(a.address, a.raise),
    alarmEscalatedEvent(a.address, a.raise, { step: 3, kind: 'reminder', rung, deliveredLocally: ['mqtt_siren'], at: '2026-06-01T10:30:00.000Z' }),
    alarmAcknowledgedEvent(a.address, { alarmId: a.raise.alarmId, by: 'x', source: 'cli', at: '2026-06-01T10:31:00.000Z' }),
    alarmClearedEvent(a.address, { alarmId: a.raise.alarmId, reason: 'condition', at: '2026-06-01T10:40:00.000Z' }, true),
  ];
  for (const e of events) expect(farmEventSchema.safeParse(e).success).toBe(true);
  expect(events.map((e) => e.event_id)).toEqual([
    alarmEventId(a.address.tenantId, a.raise.alarmId, 'raised'),
    alarmEventId(a.address.tenantId, a.raise.alarmId, 'escalated', 3),
    alarmEventId(a.address.tenantId, a.raise.alarmId, 'acknowledged'),
    alarmEventId(a.address.tenantId, a.raise.alarmId, 'cleared'),
  ]);
  expect(new Set(events.map((e) => e.event_id)).size).toBe(4);
  expect(alarmEventId(a.address.tenantId, a.raise.alarmId, 'escalated', 3)).not.toBe(alarmEventId(a.address.tenantId, a.raise.alarmId, 'escalated', 4));
  expect(alarmRaisedEvent(a.address, a.raise).event_id).toBe(events[0].event_id);
  expect(events[1]).toMatchObject({
    device_id: 'edge-alarms',
    farm_id: 'farm-2',
    barn_id: 'barn-1',
    payload: { step: 3, kind: 'reminder', delivered_locally: ['mqtt_siren'] },
  });
});
