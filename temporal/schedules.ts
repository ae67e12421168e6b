/**
 * The Temporal Schedules the edge worker keeps in place. Ensured at every worker start: created
 * when missing, brought up to date when the code or settings changed (an operator's pause is kept).
 */
import { ScheduleAlreadyRunning, ScheduleOverlapPolicy, type Client, type ScheduleOptions } from '@temporalio/client';
import type * as edgeWorkflows from '../workflows/edge';
import type { PublishTelemetryRollupsInput } from '../workflows/telemetry-rollups';
import { telemetryRollupsScheduleId, telemetryRollupsWorkflowId } from './workflow-ids';

export interface TelemetryRollupScheduleConfig {
  edgeId: string;
  taskQueue: string;
  graceSeconds: number;
  batchSize?: number;
  /** How often a run starts. */
  every?: string;
}

export function telemetryRollupSchedule(cfg: TelemetryRollupScheduleConfig) {
  const input: PublishTelemetryRollupsInput = { graceSeconds: cfg.graceSeconds, batchSize: cfg.batchSize };
  return {
    scheduleId: telemetryRollupsScheduleId(cfg.edgeId),
    spec: { intervals: [{ every: cfg.every ?? '1 minute' }] },
    action: {
      type: 'startWorkflow' as const,
      workflowType: 'publishTelemetryRollups' satisfies keyof typeof edgeWorkflows,
      args: [input] satisfies Parameters<typeof edgeWorkflows.publishTelemetryRollups>,
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
  const desired = telemetryRollupSchedule(cfg);
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
