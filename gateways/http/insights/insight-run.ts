/**
 * Starting (or joining) one insight generation on Temporal and waiting for its result, for the
 * generate endpoint (insights-router.ts). The run's id is the request's business key
 * (insightWorkflowId: insight/<tenant>/<request id>), so a repeated request never generates twice:
 *   - a run still going is joined (workflowIdConflictPolicy USE_EXISTING) and its result awaited;
 *   - a run that completed is refused a second start (WorkflowExecutionAlreadyStarted, reuse policy
 *     ALLOW_DUPLICATE_FAILED_ONLY) and its result is the answer;
 *   - a run that failed, timed out or was terminated may be started again with the same id.
 * Failures are HttpErrors: 503 temporal_unavailable, 504 insight_timeout (the run goes on),
 * 502 insight_failed, 404 not_found (the workflow found no such farm).
 */
import { isGrpcServiceError, WorkflowFailedError, type Client, type WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure, WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import type { GenerateInsightInput, GenerateInsightResult, GenerateInsightWorkflow } from '../../../insights/insight-contract';
import type { Logger } from '../../../platform/logger';
import { farmiqBarn, farmiqFarm, farmiqTenant } from '../../../domain/temporal/search-attributes';
import { insightWorkflowId } from '../../../domain/temporal/workflow-ids';
import { HttpError } from '../errors';

export interface InsightRunOptions {
  temporalClient: Client;
  taskQueue: string;
  /** How long the request waits for the result before answering 504 (the run carries on). */
  responseTimeoutMs: number;
  log: Logger;
}

const temporalUnavailable = () => new HttpError(503, 'temporal_unavailable', 'the workflow service is not reachable; retry shortly with the same x-request-id');

/** Starts the run, or finds the completed one of this request id; `replayed` says it was found. */
async function startOrFind(
  opts: InsightRunOptions,
  input: GenerateInsightInput,
  workflowId: string,
): Promise<{ handle: WorkflowHandle<GenerateInsightWorkflow>; replayed: boolean }> {
  const { temporalClient, taskQueue, log } = opts;
  try {
    const handle = await temporalClient.workflow.start<GenerateInsightWorkflow>('generateInsight', {
      taskQueue,
      workflowId,
      args: [input],
      workflowIdConflictPolicy: 'USE_EXISTING',
      workflowIdReusePolicy: 'ALLOW_DUPLICATE_FAILED_ONLY',
      workflowExecutionTimeout: '10 minutes',
      memo: { requestId: input.requestId, userId: input.userId },
      typedSearchAttributes: [
        { key: farmiqTenant, value: input.tenantId },
        { key: farmiqFarm, value: input.farmId },
        ...(input.barnId ? [{ key: farmiqBarn, value: input.barnId }] : []),
      ],
    });
    return { handle, replayed: false };
  } catch (err) {
    // A completed run of this request id: its result is the answer.
    if (err instanceof WorkflowExecutionAlreadyStartedError)
      return { handle: temporalClient.workflow.getHandle<GenerateInsightWorkflow>(workflowId), replayed: true };
    if (isGrpcServiceError(err) || (err as Error).name === 'ServiceError') {
      log.warn({ requestId: input.requestId, err: (err as Error).message }, 'could not start the insight workflow');
      throw temporalUnavailable();
    }
    throw err;
  }
}

/** The run's result within responseTimeoutMs; `replayed` when it is a completed run's. */
export async function runInsight(opts: InsightRunOptions, input: GenerateInsightInput): Promise<{ result: GenerateInsightResult; replayed: boolean }> {
  const { temporalClient, responseTimeoutMs, log } = opts;
  const { requestId } = input;
  const workflowId = insightWorkflowId(input.tenantId, requestId);
  const { handle, replayed } = await startOrFind(opts, input, workflowId);
  const deadline = AbortSignal.timeout(responseTimeoutMs);
  try {
    const result = await temporalClient.withAbortSignal(deadline, () => handle.result());
    return { result, replayed };
  } catch (err) {
    if (deadline.aborted) {
      log.warn({ requestId, workflowId, timeoutMs: responseTimeoutMs }, 'insight not ready in time; the workflow carries on');
      throw new HttpError(
        504,
        'insight_timeout',
        `the insight was not ready within ${responseTimeoutMs} ms; it is still being generated — repeat the request with the same x-request-id to collect it`,
        undefined,
        { workflow_id: workflowId, request_id: requestId },
      );
    }
    if (err instanceof WorkflowFailedError) {
      const cause = err.cause;
      if (cause instanceof ApplicationFailure && cause.type === 'FarmNotFound') throw new HttpError(404, 'not_found', cause.message);
      log.error({ requestId, workflowId, err: cause?.message ?? err.message }, 'insight workflow failed');
      throw new HttpError(502, 'insight_failed', `generating the insight failed: ${cause?.message ?? err.message}`, undefined, {
        workflow_id: workflowId,
        request_id: requestId,
      });
    }
    if (isGrpcServiceError(err)) throw temporalUnavailable();
    throw err;
  }
}
