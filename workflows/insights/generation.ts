/**
 * One insight generation (spec §5, DESIGN §3): aggregate → (ML predict) → LLM analysis → store →
 * best-effort notification, each step an activity with its own preset
 * (workflows/insights/activity-options.ts). Started by POST /api/v1/dashboard/insights/generate
 * with the id insight/<tenant>/<request id> (domain/temporal/workflow-ids.ts), which waits for the result.
 *
 * - Predictions are optional: when asked for and the ML service fails, the insight is written
 *   without them (and says so in `predictionsError`).
 * - The LLM activity answers with the template writer itself when the model is late or wrong; if
 *   the activity fails altogether, the workflow asks the template writer (a local activity). Either
 *   way the stored insight records the generator and why the LLM was not used.
 * - The notification is an abandoned child workflow: the result is returned as soon as the child
 *   has started, never after the notification (workflows/insights/notification.ts).
 *
 * The request id travels in the memo, in every activity input (and from there into logs and the
 * x-request-id header of outgoing calls); FarmiqTenant/Farm/Barn are set at start and FarmiqStatus
 * follows the steps, so the run is findable in the Temporal UI.
 */
import {
  ApplicationFailure,
  ParentClosePolicy,
  log,
  proxyActivities,
  proxyLocalActivities,
  startChild,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { createInsightActivities } from '../../activities/insights/generation';
import type { FeatureSummary, MlPredictions } from '../../insights/feature-summary';
import type { GenerateInsightInput, GenerateInsightResult, InsightStatus } from '../../insights/insight-contract';
import type { InsightRecord } from '../../insights/insight-store';
import type { GeneratedInsight } from '../../insights/insight-schema';
import { farmiqStatus } from '../../domain/temporal/search-attributes';
import { insightNotificationWorkflowId } from '../../domain/temporal/workflow-ids';
import { insightAggregation, insightStore, llmAnalysis, mlPrediction, templateFallback } from './activity-options';
import { failureMessage, failureType } from './failures';
import { notifyInsight } from './notification';

type Activities = ReturnType<typeof createInsightActivities>;

const { aggregateFeatureSummary } = proxyActivities<Activities>(insightAggregation);
const { predict } = proxyActivities<Activities>(mlPrediction);
const { analyzeWithLlm } = proxyActivities<Activities>(llmAnalysis);
const { storeInsight } = proxyActivities<Activities>(insightStore);
const { writeTemplateInsight } = proxyLocalActivities<Activities>(templateFallback);

function setStatus(status: InsightStatus): void {
  upsertSearchAttributes([{ key: farmiqStatus, value: status }]);
}

export async function generateInsight(input: GenerateInsightInput): Promise<GenerateInsightResult> {
  const summary = await aggregate(input);
  const { predictions, predictionsError } = await predictIfAsked(input, summary);
  // What the generator sees: the summary, with the predictions folded in when there are any.
  const analysed: FeatureSummary = predictions ? { ...summary, predictions } : summary;
  const generated = await analyse(analysed, input.requestId);
  const insight = await store(input, analysed, predictions, generated);
  const notification = await notifyIfAsked(input, insight);
  return { insight, predictionsError, notification };
}

async function aggregate(input: GenerateInsightInput): Promise<FeatureSummary> {
  setStatus('aggregating');
  try {
    return await aggregateFeatureSummary({
      tenantId: input.tenantId,
      farmId: input.farmId,
      barnId: input.barnId,
      window: input.window,
      forecastDays: input.options.forecastDays,
      targetWeightKg: input.options.targetWeightKg ?? null,
      requestId: input.requestId,
    });
  } catch (err) {
    const notFound = failureType(err) === 'FarmNotFound';
    throw ApplicationFailure.create({
      type: notFound ? 'FarmNotFound' : 'InsightAggregationFailed',
      message: notFound ? failureMessage(err) : `aggregating the feature summary failed: ${failureMessage(err)}`,
      cause: err instanceof Error ? err : undefined,
      nonRetryable: true,
    });
  }
}

/** Predictions are optional: a failing ML service leaves them out and says why. */
async function predictIfAsked(
  input: GenerateInsightInput,
  summary: FeatureSummary,
): Promise<{ predictions: MlPredictions | null; predictionsError: string | null }> {
  if (!input.options.predictions) return { predictions: null, predictionsError: null };
  setStatus('predicting');
  try {
    const predictions = await predict({ summary, requestId: input.requestId });
    return { predictions, predictionsError: predictions === null ? 'no barn has an animal age and a weighing to predict from' : null };
  } catch (err) {
    const predictionsError = failureMessage(err);
    log.warn('ML predictions unavailable; the insight is written without them', { requestId: input.requestId, error: predictionsError });
    return { predictions: null, predictionsError };
  }
}

/** The LLM, or the template writer when the LLM activity fails altogether. */
async function analyse(summary: FeatureSummary, requestId: string): Promise<GeneratedInsight> {
  setStatus('analyzing');
  try {
    return await analyzeWithLlm({ summary, requestId });
  } catch (err) {
    if (failureType(err) === 'InvalidFeatureSummary') {
      throw ApplicationFailure.create({ type: 'InvalidFeatureSummary', message: failureMessage(err), nonRetryable: true });
    }
    return await writeTemplateInsight({ summary, requestId, reason: 'llm_activity_failed', detail: failureMessage(err), model: null });
  }
}

async function store(
  input: GenerateInsightInput,
  analysed: FeatureSummary,
  predictions: MlPredictions | null,
  generated: GeneratedInsight,
): Promise<InsightRecord> {
  setStatus('storing');
  let insight: InsightRecord;
  try {
    insight = await storeInsight({
      tenantId: input.tenantId,
      farmId: input.farmId,
      barnId: input.barnId,
      window: input.window,
      requestId: input.requestId,
      workflowId: workflowInfo().workflowId,
      userId: input.userId,
      summary: analysed,
      predictions,
      generated,
    });
  } catch (err) {
    throw ApplicationFailure.create({
      type: 'InsightStoreFailed',
      message: `storing the insight failed: ${failureMessage(err)}`,
      cause: err instanceof Error ? err : undefined,
      nonRetryable: true,
    });
  }
  setStatus('stored');
  return insight;
}

/** Starts the notification child and returns once it has started; a child that cannot start never fails the insight. */
async function notifyIfAsked(input: GenerateInsightInput, insight: InsightRecord): Promise<GenerateInsightResult['notification']> {
  const notify = input.options.notify;
  if (!notify) return null;
  const { tenantId, requestId } = input;
  const workflowId = insightNotificationWorkflowId(tenantId, requestId);
  try {
    await startChild(notifyInsight, {
      workflowId,
      parentClosePolicy: ParentClosePolicy.ABANDON,
      memo: { requestId },
      args: [
        {
          tenantId,
          insightId: insight.id,
          farmId: input.farmId,
          barnId: input.barnId,
          channel: notify.channel,
          recipientUserId: notify.userId,
          title: insight.insight.title.slice(0, 200),
          body: insight.insight.summary,
          requestId,
        },
      ],
    });
    return { workflowId, started: true };
  } catch (err) {
    // E.g. a notification child of this request already ran: never a reason to fail the insight.
    log.warn('insight notification not started', { requestId, error: (err as Error).message });
    return { workflowId, started: false };
  }
}
