/**
 * One run publishes every telemetry rollup window that has closed (spec §8.1
 * `telemetry.aggregated`), a batch per activity call, until none is left. A Temporal Schedule
 * starts a run every minute (temporal/schedules.ts).
 *
 * The loop is bounded: after `maxBatches` full batches the run ends and the next scheduled run
 * carries on, so the history of one run stays small whatever backlog a long outage left behind.
 */
import { ApplicationFailure, log, proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { createRollupActivities } from '../../activities/ingest/rollups';
import type { PublishTelemetryRollupsInput, PublishTelemetryRollupsResult } from '../../ingest/rollups-contract';
import { edgeDatabase } from '../activity-options';

const { publishClosedRollups } = proxyActivities<ReturnType<typeof createRollupActivities>>(edgeDatabase);

export const defaultRollupBatchSize = 500;
export const defaultRollupMaxBatches = 50;

export async function publishTelemetryRollups(input: PublishTelemetryRollupsInput): Promise<PublishTelemetryRollupsResult> {
  const limit = input.batchSize ?? defaultRollupBatchSize;
  const maxBatches = input.maxBatches ?? defaultRollupMaxBatches;
  // Every event of this run carries the run id, so an outbox row leads back to its run in the UI.
  const traceId = `rollup-${workflowInfo().runId}`;
  const total: PublishTelemetryRollupsResult = { published: 0, invalid: 0, batches: 0, stoppedEarly: false };

  while (total.batches < maxBatches) {
    let batch;
    try {
      batch = await publishClosedRollups({ graceSeconds: input.graceSeconds, limit, traceId });
    } catch (err) {
      throw ApplicationFailure.create({
        type: 'RollupPublicationFailed',
        message: `publishing rollups failed after ${total.batches} successful batches (${total.published} windows); the next scheduled run retries`,
        cause: err instanceof Error ? err : undefined,
        nonRetryable: true,
      });
    }
    total.batches++;
    total.published += batch.published;
    total.invalid += batch.invalid;
    if (!batch.hasMore) return total;
  }
  total.stoppedEarly = true;
  log.warn('rollup backlog larger than one run; the next scheduled run continues', { ...total, batchSize: limit });
  return total;
}
