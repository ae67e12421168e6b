/**
 * The rollup publisher workflow on the time-skipping test server (the pinned binary from the
 * project venv; the SDK is never allowed to download one). Activities are fakes here; the real
 * activity is tested against Postgres in test/activities/telemetry-rollups.test.ts.
 */
import fs from 'node:fs';
import { randomUUID } from 'node:crypto';
import { Context, ApplicationFailure as ActivityApplicationFailure } from '@temporalio/activity';
import { ActivityFailure, ApplicationFailure, WorkflowFailedError } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker, Runtime, DefaultLogger, bundleWorkflowCode, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { temporalTestServerPath } from '../support/stack';
import type { RollupActivities, PublishClosedRollupsInput, PublishClosedRollupsResult } from '../../activities/ingest/rollups';
import { publishTelemetryRollups } from '../../workflows/ingest/rollups';
import { edgeDatabase } from '../../workflows/activity-options';

let env: TestWorkflowEnvironment;
let bundle: WorkflowBundleWithSourceMap;

beforeAll(async () => {
  // Expected failures (the retry tests) would otherwise print as warnings.
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  env = await TestWorkflowEnvironment.createTimeSkipping({
    server: { executable: { type: 'existing-path', path: temporalTestServerPath } },
  });
  bundle = await bundleWorkflowCode({ workflowsPath: require.resolve('../../workflows/edge'), logger: new DefaultLogger('WARN') });
});

afterAll(async () => {
  await env?.teardown();
});

/** Runs one publishTelemetryRollups workflow against the given fake activity. */
async function runWith(
  publishClosedRollups: RollupActivities['publishClosedRollups'],
  input: Parameters<typeof publishTelemetryRollups>[0] = { graceSeconds: 15 },
) {
  const taskQueue = `rollups-test-${randomUUID()}`;
  const activities: RollupActivities = { publishClosedRollups };
  const worker = await Worker.create({ connection: env.nativeConnection, taskQueue, workflowBundle: bundle, activities });
  const workflowId = `telemetry-rollups/test-${randomUUID()}`;
  return worker.runUntil(async () => {
    const handle = await env.client.workflow.start(publishTelemetryRollups, { taskQueue, workflowId, args: [input] });
    try {
      return { ok: true as const, result: await handle.result(), runId: handle.firstExecutionRunId };
    } catch (err) {
      return { ok: false as const, err, runId: handle.firstExecutionRunId };
    }
  });
}

describe('the time-skipping harness', () => {
  it('runs on the pinned test server binary, offline', () => {
    expect(fs.existsSync(temporalTestServerPath)).toBe(true);
    expect(env.supportsTimeSkipping).toBe(true);
  });
});

describe('publishTelemetryRollups', () => {
  it('calls the activity until a batch is not full, with one trace id naming the run', async () => {
    const calls: PublishClosedRollupsInput[] = [];
    const batches: PublishClosedRollupsResult[] = [
      { published: 500, invalid: 0, hasMore: true },
      { published: 499, invalid: 1, hasMore: true },
      { published: 7, invalid: 0, hasMore: false },
    ];
    const run = await runWith(
      async (input) => {
        calls.push(input);
        return batches[calls.length - 1];
      },
      { graceSeconds: 15, batchSize: 500 },
    );

    expect(run.ok).toBe(true);
    expect(run.ok && run.result).toEqual({ published: 1006, invalid: 1, batches: 3, stoppedEarly: false });
    expect(calls).toHaveLength(3);
    for (const c of calls) expect(c).toEqual({ graceSeconds: 15, limit: 500, traceId: `rollup-${run.runId}` });
  });

  it('stops after maxBatches so one run never grows an unbounded history', async () => {
    let calls = 0;
    const run = await runWith(
      async () => {
        calls++;
        return { published: 10, invalid: 0, hasMore: true };
      },
      { graceSeconds: 15, batchSize: 10, maxBatches: 4 },
    );

    expect(run.ok && run.result).toEqual({ published: 40, invalid: 0, batches: 4, stoppedEarly: true });
    expect(calls).toBe(4);
  });

  it('retries a failing activity on the preset schedule (1 s, 2 s, 4 s) and then succeeds', async () => {
    const attempts: { attempt: number; at: number }[] = [];
    const run = await runWith(async () => {
      const { attempt } = Context.current().info;
      attempts.push({ attempt, at: await env.currentTimeMs() });
      if (attempt < 4) throw new Error('connection terminated unexpectedly');
      return { published: 3, invalid: 0, hasMore: false };
    });

    expect(run.ok && run.result).toEqual({ published: 3, invalid: 0, batches: 1, stoppedEarly: false });
    expect(attempts.map((a) => a.attempt)).toEqual([1, 2, 3, 4]);
    const gapsSeconds = attempts.slice(1).map((a, i) => Math.round((a.at - attempts[i].at) / 1000));
    expect(gapsSeconds).toEqual([1, 2, 4]);
  });

  it(`gives up after the preset's ${edgeDatabase.retry.maximumAttempts} attempts and fails the run with a typed failure`, async () => {
    const attempts: number[] = [];
    const times: number[] = [];
    const run = await runWith(async () => {
      attempts.push(Context.current().info.attempt);
      times.push(await env.currentTimeMs());
      throw new Error('database is down');
    });

    expect(attempts).toEqual(Array.from({ length: edgeDatabase.retry.maximumAttempts }, (_, i) => i + 1));
    // 1 + 2 + 4 + 8 s of backoff, skipped rather than waited for.
    expect(Math.round((times[times.length - 1] - times[0]) / 1000)).toBe(15);
    expect(run.ok).toBe(false);
    const err = !run.ok ? run.err : undefined;
    expect(err).toBeInstanceOf(WorkflowFailedError);
    const failure = (err as WorkflowFailedError).cause;
    expect(failure).toBeInstanceOf(ApplicationFailure);
    expect((failure as ApplicationFailure).type).toBe('RollupPublicationFailed');
    const activityFailure = failure?.cause as ActivityFailure;
    expect(activityFailure).toBeInstanceOf(ActivityFailure);
    expect((activityFailure.cause as Error).message).toBe('database is down');
  });

  it('does not retry a non-retryable failure', async () => {
    let calls = 0;
    const run = await runWith(async () => {
      calls++;
      throw ActivityApplicationFailure.nonRetryable('limit must be >= 1', 'InvalidRollupRequest');
    });
    expect(run.ok).toBe(false);
    expect(calls).toBe(1);
  });
});
