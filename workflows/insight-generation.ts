/**
 * One insight generation (spec §5, DESIGN §3): aggregate → (ML predict) → LLM analysis → store →
 * best-effort notification, each step an activity with its own preset
 * (workflows/insight-activity-options.ts). Started by POST /api/v1/dashboard/insights/generate
 * with the id insight/<tenant>/<request id> (temporal/workflow-ids.ts), which waits for the result.
 *
 * - Predictions are optional: when asked for and the ML service fails, the insight is written
 *   without them (and says so in `predictionsError`).
 * - The LLM activity answers with the template writer itself when the model is late or wrong; if
 *   the activity fails altogether, the workflow asks the template writer (a local activity). Either
 *   way the stored insight records the generator and why the LLM was not used.
 * - The notification is an abandoned child workflow: the result is returned as soon as the child
 *   has started, never after the notification (workflows/insight-notification.ts).
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
import type { createInsightActivities } from '../activities/insight-generation';
import type { FeatureSummary, MlPredictions } from '../insights/feature-summary';
import type { InsightRecord } from '../insights/insight-store';
import type { GeneratedInsight } from '../insights/insight-schema';
import type { NotificationChannel } from '../notifications/model';
import { farmiqStatus } from '../temporal/search-attributes';
import { insightNotificationWorkflowId } from '../temporal/workflow-ids';
import { insightAggregation, insightStore, llmAnalysis, mlPrediction, templateFallback } from './insight-activity-options';
import { failureMessage, failureType } from './insight-failures';
import { notifyInsight } from './insight-notification';

type Activities = ReturnType<typeof createInsightActivities>;

const { aggregateFeatureSummary } = proxyActivities<Activities>(insightAggregation);
const { predict } = proxyActivities<Activities>(mlPrediction);
const { analyzeWithLlm } = proxyActivities<Activities>(llmAnalysis);
const { storeInsight } = proxyActivities<Activities>(insightStore);
const { writeTemplateInsight } = proxyLocalActivities<Activities>(templateFallback);

export interface GenerateInsightInput {
  tenantId: string;
  farmId: string;
  barnId: string | null;
  /** ISO 8601 instants, from < to. */
  window: { from: string; to: string };
  requestId: string;
  /** The user who asked (insights.created_by); null for a system-generated insight. */
  userId: string | null;
  options: {
    predictions: boolean;
    forecastDays?: number;
    targetWeightKg?: number | null;
    /** null: no notification. */
    notify: { channel: NotificationChannel; userId: string | null } | null;
  };
}

export interface GenerateInsightResult {
  insight: InsightRecord;
  /** Set when predictions were asked for but could not be made. */
  predictionsError: string | null;
  /** The notification child, when one was asked for and started (it runs on after this returns). */
  notification: { workflowId: string; started: boolean } | null;
}

export type InsightStatus = 'aggregating' | 'predicting' | 'analyzing' | 'storing' | 'stored';

function setStatus(status: InsightStatus): void {
  upsertSearchAttributes([{ key: farmiqStatus, value: status }]);
}

export async function generateInsight(input: GenerateInsightInput): Promise<GenerateInsightResult> {
  const { requestId, tenantId } = input;

  setStatus('aggregating');
  let summary: FeatureSummary;
  try {
    summary = await aggregateFeatureSummary({
      tenantId,
      farmId: input.farmId,
      barnId: input.barnId,
      window: input.window,
      forecastDays: input.options.forecastDays,
      targetWeightKg: input.options.targetWeightKg ?? null,
      requestId,
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

  let predictions: MlPredictions | null = null;
  let predictionsError: string | null = null;
  if (input.options.predictions) {
    setStatus('predicting');
    try {
      predictions = await predict({ summary, requestId });
      if (predictions === null) predictionsError = 'no barn has an animal age and a weighing to predict from';
    } catch (err) {
      predictionsError = failureMessage(err);
      log.warn('ML predictions unavailable; the insight is written without them', { requestId, error: predictionsError });
    }
  }

  // What the generator sees: the summary, with the predictions folded in when there are any.
  const analysed: FeatureSummary = predictions ? { ...summary, predictions } : summary;

  setStatus('analyzing');
  let generated: GeneratedInsight;
  try {
    generated = await analyzeWithLlm({ summary: analysed, requestId });
  } catch (err) {
    if (failureType(err) === 'InvalidFeatureSummary') {
      throw ApplicationFailure.create({ type: 'InvalidFeatureSummary', message: failureMessage(err), nonRetryable: true });
    }
    generated = await writeTemplateInsight({ summary: analysed, requestId, reason: 'llm_activity_failed', detail: failureMessage(err), model: null });
  }

  setStatus('storing');
  let insight: InsightRecord;
  try {
    insight = await storeInsight({
      tenantId,
      farmId: input.farmId,
      barnId: input.barnId,
      window: input.window,
      requestId,
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

  let notification: GenerateInsightResult['notification'] = null;
  if (input.options.notify) {
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
            channel: input.options.notify.channel,
            recipientUserId: input.options.notify.userId,
            title: insight.insight.title.slice(0, 200),
            body: insight.insight.summary,
            requestId,
          },
        ],
      });
      notification = { workflowId, started: true };
    } catch (err) {
      // E.g. a notification child of this request already ran: never a reason to fail the insight.
      log.warn('insight notification not started', { requestId, error: (err as Error).message });
      notification = { workflowId, started: false };
    }
  }

  return { insight, predictionsError, notification };
}
