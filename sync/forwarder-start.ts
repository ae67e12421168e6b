/**
 * How the edge worker puts its sync forwarder in place at every start: signal-with-start on the
 * one workflow id of the edge. A forwarder already running keeps running (its pause, backoff and
 * in-flight batches untouched) and receives the current settings as a `configure` signal; if none
 * is running, one starts with them.
 */
import { WorkflowIdReusePolicy, type Client } from '@temporalio/client';
import type { Settings } from '../config/settings';
import { configureSyncSignal, syncForwarderWorkflowType, type SyncForwarderConfig, type SyncForwarderInput, type SyncForwarderWorkflow } from './sync-contract';
import { syncForwarderWorkflowId } from '../domain/temporal/workflow-ids';

export function syncForwarderConfig(
  s: Pick<Settings, 'EDGE_ID' | 'SYNC_BATCH_SIZE' | 'SYNC_LEASE_SECONDS' | 'SYNC_MAX_IN_FLIGHT' | 'SYNC_LIVE_WINDOW_SECONDS'>,
): SyncForwarderConfig {
  return {
    edgeId: s.EDGE_ID,
    batchSize: s.SYNC_BATCH_SIZE,
    leaseSeconds: s.SYNC_LEASE_SECONDS,
    maxInFlight: s.SYNC_MAX_IN_FLIGHT,
    liveWindowSeconds: s.SYNC_LIVE_WINDOW_SECONDS,
  };
}

export async function ensureSyncForwarder(
  client: Client,
  opts: { taskQueue: string; config: SyncForwarderConfig },
): Promise<{ workflowId: string; runId: string }> {
  const input: SyncForwarderInput = { config: opts.config };
  const handle = await client.workflow.signalWithStart<SyncForwarderWorkflow, [SyncForwarderConfig]>(syncForwarderWorkflowType, {
    workflowId: syncForwarderWorkflowId(opts.config.edgeId),
    taskQueue: opts.taskQueue,
    args: [input],
    signal: configureSyncSignal,
    signalArgs: [opts.config],
    // A forwarder that ended (terminated by an operator, failed on a bug) is started again.
    workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE,
  });
  return { workflowId: handle.workflowId, runId: handle.signaledRunId };
}
