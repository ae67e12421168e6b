/**
 * The insight workflow on the time-skipping test server (the pinned binary from the project venv;
 * the SDK is never allowed to download one). Activities are typed fakes here; the real ones are
 * tested against Postgres in test/insights/aggregation.test.ts.
 *
 * Proves: the steps run in order with the request id; each activity retries on its own preset
 * (gaps measured in skipped server time) and a non-retryable failure is not retried; an LLM step
 * that fails or times out ends in the template writer with the reason recorded; a stuck or failing
 * notification path never delays or fails the insight; a repeated request id never runs twice.
 * The LLM activity timing out is in insight-llm-timeout.test.ts (it needs a test server of its own).
 */
import { randomUUID } from 'node:crypto';
import { Context } from '@temporalio/activity';
import { ApplicationFailure as ActivityApplicationFailure } from '@temporalio/activity';
import { ApplicationFailure, WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, DefaultLogger, Runtime, Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import type { InsightActivities } from '../../activities/insights/generation';
import type { InsightNotificationActivities } from '../../activities/insights/notification';
import type { MlPredictions } from '../../insights/feature-summary';
import type { InsightRecord, StoreInsightInput } from '../../insights/insight-store';
import { templateInsight } from '../../insights/llm/analyzer';
import { farmiqSearchAttributes, farmiqStatus } from '../../domain/temporal/search-attributes';
import { insightNotificationWorkflowId, insightWorkflowId } from '../../domain/temporal/workflow-ids';
import { insightAggregation, insightStore, llmAnalysis, mlPrediction, notificationDelivery } from '../../workflows/insights/activity-options';
import type { GenerateInsightInput, GenerateInsightResult } from '../../insights/insight-contract';
import type { generateInsight } from '../../workflows/insights/generation';
import { sampleSummary } from '../insights/fixtures';
import { temporalTestServerPath } from '../support/stack';

type Activities = InsightActivities & InsightNotificationActivities;

let env: TestWorkflowEnvironment;
let bundle: WorkflowBundleWithSourceMap;
const summary = sampleSummary();
const tenantId = randomUUID();

beforeAll(async () => {
  // Expected failures (the retry tests) would otherwise print as warnings.
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  env = await TestWorkflowEnvironment.createTimeSkipping({
    server: { executable: { type: 'existing-path', path: temporalTestServerPath } },
  });
  // The test server knows no custom search attributes until told (a real server gets them from
  // infra/temporal/search-attributes.txt).
  await env.connection.operatorService.addSearchAttributes({
    namespace: env.namespace ?? 'default',
    searchAttributes: Object.fromEntries(farmiqSearchAttributes.map((k) => [k.name, 2 /* KEYWORD */])),
  });
  bundle = await bundleWorkflowCode({ workflowsPath: require.resolve('../../workflows/cloud'), logger: new DefaultLogger('WARN') });
});

afterAll(async () => {
  await env?.teardown();
});

interface Call {
  name: keyof Activities;
  attempt: number;
  at: number;
  requestId: string;
}

const predictions: MlPredictions = {
  model: 'growth-reference/1',
  barns: [
    { barn_id: 'barn-1', performance_index: 1.01, horizons: [{ days: 7, date: '2026-03-21', weight_kg: 2.2 }], days_to_target: 9.5, feed_needed_kg: 12000 },
  ],
};

function recordOf(input: StoreInsightInput): InsightRecord {
  return {
    id: randomUUID(),
    tenant_id: input.tenantId,
    farm_id: input.farmId,
    barn_id: input.barnId,
    window: input.window,
    request_id: input.requestId,
    workflow_id: input.workflowId,
    generator: input.generated.generator,
    model: input.generated.model,
    fallback: input.generated.fallback,
    insight: input.generated.insight,
    summary: input.summary,
    predictions: input.predictions,
    created_by: input.userId,
    created_at: '2026-03-15T00:00:00.000000Z',
  };
}

/** Fakes that succeed, recording each call with its attempt and (skipped) server time. */
function fakes(calls: Call[], overrides: Partial<Activities> = {}): Activities {
  const record = async (name: keyof Activities, requestId: string) => {
    calls.push({ name, attempt: Context.current().info.attempt, at: await env.currentTimeMs(), requestId });
  };
  const base: Activities = {
    aggregateFeatureSummary: async (i) => (await record('aggregateFeatureSummary', i.requestId), summary),
    predict: async (i) => (await record('predict', i.requestId), predictions),
    analyzeWithLlm: async (i) => (await record('analyzeWithLlm', i.requestId), templateInsight(i.summary)),
    writeTemplateInsight: async (i) => (
      await record('writeTemplateInsight', i.requestId),
      templateInsight(i.summary, { reason: i.reason, detail: i.detail, model: i.model })
    ),
    storeInsight: async (i) => (await record('storeInsight', i.requestId), recordOf(i)),
    sendInsightNotification: async (i) => (
      await record('sendInsightNotification', i.requestId),
      { notificationId: randomUUID(), status: 'sent', duplicate: false }
    ),
  };
  const wrapped = { ...base } as Record<string, unknown>;
  for (const [name, fn] of Object.entries(overrides)) {
    wrapped[name] = async (input: { requestId: string }) => {
      await record(name as keyof Activities, input.requestId);
      return (fn as (i: unknown) => unknown)(input);
    };
  }
  return wrapped as unknown as Activities;
}

function inputFor(requestId: string, options: Partial<GenerateInsightInput['options']> = {}): GenerateInsightInput {
  return {
    tenantId,
    farmId: 'farm-7',
    barnId: null,
    window: { from: '2026-03-01T00:00:00.000Z', to: '2026-03-15T00:00:00.000Z' },
    requestId,
    userId: randomUUID(),
    options: { predictions: false, notify: null, ...options },
  };
}

interface Run {
  ok: boolean;
  result?: GenerateInsightResult;
  err?: unknown;
  handle: WorkflowHandle<typeof generateInsight>;
  /** Server-time milliseconds from start to close of the insight run. */
  serverMs: number;
  wallMs: number;
}

async function startInsight(taskQueue: string, input: GenerateInsightInput) {
  return env.client.workflow.start<typeof generateInsight>('generateInsight', {
    taskQueue,
    workflowId: insightWorkflowId(input.tenantId, input.requestId),
    args: [input],
    memo: { requestId: input.requestId },
    workflowIdConflictPolicy: 'USE_EXISTING',
    workflowIdReusePolicy: 'ALLOW_DUPLICATE_FAILED_ONLY',
  });
}

/** Runs one generateInsight with the given activities; `after` runs with the worker still up. */
async function runWith(activities: Activities, input: GenerateInsightInput, after?: (run: Run) => Promise<void>): Promise<Run> {
  const taskQueue = `insights-test-${randomUUID()}`;
  const worker = await Worker.create({ connection: env.nativeConnection, taskQueue, workflowBundle: bundle, activities });
  return worker.runUntil(async () => {
    const wallStart = Date.now();
    const handle = await startInsight(taskQueue, input);
    let run: Run;
    try {
      const result = await handle.result();
      run = { ok: true, result, handle, serverMs: 0, wallMs: Date.now() - wallStart };
    } catch (err) {
      run = { ok: false, err, handle, serverMs: 0, wallMs: Date.now() - wallStart };
    }
    const d = await handle.describe();
    run.serverMs = (d.closeTime?.getTime() ?? 0) - d.startTime.getTime();
    if (after) await after(run);
    return run;
  });
}

const gapsSeconds = (calls: Call[], name: keyof Activities) => {
  const at = calls.filter((c) => c.name === name).map((c) => c.at);
  return at.slice(1).map((t, i) => Math.round((t - at[i]) / 1000));
};

const attempts = (calls: Call[], name: keyof Activities) => calls.filter((c) => c.name === name).map((c) => c.attempt);

function failureOf(run: Run): ApplicationFailure {
  expect(run.err).toBeInstanceOf(WorkflowFailedError);
  const cause = (run.err as WorkflowFailedError).cause;
  expect(cause).toBeInstanceOf(ApplicationFailure);
  return cause as ApplicationFailure;
}

describe('generateInsight', () => {
  it('aggregates, predicts, analyses and stores, with the request id on every step and in memo and search attributes', async () => {
    const calls: Call[] = [];
    const requestId = `req-${randomUUID()}`;
    const run = await runWith(fakes(calls), inputFor(requestId, { predictions: true }));
    expect(run.ok).toBe(true);
    expect(calls.map((c) => c.name)).toEqual(['aggregateFeatureSummary', 'predict', 'analyzeWithLlm', 'storeInsight']);
    expect(new Set(calls.map((c) => c.requestId))).toEqual(new Set([requestId]));
    const { insight, predictionsError, notification } = run.result!;
    expect(insight).toMatchObject({
      request_id: requestId,
      generator: 'template',
      fallback: null,
      predictions,
      workflow_id: insightWorkflowId(tenantId, requestId),
    });
    // The generator saw the summary with the predictions folded in, and that is what is stored.
    expect(insight.summary).toEqual({ ...summary, predictions });
    expect(predictionsError).toBeNull();
    expect(notification).toBeNull();
    const d = await run.handle.describe();
    expect(d.memo).toEqual({ requestId });
    expect(d.typedSearchAttributes.get(farmiqStatus)).toBe('stored');
  });

  describe('each activity retries on its own preset', () => {
    it(`aggregateFeatureSummary: 1 s, 2 s, then succeeds on attempt ${insightAggregation.retry.maximumAttempts}`, async () => {
      const calls: Call[] = [];
      const run = await runWith(
        fakes(calls, {
          aggregateFeatureSummary: async () => {
            if (Context.current().info.attempt < insightAggregation.retry.maximumAttempts) throw new Error('connection terminated unexpectedly');
            return summary;
          },
        }),
        inputFor(`req-${randomUUID()}`),
      );
      expect(run.ok).toBe(true);
      expect(attempts(calls, 'aggregateFeatureSummary')).toEqual([1, 2, 3]);
      expect(gapsSeconds(calls, 'aggregateFeatureSummary')).toEqual([1, 2]);
    });

    it('aggregateFeatureSummary: gives up after 3 attempts with InsightAggregationFailed; FarmNotFound is not retried', async () => {
      const calls: Call[] = [];
      const run = await runWith(
        fakes(calls, {
          aggregateFeatureSummary: async () => {
            throw new Error('database is down');
          },
        }),
        inputFor(`req-${randomUUID()}`),
      );
      expect(attempts(calls, 'aggregateFeatureSummary')).toEqual([1, 2, 3]);
      expect(calls.some((c) => c.name === 'storeInsight')).toBe(false);
      expect(failureOf(run).type).toBe('InsightAggregationFailed');

      const calls2: Call[] = [];
      const run2 = await runWith(
        fakes(calls2, {
          aggregateFeatureSummary: async () => {
            throw ActivityApplicationFailure.nonRetryable('farm farm-7 does not exist for this tenant', 'FarmNotFound');
          },
        }),
        inputFor(`req-${randomUUID()}`),
      );
      expect(attempts(calls2, 'aggregateFeatureSummary')).toEqual([1]);
      expect(failureOf(run2)).toMatchObject({ type: 'FarmNotFound', message: 'farm farm-7 does not exist for this tenant' });
    });

    it(`predict: retried after 1 s; after ${mlPrediction.retry.maximumAttempts} failed attempts the insight is written without predictions`, async () => {
      const calls: Call[] = [];
      const run = await runWith(
        fakes(calls, {
          predict: async () => {
            throw new Error('ML service answered 503');
          },
        }),
        inputFor(`req-${randomUUID()}`, { predictions: true }),
      );
      expect(run.ok).toBe(true);
      expect(attempts(calls, 'predict')).toEqual([1, 2]);
      expect(gapsSeconds(calls, 'predict')).toEqual([1]);
      expect(run.result!.insight.predictions).toBeNull();
      expect(run.result!.insight.summary.predictions).toBeUndefined();
      expect(run.result!.predictionsError).toBe('ML service answered 503');

      const calls2: Call[] = [];
      const run2 = await runWith(
        fakes(calls2, {
          predict: async () => {
            if (Context.current().info.attempt === 1) throw new Error('reset');
            return predictions;
          },
        }),
        inputFor(`req-${randomUUID()}`, { predictions: true }),
      );
      expect(attempts(calls2, 'predict')).toEqual([1, 2]);
      expect(run2.result!.insight.predictions).toEqual(predictions);
    });

    it('analyzeWithLlm: retried after 1 s and then used', async () => {
      const calls: Call[] = [];
      const run = await runWith(
        fakes(calls, {
          analyzeWithLlm: async (i) => {
            if (Context.current().info.attempt === 1) throw new Error('worker lost');
            return { ...templateInsight(i.summary), generator: 'llm' as const, model: 'llama3.1:8b' };
          },
        }),
        inputFor(`req-${randomUUID()}`),
      );
      expect(attempts(calls, 'analyzeWithLlm')).toEqual([1, 2]);
      expect(gapsSeconds(calls, 'analyzeWithLlm')).toEqual([1]);
      expect(run.result!.insight).toMatchObject({ generator: 'llm', model: 'llama3.1:8b', fallback: null });
      expect(calls.some((c) => c.name === 'writeTemplateInsight')).toBe(false);
    });

    it(`storeInsight: 1, 2, 4, 8 s, then stored on attempt ${insightStore.retry.maximumAttempts}; one more failure fails the run with InsightStoreFailed`, async () => {
      const calls: Call[] = [];
      const run = await runWith(
        fakes(calls, {
          storeInsight: async (i) => {
            if (Context.current().info.attempt < insightStore.retry.maximumAttempts) throw new Error('could not serialize access');
            return recordOf(i);
          },
        }),
        inputFor(`req-${randomUUID()}`),
      );
      expect(run.ok).toBe(true);
      expect(attempts(calls, 'storeInsight')).toEqual([1, 2, 3, 4, 5]);
      expect(gapsSeconds(calls, 'storeInsight')).toEqual([1, 2, 4, 8]);

      const calls2: Call[] = [];
      const run2 = await runWith(
        fakes(calls2, {
          storeInsight: async () => {
            throw new Error('disk full');
          },
        }),
        inputFor(`req-${randomUUID()}`),
      );
      expect(attempts(calls2, 'storeInsight')).toEqual([1, 2, 3, 4, 5]);
      expect(failureOf(run2).type).toBe('InsightStoreFailed');
    });

    it(`sendInsightNotification: retried in its own workflow on 1, 2, 4, … s (capped at 60 s), ${notificationDelivery.retry.maximumAttempts} attempts, then given up without failing`, async () => {
      const calls: Call[] = [];
      const requestId = `req-${randomUUID()}`;
      const run = await runWith(
        fakes(calls, {
          sendInsightNotification: async () => {
            throw new Error('notification service unavailable');
          },
        }),
        inputFor(requestId, { notify: { channel: 'in_app', userId: null } }),
        async () => {
          const child = await env.client.workflow.getHandle(insightNotificationWorkflowId(tenantId, requestId)).result();
          expect(child).toEqual({ sent: false, notificationId: null, error: 'notification service unavailable' });
        },
      );
      expect(run.ok).toBe(true);
      expect(attempts(calls, 'sendInsightNotification')).toEqual(Array.from({ length: 15 }, (_, i) => i + 1));
      expect(gapsSeconds(calls, 'sendInsightNotification')).toEqual([1, 2, 4, 8, 16, 32, 60, 60, 60, 60, 60, 60, 60, 60]);
    });
  });

  describe('the LLM step falls back to the template writer', () => {
    it(`when analyzeWithLlm keeps failing (${llmAnalysis.retry.maximumAttempts} attempts), recording llm_activity_failed`, async () => {
      const calls: Call[] = [];
      const run = await runWith(
        fakes(calls, {
          analyzeWithLlm: async () => {
            throw new Error('LLM service answered 502');
          },
        }),
        inputFor(`req-${randomUUID()}`),
      );
      expect(run.ok).toBe(true);
      expect(attempts(calls, 'analyzeWithLlm')).toEqual([1, 2]);
      expect(calls.filter((c) => c.name === 'writeTemplateInsight')).toHaveLength(1);
      expect(run.result!.insight).toMatchObject({ generator: 'template', fallback: { reason: 'llm_activity_failed', detail: 'LLM service answered 502' } });
      expect(run.result!.insight.insight).toEqual(templateInsight(summary).insight);
    });

    it('when the activity itself answered with the template (model rejected), that reason is what is stored', async () => {
      const calls: Call[] = [];
      const run = await runWith(
        fakes(calls, {
          analyzeWithLlm: async (i) => templateInsight(i.summary, { reason: 'llm_numbers_not_in_summary', detail: 'quoted 7.3', model: 'gpt-4o-mini' }),
        }),
        inputFor(`req-${randomUUID()}`),
      );
      expect(run.result!.insight).toMatchObject({
        generator: 'template',
        model: null,
        fallback: { reason: 'llm_numbers_not_in_summary', model: 'gpt-4o-mini' },
      });
      expect(calls.some((c) => c.name === 'writeTemplateInsight')).toBe(false);
    });
  });

  describe('the notification is best-effort', () => {
    it('a stuck notification path does not delay the insight: it returns at once while the notification is still trying', async () => {
      const calls: Call[] = [];
      const requestId = `req-${randomUUID()}`;
      const run = await runWith(
        fakes(calls, {
          sendInsightNotification: () =>
            new Promise((_resolve, reject) => {
              Context.current().cancellationSignal.addEventListener('abort', () => reject(new Error('cancelled')));
            }),
        }),
        inputFor(requestId, { notify: { channel: 'email', userId: randomUUID() } }),
        async () => {
          const child = await env.client.workflow.getHandle(insightNotificationWorkflowId(tenantId, requestId)).describe();
          expect(child.status.name).toBe('RUNNING');
        },
      );
      expect(run.ok).toBe(true);
      expect(run.result!.notification).toEqual({ workflowId: insightNotificationWorkflowId(tenantId, requestId), started: true });
      // Closed before the notification's 15 s start-to-close timeout could have passed on the
      // (time-skipping) server clock: an insight that waited for it would show ≥ 15 s. Real time is
      // not asserted (a loaded machine is not a failure).
      expect(run.serverMs).toBeLessThan(10_000);
    });

    it('a notification service that is down does not fail the insight', async () => {
      const calls: Call[] = [];
      const run = await runWith(
        fakes(calls, {
          sendInsightNotification: async () => {
            throw new Error('ECONNREFUSED');
          },
        }),
        inputFor(`req-${randomUUID()}`, { notify: { channel: 'in_app', userId: null } }),
      );
      expect(run.ok).toBe(true);
      expect(run.result!.insight.generator).toBe('template');
      // Not held by the notification's retries (1 s, 2 s, 4 s … on the skipping server clock).
      expect(run.serverMs).toBeLessThan(10_000);
    });

    it('a notification the service refuses for good is not retried', async () => {
      const calls: Call[] = [];
      const requestId = `req-${randomUUID()}`;
      await runWith(
        fakes(calls, {
          sendInsightNotification: async () => {
            throw ActivityApplicationFailure.nonRetryable('no such recipient user in this tenant', 'NotificationRejected');
          },
        }),
        inputFor(requestId, { notify: { channel: 'email', userId: randomUUID() } }),
        async () => {
          const child = await env.client.workflow.getHandle(insightNotificationWorkflowId(tenantId, requestId)).result();
          expect(child).toMatchObject({ sent: false });
        },
      );
      expect(attempts(calls, 'sendInsightNotification')).toEqual([1]);
    });
  });

  it('a repeated request id joins the running run, and is refused once it completed (the gateway then returns that result)', async () => {
    const calls: Call[] = [];
    const taskQueue = `insights-test-${randomUUID()}`;
    const input = inputFor(`req-${randomUUID()}`);
    const worker = await Worker.create({ connection: env.nativeConnection, taskQueue, workflowBundle: bundle, activities: fakes(calls) });
    await worker.runUntil(async () => {
      const first = await startInsight(taskQueue, input);
      const second = await startInsight(taskQueue, input); // USE_EXISTING: the same run
      expect(second.firstExecutionRunId).toBe(first.firstExecutionRunId);
      const [a, b] = await Promise.all([first.result(), second.result()]);
      expect(b).toEqual(a);
      // Completed: ALLOW_DUPLICATE_FAILED_ONLY refuses a new run of the same id.
      await expect(startInsight(taskQueue, input)).rejects.toBeInstanceOf(WorkflowExecutionAlreadyStartedError);
      expect(await env.client.workflow.getHandle<typeof generateInsight>(first.workflowId).result()).toEqual(a);
    });
    expect(calls.filter((c) => c.name === 'aggregateFeatureSummary')).toHaveLength(1);
    expect(calls.filter((c) => c.name === 'storeInsight')).toHaveLength(1);
  });

  it('a failed run may be started again with the same request id', async () => {
    const calls: Call[] = [];
    const input = inputFor(`req-${randomUUID()}`);
    const failed = await runWith(
      fakes(calls, {
        aggregateFeatureSummary: async () => {
          throw ActivityApplicationFailure.nonRetryable('boom', 'Boom');
        },
      }),
      input,
    );
    expect(failed.ok).toBe(false);
    const again = await runWith(fakes(calls), input);
    expect(again.ok).toBe(true);
    expect(again.handle.workflowId).toBe(failed.handle.workflowId);
  });
});
