/**
 * The insight workflow when the LLM activity itself hangs past its start-to-close timeout (25 s,
 * workflows/insights/activity-options.ts llmAnalysis) on both attempts: the workflow answers with
 * the template writer and records why. On the time-skipping test server, with a server of its own:
 * a running activity holds the server's clock, and the hanging fake releases it by sleeping through
 * the environment, so the timeouts pass in skipped time — which other tests' leftovers in a shared
 * server were seen to disturb.
 */
import { randomUUID } from 'node:crypto';
import { Context } from '@temporalio/activity';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import type { InsightActivities } from '../../activities/insights/generation';
import type { InsightNotificationActivities } from '../../activities/insights/notification';
import type { InsightRecord } from '../../insights/insight-store';
import { templateInsight } from '../../insights/llm/analyzer';
import { farmiqSearchAttributes } from '../../domain/temporal/search-attributes';
import { insightWorkflowId } from '../../domain/temporal/workflow-ids';
import { llmAnalysis } from '../../workflows/insights/activity-options';
import type { generateInsight } from '../../workflows/insights/generation';
import { sampleSummary } from '../insights/fixtures';
import { temporalTestServerPath } from '../support/stack';

let env: TestWorkflowEnvironment;

beforeAll(async () => {
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  env = await TestWorkflowEnvironment.createTimeSkipping({
    server: { executable: { type: 'existing-path', path: temporalTestServerPath } },
  });
  await env.connection.operatorService.addSearchAttributes({
    namespace: env.namespace ?? 'default',
    searchAttributes: Object.fromEntries(farmiqSearchAttributes.map((k) => [k.name, 2 /* KEYWORD */])),
  });
});

afterAll(async () => {
  await env?.teardown();
});

it(`falls back to the template writer when analyzeWithLlm hangs past its ${llmAnalysis.startToCloseTimeout} timeout, twice`, async () => {
  const summary = sampleSummary();
  const llmAttempts: number[] = [];
  const fallbacks: string[] = [];
  const activities: InsightActivities & InsightNotificationActivities = {
    aggregateFeatureSummary: async () => summary,
    predict: async () => null,
    analyzeWithLlm: async () => {
      llmAttempts.push(Context.current().info.attempt);
      await env.sleep('60 seconds'); // well past the 25 s timeout; releases the test server's clock
      throw new Error('answered far too late');
    },
    writeTemplateInsight: async (i) => {
      fallbacks.push(i.detail);
      return templateInsight(i.summary, { reason: i.reason, detail: i.detail, model: i.model });
    },
    storeInsight: async (i): Promise<InsightRecord> => ({
      id: randomUUID(),
      tenant_id: i.tenantId,
      farm_id: i.farmId,
      barn_id: i.barnId,
      window: i.window,
      request_id: i.requestId,
      workflow_id: i.workflowId,
      generator: i.generated.generator,
      model: i.generated.model,
      fallback: i.generated.fallback,
      insight: i.generated.insight,
      summary: i.summary,
      predictions: i.predictions,
      created_by: i.userId,
      created_at: '2026-03-15T00:00:00.000000Z',
    }),
    sendInsightNotification: async () => ({ notificationId: randomUUID(), status: 'sent', duplicate: false }),
  };
  const taskQueue = `insights-llm-timeout-${randomUUID()}`;
  const worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    workflowBundle: await bundleWorkflowCode({ workflowsPath: require.resolve('../../workflows/cloud'), logger: new DefaultLogger('WARN') }),
    activities,
  });
  const tenantId = randomUUID();
  const requestId = `req-${randomUUID()}`;
  const wallStart = Date.now();
  const { result, history } = await worker.runUntil(async () => {
    const handle = await env.client.workflow.start<typeof generateInsight>('generateInsight', {
      taskQueue,
      workflowId: insightWorkflowId(tenantId, requestId),
      args: [
        {
          tenantId,
          farmId: 'farm-7',
          barnId: null,
          window: { from: '2026-03-01T00:00:00.000Z', to: '2026-03-15T00:00:00.000Z' },
          requestId,
          userId: null,
          options: { predictions: false, notify: null },
        },
      ],
    });
    return { result: await handle.result(), history: await handle.fetchHistory() };
  });

  expect(llmAttempts).toEqual([1, 2]);
  // A local activity is at-least-once (here the skipped clock can time out the workflow task that ran
  // it); the template writer is pure, so a second run writes the same insight.
  expect(fallbacks.length).toBeGreaterThanOrEqual(1);
  expect(new Set(fallbacks)).toEqual(new Set(['activity analyzeWithLlm timed out (start-to-close timeout)']));
  expect(result.insight).toMatchObject({
    generator: 'template',
    model: null,
    fallback: { reason: 'llm_activity_failed', detail: 'activity analyzeWithLlm timed out (start-to-close timeout)' },
  });
  expect(result.insight.insight).toEqual(templateInsight(summary).insight);
  // In the history: scheduled once, timed out (start-to-close) no sooner than 25 s + 1 s backoff +
  // 25 s = 51 s of server time — skipped, not waited for. (Not exactly 51: while the first attempt's
  // 60 s sleep keeps the clock unlocked, the server may run ahead to its end before the worker picks
  // up attempt 2, which then times out 25 s later: at most 60 + 25 s.)
  const events = history.events ?? [];
  const scheduled = events.find((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'analyzeWithLlm');
  const timedOut = events.find((e) => e.activityTaskTimedOutEventAttributes);
  expect(timedOut?.activityTaskTimedOutEventAttributes?.failure?.cause?.timeoutFailureInfo?.timeoutType).toBe(1 /* START_TO_CLOSE */);
  const seconds = (e: typeof scheduled) => Number(e?.eventTime?.seconds ?? 0) + (e?.eventTime?.nanos ?? 0) / 1e9;
  const elapsed = Math.round(seconds(timedOut) - seconds(scheduled));
  expect(elapsed).toBeGreaterThanOrEqual(51);
  expect(elapsed).toBeLessThanOrEqual(86);
  expect(Date.now() - wallStart).toBeLessThan(20_000);
});
