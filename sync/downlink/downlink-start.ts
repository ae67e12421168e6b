/**
 * How the edge worker puts its downlink in place at every start (like sync/forwarder-start.ts):
 * one workflow per edge, started if none runs; one already running keeps running.
 */
import { WorkflowExecutionAlreadyStartedError, WorkflowIdReusePolicy, type Client } from '@temporalio/client';
import { downlinkWorkflowId } from '../../domain/temporal/workflow-ids';
import { downlinkWorkflowType, type DownlinkInput } from './downlink-contract';

export async function ensureDownlink(client: Client, opts: { taskQueue: string; input: DownlinkInput }): Promise<{ workflowId: string; started: boolean }> {
  const workflowId = downlinkWorkflowId(opts.input.edgeId);
  try {
    await client.workflow.start(downlinkWorkflowType, {
      workflowId,
      taskQueue: opts.taskQueue,
      args: [opts.input],
      // A downlink that ended (terminated by an operator, failed on a bug) is started again.
      workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE,
    });
    return { workflowId, started: true };
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError) return { workflowId, started: false };
    throw err;
  }
}
