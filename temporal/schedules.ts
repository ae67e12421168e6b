/**
 * The Temporal Schedules the edge worker keeps in place. Ensured at every worker start: created
 * when missing, brought up to date when the code or settings changed (an operator's pause is kept).
 */
import { ScheduleAlreadyRunning, ScheduleOverlapPolicy, type Client, type ScheduleOptions } from '@temporalio/client';
import type { Duration } from '@temporalio/common';
import { pruneSyncOutboxWorkflowType, type PruneSyncOutboxInput, type PruneSyncOutboxWorkflow } from '../sync/sync-contract';
import { publishTelemetryRollupsWorkflowType, type PublishTelemetryRollupsInput, type PublishTelemetryRollupsWorkflow } from '../ingest/rollups-contract';
import { alarmSweepWorkflowType, type AlarmSweepInput, type AlarmSweepWorkflow } from '../alarms/sweep';
import {
  alarmSweepScheduleId,
  syncOutboxRetentionScheduleId,
  syncOutboxRetentionWorkflowId,
  telemetryRollupsScheduleId,
  telemetryRollupsWorkflowId,
} from '../domain/temporal/workflow-ids';

export interface TelemetryRollupScheduleConfig {
  edgeId: string;
  taskQueue: string;
  graceSeconds: number;
  batchSize?: number;
  /** How often a run starts. */
  every?: Duration;
}

export function telemetryRollupSchedule(cfg: TelemetryRollupScheduleConfig) {
  const input: PublishTelemetryRollupsInput = { graceSeconds: cfg.graceSeconds, batchSize: cfg.batchSize };
  return {
    scheduleId: telemetryRollupsScheduleId(cfg.edgeId),
    // eslint-disable-next-line @typescript-eslint/no-unsafe-assignment -- the SDK's Duration is an error type here: its StringValue comes from 'ms', whose types do not resolve under node16 (exports map without a types condition).
    spec: { intervals: [{ every: cfg.every ?? '1 minute' }] },
    action: {
      type: 'startWorkflow' as const,
      workflowType: publishTelemetryRollupsWorkflowType,
      args: [input] satisfies Parameters<PublishTelemetryRollupsWorkflow>,
      taskQueue: cfg.taskQueue,
      workflowId: telemetryRollupsWorkflowId(cfg.edgeId),
    },
    policies: {
      // A run still going (large backlog, worker down) makes the next tick a no-op, never a pile-up.
      overlap: ScheduleOverlapPolicy.SKIP,
      // After the Temporal server itself was down, do not replay every missed minute: one run
      // publishes everything that closed meanwhile.
      catchupWindow: '1 minute',
    },
  } satisfies ScheduleOptions;
}

/** Creates the rollup schedule, or updates it in place if it already exists. */
export async function ensureTelemetryRollupSchedule(client: Client, cfg: TelemetryRollupScheduleConfig): Promise<'created' | 'updated'> {
  return ensureSchedule(client, telemetryRollupSchedule(cfg));
}

export interface SyncOutboxRetentionScheduleConfig {
  edgeId: string;
  taskQueue: string;
  /** Acked rows older than this are deleted (SYNC_RETENTION_HOURS). */
  olderThanHours: number;
  chunk?: number;
  every?: Duration;
}

export function syncOutboxRetentionSchedule(cfg: SyncOutboxRetentionScheduleConfig) {
  const input: PruneSyncOutboxInput = { olderThanHours: cfg.olderThanHours, chunk: cfg.chunk ?? 10_000 };
  return {
    scheduleId: syncOutboxRetentionScheduleId(cfg.edgeId),
    // eslint-disable-next-line @typescript-eslint/no-unsafe-assignment -- the SDK's Duration is an error type here: its StringValue comes from 'ms', whose types do not resolve under node16 (exports map without a types condition).
    spec: { intervals: [{ every: cfg.every ?? '10 minutes' }] },
    action: {
      type: 'startWorkflow' as const,
      workflowType: pruneSyncOutboxWorkflowType,
      args: [input] satisfies Parameters<PruneSyncOutboxWorkflow>,
      taskQueue: cfg.taskQueue,
      workflowId: syncOutboxRetentionWorkflowId(cfg.edgeId),
    },
    policies: {
      // A run still deleting makes the next tick a no-op; after an outage one run catches up.
      overlap: ScheduleOverlapPolicy.SKIP,
      catchupWindow: '10 minutes',
    },
  } satisfies ScheduleOptions;
}

/** Creates the outbox retention schedule, or updates it in place if it already exists. */
export async function ensureSyncOutboxRetentionSchedule(client: Client, cfg: SyncOutboxRetentionScheduleConfig): Promise<'created' | 'updated'> {
  return ensureSchedule(client, syncOutboxRetentionSchedule(cfg));
}

export interface AlarmSweepScheduleConfig {
  edgeId: string;
  taskQueue: string;
  every?: Duration;
}

/** The minute sweep of the time-based alarm rules (alarms/sweep.ts). */
export function alarmSweepSchedule(cfg: AlarmSweepScheduleConfig) {
  const input: AlarmSweepInput = {};
  return {
    scheduleId: alarmSweepScheduleId(cfg.edgeId),
    // eslint-disable-next-line @typescript-eslint/no-unsafe-assignment -- the SDK's Duration is an error type here: its StringValue comes from 'ms', whose types do not resolve under node16 (exports map without a types condition).
    spec: { intervals: [{ every: cfg.every ?? '1 minute' }] },
    action: {
      type: 'startWorkflow' as const,
      workflowType: alarmSweepWorkflowType,
      args: [input] satisfies Parameters<AlarmSweepWorkflow>,
      taskQueue: cfg.taskQueue,
      workflowId: alarmSweepScheduleId(cfg.edgeId),
    },
    policies: {
      // A sweep still running makes the next tick a no-op; after an outage one sweep sees the present.
      overlap: ScheduleOverlapPolicy.SKIP,
      catchupWindow: '1 minute',
    },
  } satisfies ScheduleOptions;
}

/** Creates the alarm sweep schedule, or updates it in place if it already exists. */
export async function ensureAlarmSweepSchedule(client: Client, cfg: AlarmSweepScheduleConfig): Promise<'created' | 'updated'> {
  return ensureSchedule(client, alarmSweepSchedule(cfg));
}

/** Creates a schedule, or brings an existing one up to date keeping an operator's pause and note. */
async function ensureSchedule(client: Client, desired: ScheduleOptions): Promise<'created' | 'updated'> {
  try {
    await client.schedule.create(desired);
    return 'created';
  } catch (err) {
    if (!(err instanceof ScheduleAlreadyRunning)) throw err;
  }
  await client.schedule.getHandle(desired.scheduleId).update((previous) => ({
    spec: desired.spec,
    action: desired.action,
    policies: desired.policies,
    state: { paused: previous.state.paused, note: previous.state.note },
  }));
  return 'updated';
}
