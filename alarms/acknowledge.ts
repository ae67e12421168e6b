/**
 * Acknowledging an alarm on the farm server: the one way in for the operator API, the CLI (through
 * that API) and the downlink (acknowledge-command.ts). It looks the alarm up in the edge tables and
 * signals `acknowledge` to its workflow; the workflow records the acknowledgement (who, when, how,
 * the command) and stops the ladder. Works with the cloud away: only the edge's Postgres and
 * Temporal are involved.
 *
 * An alarm acknowledged before is answered as such (no second signal); a cleared alarm or one
 * whose workflow is gone cannot be acknowledged.
 */
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { Queryable } from '../db/transaction';
import { grpcCode, lazyTemporalClient, TemporalUnreachableError } from '../platform/lazy-temporal-client';
import { acknowledgeSignal, type AlarmAcknowledgement } from './alarm-contract';
import { getAlarm, type AlarmRecord } from './alarm-store';

export type AcknowledgeProblem = 'alarm_not_found' | 'alarm_cleared' | 'alarm_not_running' | 'alarm_tenant_mismatch' | 'temporal_unavailable';

export class AcknowledgeRefused extends Error {
  constructor(
    readonly code: AcknowledgeProblem,
    message: string,
  ) {
    super(message);
    this.name = 'AcknowledgeRefused';
  }
}

/** Signals an alarm's workflow; temporalAlarmSignaller below, or a fake in tests. */
export interface AlarmSignaller {
  acknowledge(workflowId: string, ack: AlarmAcknowledgement): Promise<void>;
  close(): Promise<void>;
}

export interface AcknowledgeRequest {
  alarmId: string;
  by: string;
  source: AlarmAcknowledgement['source'];
  note?: string;
  /** When it was acknowledged (a dashboard's click); default now. */
  at?: string;
  commandId?: string;
  /** The downlink command's tenant: the alarm must be that tenant's. */
  tenantId?: string;
}

export interface Acknowledged {
  alarm: AlarmRecord;
  /** Acknowledged before this request: nothing was signalled. */
  already: boolean;
}

/** The alarm this request may acknowledge (or AcknowledgeRefused); no signal. */
export async function alarmToAcknowledge(db: Queryable, req: Pick<AcknowledgeRequest, 'alarmId' | 'tenantId'>): Promise<AlarmRecord> {
  const alarm = await getAlarm(db, req.alarmId);
  if (!alarm || (req.tenantId !== undefined && alarm.tenantId !== req.tenantId.toLowerCase())) {
    // Another tenant's alarm is not told apart from a missing one.
    throw new AcknowledgeRefused(alarm ? 'alarm_tenant_mismatch' : 'alarm_not_found', `no alarm ${req.alarmId} on this farm server`);
  }
  return alarm;
}

export async function acknowledgeAlarm(db: Queryable, signaller: AlarmSignaller, req: AcknowledgeRequest): Promise<Acknowledged> {
  const alarm = await alarmToAcknowledge(db, req);
  if (alarm.acknowledgedAt) return { alarm, already: true };
  if (alarm.state === 'cleared')
    throw new AcknowledgeRefused('alarm_cleared', `alarm ${alarm.alarmId} cleared at ${alarm.clearedAt}; there is nothing to acknowledge`);
  await signaller.acknowledge(alarm.workflowId, {
    alarmId: alarm.alarmId,
    by: req.by,
    source: req.source,
    ...(req.note ? { note: req.note } : {}),
    at: req.at ?? new Date().toISOString(),
    ...(req.commandId ? { commandId: req.commandId } : {}),
  });
  return { alarm, already: false };
}

export function temporalAlarmSignaller(opts: { address: string; namespace: string; timeoutMs?: number }): AlarmSignaller {
  const temporal = lazyTemporalClient(opts);
  return {
    async acknowledge(workflowId, ack) {
      try {
        await temporal.call((c: Client) => c.workflow.getHandle(workflowId).signal(acknowledgeSignal, ack));
      } catch (err) {
        if (err instanceof TemporalUnreachableError || grpcCode(err) === 14) throw new AcknowledgeRefused('temporal_unavailable', (err as Error).message);
        if (err instanceof WorkflowNotFoundError) {
          throw new AcknowledgeRefused('alarm_not_running', `the workflow ${workflowId} of alarm ${ack.alarmId} is not running (has it ended?)`);
        }
        throw err;
      }
    },
    close: () => temporal.close(),
  };
}
