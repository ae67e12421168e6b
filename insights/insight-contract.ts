/**
 * The contract of one insight generation (spec §5), below everything that uses it: the input and
 * result of workflows/insights/generation.ts, the FarmiqStatus values it moves through, and its
 * workflow type. POST /api/v1/dashboard/insights/generate (gateways/http/insights/insights-router.ts) starts
 * it by name and waits for the result; nothing outside the cloud worker imports the workflow file.
 *
 * It lives in the insights context beside the types it is made of (the stored insight, the
 * notification channel). Workflow-bundle safe: types and one name only.
 */
import type { NotificationChannel } from '../notifications/model';
import type { InsightRecord } from './insight-store';

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

/** The steps of a run, as its FarmiqStatus search attribute shows them. */
export type InsightStatus = 'aggregating' | 'predicting' | 'analyzing' | 'storing' | 'stored';

/** The workflow type (its export name in workflows/cloud.ts): one run per tenant and request. */
export const generateInsightWorkflowType = 'generateInsight';
export type GenerateInsightWorkflow = (input: GenerateInsightInput) => Promise<GenerateInsightResult>;
