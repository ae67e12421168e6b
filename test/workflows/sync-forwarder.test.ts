/**
 * The sync forwarder workflow on the time-skipping test server (the pinned binary; the SDK never
 * downloads one). Activities are typed fakes of createSyncActivities' return type; the real ones are
 * tested against Postgres and a cloud stub in test/activities/sync-*.test.ts.
 *
 * The forwarder never ends on its own, so each test drives it (signals, env.sleep to skip time),
 * watches it through its fakes and the status query; the test server is torn down after each test.
 */
import { randomUUID } from 'node:crypto';
import { Context } from '@temporalio/activity';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime, Worker, bundleWorkflowCode, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import type { WorkflowHandle } from '@temporalio/client';
import { temporalTestServerPath } from '../support/stack';
import { until } from '../support/until';
import type { ClaimSyncBatchInput, ClaimedSyncBatch, SendSyncBatchInput, SentSyncBatch, SyncActivities } from '../../activities/sync/forwarder';
import { cloudBatchFailed, cloudMisconfigured, cloudUnavailable } from '../../sync/sync-failures';
import { syncRetryPolicy } from '../../domain/sync/retry-policy';
import {
  connectivityRestoredSignal,
  pauseSyncSignal,
  resumeSyncSignal,
  syncStatusQuery,
  type SyncForwarderConfig,
  type SyncStatus,
} from '../../sync/sync-contract';
import type { syncForwarder } from '../../workflows/sync/forwarder';
import { syncForwarderWorkflowId } from '../../domain/temporal/workflow-ids';

let env: TestWorkflowEnvironment;
let bundle: WorkflowBundleWithSourceMap;

beforeAll(async () => {
  Runtime.install({ logger: new DefaultLogger((process.env.SYNC_TEST_LOG as 'WARN') ?? 'ERROR') });
  bundle = await bundleWorkflowCode({ workflowsPath: require.resolve('../../workflows/edge'), logger: new DefaultLogger('WARN') });
});

// A test server per test: a forwarder never ends, and the time-skipping server keeps its clock
// locked for any activity or workflow task left outstanding when a test stops, which would turn
// the next test's skipped minutes into real ones.
beforeEach(async () => {
  env = await TestWorkflowEnvironment.createTimeSkipping({
    server: { executable: { type: 'existing-path', path: temporalTestServerPath } },
  });
});

afterEach(async () => {
  await env?.teardown();
});

const tenant = '018f1a84-bb0e-7d3f-b2e4-9e8b5f8e0002';

function batch(input: ClaimSyncBatchInput, ids: string[], priorAttempts = 0): ClaimedSyncBatch {
  return { batchId: input.batchId, lane: input.lane, ids, tenantId: ids.length ? tenant : null, priorAttempts, monitoringOnly: false, oldestOccurredAt: null };
}

const empty = (input: ClaimSyncBatchInput) => batch(input, []);

function sent(input: SendSyncBatchInput, attempt = 1): SentSyncBatch {
  const n = input.ids.length;
  return {
    attempt,
    delivered: n,
    accepted: n,
    duplicate: 0,
    rejected: 0,
    acked: n,
    failed: 0,
    notHeld: 0,
    alreadySettled: 0,
    deferred: 0,
    monitoringEvents: 2,
  };
}

/** Every activity, faked; a test overrides what it is about. */
function fakes(overrides: Partial<SyncActivities>): SyncActivities {
  return {
    checkSyncConfiguration: async () => ({ configured: true, keyId: 'key-1', cloudUrl: 'http://cloud.test' }),
    releaseExpiredSyncLeases: async () => ({ released: 0 }),
    claimSyncBatch: async (input) => empty(input),
    sendSyncBatch: async (input) => sent(input),
    moveSyncBatchToDlq: async (input) => ({ moved: input.ids.length }),
    releaseSyncBatch: async (input) => ({ released: input.ids.length }),
    waitForCloud: async () => ({ reachable: false, waitedMs: 0, probes: 1 }),
    ...overrides,
  };
}

/** Test settings: no long poll inside the (fake) claim; an idle lane looks again every 10 minutes. */
function config(extra: Partial<SyncForwarderConfig> = {}): SyncForwarderConfig {
  return { edgeId: `edge-test-${randomUUID().slice(0, 8)}`, claimWaitSeconds: 0, idlePollSeconds: 600, maxInFlight: 4, ...extra };
}

/** Skips test-server time in steps until the probe holds. */
async function skipUntil(what: string, probe: () => boolean, step = '5 seconds', maxSteps = 400): Promise<void> {
  for (let i = 0; i < maxSteps && !probe(); i++) await env.sleep(step);
  if (!probe()) throw new Error(`${what} did not happen within ${maxSteps} steps of ${step}`);
}

async function withForwarder(
  activities: SyncActivities,
  cfg: SyncForwarderConfig,
  body: (handle: WorkflowHandle<typeof syncForwarder>) => Promise<void>,
): Promise<void> {
  const taskQueue = `sync-test-${randomUUID()}`;
  const worker = await Worker.create({ connection: env.nativeConnection, taskQueue, workflowBundle: bundle, activities });
  const workflowId = `${syncForwarderWorkflowId(cfg.edgeId)}-${randomUUID().slice(0, 8)}`;
  await worker.runUntil(async () => {
    const handle = await env.client.workflow.start<typeof syncForwarder>('syncForwarder', { taskQueue, workflowId, args: [{ config: cfg }] });
    await body(handle);
    // The workflow is left running: the worker stops here and the test server goes with the test.
  });
}

const status = (handle: WorkflowHandle<typeof syncForwarder>): Promise<SyncStatus> => env.client.workflow.getHandle(handle.workflowId).query(syncStatusQuery);

describe('the time-skipping harness', () => {
  it('runs on the pinned test server binary', () => {
    expect(env.supportsTimeSkipping).toBe(true);
  });
});

describe('syncForwarder retries (spec §7.4 through Temporal retry)', () => {
  it('retries a failing batch exactly 10 times with delays 1, 2, 4 … 256 s (+ < 1 s jitter), then moves it to the DLQ', async () => {
    const attempts: { attempt: number; at: number; chosenDelayMs: number; priorAttempts: number }[] = [];
    const dlq: { batchId: string; ids: string[]; lastError: string }[] = [];
    let handedOut = false;
    let claimedBatchId = '';
    const activities = fakes({
      claimSyncBatch: async (input) => {
        if (input.lane !== 'backfill' || handedOut) return empty(input);
        handedOut = true;
        claimedBatchId = input.batchId;
        return batch(input, ['11', '12', '13']);
      },
      sendSyncBatch: async (input) => {
        const { attempt } = Context.current().info;
        const failure = cloudBatchFailed(attempt, `cloud answered 500 internal_error (attempt ${attempt})`, { status: 500 });
        const chosenDelayMs = (failure.details?.[0] as { nextRetryDelayMs: number }).nextRetryDelayMs;
        attempts.push({ attempt, at: await env.currentTimeMs(), chosenDelayMs, priorAttempts: input.priorAttempts });
        throw failure;
      },
      moveSyncBatchToDlq: async (input) => {
        dlq.push(input);
        return { moved: input.ids.length };
      },
    });

    await withForwarder(activities, config({ maxRoundsPerRun: 10_000 }), async (handle) => {
      await until('the first attempt', 20_000, () => attempts.length === 1);
      await skipUntil('the DLQ move', () => dlq.length === 1);
      // Well past where an 11th attempt would have come (256 s + 300 s): none comes.
      await env.sleep('15 minutes');

      expect(attempts.map((a) => a.attempt)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
      expect(attempts.every((a) => a.priorAttempts === 0)).toBe(true);
      for (let n = 1; n < attempts.length; n++) {
        const base = 2 ** (n - 1) * 1000; // after the n-th failed attempt
        const gapMs = attempts[n].at - attempts[n - 1].at;
        // The activity chose the delay by the policy …
        expect(attempts[n - 1].chosenDelayMs).toBeGreaterThanOrEqual(base);
        expect(attempts[n - 1].chosenDelayMs).toBeLessThan(Math.min(base + 1000, 300_001));
        // … and the server waited exactly that long (test-server time; a few ms of real time on top).
        expect(gapMs).toBeGreaterThanOrEqual(attempts[n - 1].chosenDelayMs);
        expect(gapMs - attempts[n - 1].chosenDelayMs).toBeLessThan(250);
        expect(gapMs).toBeLessThan(Math.min(base + 1000, 300_000) + 250);
      }
      expect(dlq).toEqual([{ batchId: claimedBatchId, ids: ['11', '12', '13'], lastError: 'cloud answered 500 internal_error (attempt 10)' }]);

      const s = await status(handle);
      expect(s.totals).toMatchObject({ batchesDlq: 1, eventsDlq: 3, batches: 0 });
      expect(s.lastError).toMatchObject({ type: 'CloudBatchFailed', batchId: claimedBatchId, message: 'cloud answered 500 internal_error (attempt 10)' });
      expect(s.inFlight).toEqual([]);
    });
  });

  it('gives a batch whose rows already spent attempts only the rest of the 10', async () => {
    const attempts: number[] = [];
    const dlq: string[] = [];
    let handedOut = false;
    const activities = fakes({
      claimSyncBatch: async (input) => {
        if (input.lane !== 'backfill' || handedOut) return empty(input);
        handedOut = true;
        return batch(input, ['21'], 7);
      },
      sendSyncBatch: async (input) => {
        const attempt = input.priorAttempts + Context.current().info.attempt;
        attempts.push(attempt);
        throw cloudBatchFailed(attempt, `failed at attempt ${attempt}`);
      },
      moveSyncBatchToDlq: async (input) => {
        dlq.push(input.lastError);
        return { moved: 1 };
      },
    });
    await withForwarder(activities, config({ maxRoundsPerRun: 10_000 }), async () => {
      await until('the first attempt', 20_000, () => attempts.length === 1);
      await skipUntil('the DLQ move', () => dlq.length === 1);
      await env.sleep('15 minutes');
      expect(attempts).toEqual([8, 9, 10]);
      expect(dlq).toEqual(['failed at attempt 10']);
    });
  });
});

describe('syncForwarder offline (DESIGN.md §4)', () => {
  it('spends no attempts while the cloud is unreachable, gives the claims back, backs off, and resumes at once on connectivityRestored', async () => {
    // A tiny outbox: two rows, claimed and given back.
    const rows = new Map([
      ['31', { status: 'pending', attempts: 0 }],
      ['32', { status: 'pending', attempts: 0 }],
    ]);
    const sends: { at: number; attempt: number; priorAttempts: number }[] = [];
    const releases: string[][] = [];
    const probes: number[] = [];
    const unavailableTimes = 5;
    const activities = fakes({
      claimSyncBatch: async (input) => {
        if (input.lane !== 'backfill') return empty(input);
        const ids = [...rows].filter(([, r]) => r.status === 'pending').map(([id]) => id);
        for (const id of ids) rows.get(id)!.status = 'claimed';
        return batch(input, ids, Math.max(0, ...ids.map((id) => rows.get(id)!.attempts)));
      },
      sendSyncBatch: async (input) => {
        sends.push({ at: await env.currentTimeMs(), attempt: Context.current().info.attempt, priorAttempts: input.priorAttempts });
        if (sends.length <= unavailableTimes) throw cloudUnavailable('cloud unreachable at http://cloud.test: ECONNREFUSED');
        for (const id of input.ids) rows.get(id)!.status = 'acked';
        return sent(input);
      },
      releaseSyncBatch: async (input) => {
        releases.push(input.ids);
        for (const id of input.ids) rows.get(id)!.status = 'pending';
        return { released: input.ids.length };
      },
      moveSyncBatchToDlq: async () => {
        throw new Error('an unreachable cloud must never dead-letter anything');
      },
      waitForCloud: async ({ maxWaitMs }) => {
        probes.push(maxWaitMs);
        return { reachable: false, waitedMs: 0, probes: 1, lastReason: 'ECONNREFUSED' };
      },
    });

    await withForwarder(activities, config({ maxRoundsPerRun: 10_000 }), async (handle) => {
      await until('the first send', 20_000, () => sends.length === 1);
      await until('offline', 20_000, async () => (await status(handle)).state === 'offline');
      const offline = await status(handle);
      expect(offline.offlineSince).toEqual(expect.any(String));
      expect(offline.halt).toMatchObject({ kind: 'offline', detail: expect.stringContaining('ECONNREFUSED') });

      await skipUntil(`${unavailableTimes} unavailable sends`, () => sends.length === unavailableTimes, '1 second');
      await until('the backoff after the last failure', 20_000, () => probes.length === unavailableTimes);

      // Offline backoff follows the same formula: after round r, min(2^(r-1) s + jitter, 300 s).
      probes.forEach((ms, i) => {
        expect(ms).toBeGreaterThanOrEqual(2 ** i * 1000);
        expect(ms).toBeLessThan(2 ** i * 1000 + 1000);
      });
      // No attempt spent: each send was a first Temporal attempt of a batch with no prior attempts,
      // and every batch went straight back.
      expect(sends.every((s) => s.attempt === 1 && s.priorAttempts === 0)).toBe(true);
      expect(releases).toEqual(Array.from({ length: unavailableTimes }, () => ['31', '32']));
      expect([...rows.values()].every((r) => r.status === 'pending' && r.attempts === 0)).toBe(true);

      // The wait now is 16 s or more; the operator says the cloud is back.
      const waitingSince = await env.currentTimeMs();
      await handle.signal(connectivityRestoredSignal);
      await until('the batch to go out', 20_000, () => sends.length === unavailableTimes + 1);
      expect(sends[unavailableTimes].at - waitingSince).toBeLessThan(5_000);
      expect([...rows.values()].every((r) => r.status === 'acked')).toBe(true);

      await until('running', 20_000, async () => (await status(handle)).state === 'running');
      const s = await status(handle);
      expect(s.halt).toBeNull();
      expect(s.offlineSince).toBeNull();
      expect(s.lastSuccess).toMatchObject({ lane: 'backfill', accepted: 2 });
      expect(s.totals).toMatchObject({ batches: 1, eventsAcked: 2, batchesDlq: 0 });
    });
  });

  it('resumes as soon as the health probe finds the cloud, without waiting out the backoff', async () => {
    const sends: { at: number; ok: boolean }[] = [];
    const probes: { maxWaitMs: number; at: number }[] = [];
    let cloudUp = false;
    let pending = true;
    const activities = fakes({
      claimSyncBatch: async (input) => (input.lane === 'backfill' && pending ? ((pending = false), batch(input, ['41'])) : empty(input)),
      releaseSyncBatch: async (input) => ((pending = true), { released: input.ids.length }),
      sendSyncBatch: async (input) => {
        sends.push({ at: await env.currentTimeMs(), ok: cloudUp });
        if (!cloudUp) throw cloudUnavailable('cloud answered 503 unavailable: database down', 503);
        return sent(input);
      },
      waitForCloud: async ({ maxWaitMs }) => {
        probes.push({ maxWaitMs, at: await env.currentTimeMs() });
        // Down for two rounds; in the third the cloud answers its health check.
        if (probes.length < 3) return { reachable: false, waitedMs: maxWaitMs, probes: 1, lastReason: 'GET /health answered 503' };
        cloudUp = true;
        return { reachable: true, waitedMs: 1500, probes: 2 };
      },
    });
    await withForwarder(activities, config({ maxRoundsPerRun: 10_000 }), async (handle) => {
      await skipUntil('the third probe', () => probes.length === 3, '1 second', 60);
      await until('the batch acked', 20_000, async () => (await status(handle)).lastSuccess !== null);
      expect(sends.map((x) => x.ok)).toEqual([false, false, false, true]);
      // The third wait was 4–5 s; the batch went out right after the probe instead.
      expect(probes[2].maxWaitMs).toBeGreaterThanOrEqual(4000);
      expect(sends[3].at - probes[2].at).toBeLessThan(3000);
      const s = await status(handle);
      expect(s.state).toBe('running');
      expect(s.lastError).toMatchObject({ type: 'CloudUnavailable', message: expect.stringContaining('503') });
    });
  });

  it('stops on a refused edge (401): no DLQ, the reason in the status, slow retries, retry-now', async () => {
    let sends = 0;
    let refused = true;
    const dlq: string[] = [];
    let handedOut = false;
    const activities = fakes({
      claimSyncBatch: async (input) => {
        if (input.lane !== 'backfill' || handedOut) return empty(input);
        handedOut = true;
        return batch(input, ['51']);
      },
      sendSyncBatch: async (input) => {
        sends++;
        if (refused) throw cloudMisconfigured(401, 'unknown_key', 'the cloud refuses edge edge-1 (key k1): 401 unknown_key: no such key');
        return sent(input);
      },
      releaseSyncBatch: async (input) => {
        handedOut = false;
        return { released: input.ids.length };
      },
      moveSyncBatchToDlq: async (input) => {
        dlq.push(input.lastError);
        return { moved: 1 };
      },
    });
    await withForwarder(activities, config({ maxRoundsPerRun: 10_000 }), async (handle) => {
      await until('misconfigured', 20_000, async () => (await status(handle)).state === 'misconfigured');
      const s = await status(handle);
      expect(s.halt).toMatchObject({ kind: 'misconfigured', status: 401, code: 'unknown_key' });
      expect(s.lastError).toMatchObject({ type: 'CloudMisconfigured' });
      // The next try is a minute away: 30 s later nothing has been sent again.
      await env.sleep('30 seconds');
      expect(sends).toBe(1);
      refused = false;
      await handle.signal(connectivityRestoredSignal);
      await until('the batch to go out', 20_000, () => sends === 2);
      await until('running', 20_000, async () => (await status(handle)).state === 'running');
      expect(dlq).toEqual([]);
    });
  });

  it('idles as not_configured without a signing key, claiming nothing, and starts once one is installed', async () => {
    let configured = false;
    let claims = 0;
    const activities = fakes({
      checkSyncConfiguration: async () =>
        configured
          ? { configured: true, keyId: 'k1', cloudUrl: 'http://cloud.test' }
          : { configured: false, reason: 'EDGE_SIGNING_KEY_FILE is not set: this edge has no cloud identity', cloudUrl: 'http://cloud.test' },
      claimSyncBatch: async (input) => {
        claims++;
        return empty(input);
      },
    });
    await withForwarder(activities, config(), async (handle) => {
      await until('not_configured', 20_000, async () => (await status(handle)).state === 'not_configured');
      expect((await status(handle)).halt).toMatchObject({ kind: 'not_configured', detail: expect.stringContaining('EDGE_SIGNING_KEY_FILE') });
      await env.sleep('5 minutes');
      expect(claims).toBe(0);
      expect((await status(handle)).state).toBe('not_configured');
      configured = true;
      await handle.signal(connectivityRestoredSignal);
      await until('claims', 20_000, () => claims > 0);
      expect((await status(handle)).state).toBe('running');
    });
  });
});

describe('syncForwarder configuration', () => {
  it('checks again at once when retry-now comes while a configuration check is running', async () => {
    let configured = false;
    let claims = 0;
    let checks = 0;
    let release = () => undefined as void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const activities = fakes({
      checkSyncConfiguration: async () => {
        const sawKey = configured;
        checks++;
        if (checks === 2) await gate; // the check the operator's retry-now races with
        return sawKey
          ? { configured: true, keyId: 'k1', cloudUrl: 'http://cloud.test' }
          : { configured: false, reason: 'no key yet', cloudUrl: 'http://cloud.test' };
      },
      claimSyncBatch: async (input) => {
        claims++;
        return empty(input);
      },
    });
    await withForwarder(activities, config(), async (handle) => {
      await until('not_configured', 20_000, async () => (await status(handle)).state === 'not_configured');
      await handle.signal(connectivityRestoredSignal);
      await until('a second check running', 20_000, () => checks === 2);
      // The key is installed and retry-now sent while that check (which saw no key) still runs.
      configured = true;
      await handle.signal(connectivityRestoredSignal);
      release();
      await until('claims', 20_000, () => claims > 0);
      expect(checks).toBe(3);
      expect((await status(handle)).state).toBe('running');
    });
  });
});

describe('syncForwarder lanes', () => {
  it('sends a live batch while the backfill lane fills every other slot with slow batches', async () => {
    const gate = { open: () => undefined as void };
    const opened = new Promise<void>((resolve) => (gate.open = resolve));
    const inFlight = new Set<string>();
    let maxInFlight = 0;
    let backfillStarted = 0;
    let liveHandedOut = false;
    let liveSentWhileBackfillBusy = -1;
    const activities = fakes({
      claimSyncBatch: async (input) => {
        if (input.lane === 'backfill') return batch(input, [`b${input.batchId.split(':').pop()}`]);
        if (backfillStarted < 3 || liveHandedOut) return empty(input);
        liveHandedOut = true;
        return batch(input, ['fresh-reading']);
      },
      sendSyncBatch: async (input) => {
        inFlight.add(input.batchId);
        maxInFlight = Math.max(maxInFlight, inFlight.size);
        try {
          if (input.lane === 'live') {
            liveSentWhileBackfillBusy = [...inFlight].filter((id) => id.includes(':backfill:')).length;
            return sent(input);
          }
          backfillStarted++;
          // A slow cloud answer for the backlog; the real activity heartbeats meanwhile (syncSend's heartbeatTimeout).
          const ctx = Context.current();
          const beat = setInterval(() => ctx.heartbeat(), 1000);
          await opened.finally(() => clearInterval(beat));
          return sent(input);
        } finally {
          inFlight.delete(input.batchId);
        }
      },
    });
    await withForwarder(activities, config({ maxInFlight: 4, idlePollSeconds: 1 }), async (handle) => {
      try {
        await until('three slow backfill batches', 20_000, () => backfillStarted === 3);
        // The live lane looks again after its 1 s idle wait (real time here: the running
        // activities hold the test server's clock).
        await until('the live batch', 10_000, () => liveSentWhileBackfillBusy >= 0);
        expect(liveSentWhileBackfillBusy).toBe(3);
        const s = await status(handle);
        expect(s.inFlight.filter((b) => b.lane === 'backfill')).toHaveLength(3);
        expect(s.lanes.live.batches).toBe(1);
      } finally {
        gate.open();
      }
      await until('backfill drains', 20_000, async () => (await status(handle)).lanes.backfill.batches >= 3);
      expect(maxInFlight).toBeLessThanOrEqual(4);
    });
  });
});

describe('syncForwarder pause, resume, continueAsNew', () => {
  it('claims nothing while paused and carries on after resume', async () => {
    let claims = 0;
    let allowance = 3;
    const activities = fakes({
      claimSyncBatch: async (input) => {
        claims++;
        if (input.lane === 'backfill' && allowance > 0) {
          allowance--;
          return batch(input, [`p${claims}`]);
        }
        return empty(input);
      },
    });
    await withForwarder(activities, config({ idlePollSeconds: 30 }), async (handle) => {
      await until('three batches', 20_000, async () => (await status(handle)).totals.batches === 3);
      await handle.signal(pauseSyncSignal, { reason: 'barn network maintenance', by: 'test' });
      await until('paused', 20_000, async () => (await status(handle)).state === 'paused');
      const claimsAtPause = claims;
      allowance = 5;
      await env.sleep('10 minutes');
      const paused = await status(handle);
      expect(claims).toBe(claimsAtPause);
      expect(paused.paused).toMatchObject({ reason: 'barn network maintenance', by: 'test', since: expect.any(String) });
      expect(paused.totals.batches).toBe(3);

      await handle.signal(resumeSyncSignal);
      await until('five more batches', 20_000, async () => (await status(handle)).totals.batches === 8);
      expect((await status(handle)).state).toBe('running');
      expect((await status(handle)).paused).toBeNull();
    });
  });

  it('continues as new with its pause, totals and last success carried over', async () => {
    const gate = { open: () => undefined as void };
    const opened = new Promise<void>((resolve) => (gate.open = resolve));
    let claims = 0;
    let gatedClaimWaiting = false;
    let sentOnce = false;
    const activities = fakes({
      claimSyncBatch: async (input) => {
        claims++;
        if (input.lane === 'live') {
          if (!sentOnce) {
            sentOnce = true;
            return batch(input, ['c1']);
          }
          return empty(input);
        }
        // The backfill lane's claim is slow: the pause arrives while it runs.
        gatedClaimWaiting = true;
        await opened;
        return empty(input);
      },
    });
    // Rounds count completed claims. Round 1: live claim (one batch). Round 2: live again (empty,
    // then idles 10 minutes). The backfill claim hangs meanwhile; the pause comes; round 3: the
    // backfill claim completes → the run rolls over, paused.
    await withForwarder(activities, config({ maxRoundsPerRun: 3 }), async (handle) => {
      const firstRunId = (await handle.describe()).runId;
      await until('the slow claim and one sent batch', 20_000, async () => gatedClaimWaiting && (await status(handle)).totals.batches === 1 && claims >= 3);
      await handle.signal(pauseSyncSignal, { reason: 'before continue-as-new' });
      await until('paused', 20_000, async () => (await status(handle)).paused !== null);
      gate.open();
      await until('a new run', 20_000, async () => (await env.client.workflow.getHandle(handle.workflowId).describe()).runId !== firstRunId);
      const claimsAtRollOver = claims;
      await until('the new run answers', 20_000, async () => (await status(handle)).run.number === 2);

      const s = await status(handle);
      expect(s.state).toBe('paused');
      expect(s.paused).toMatchObject({ reason: 'before continue-as-new' });
      expect(s.totals.batches).toBe(1);
      expect(s.lastSuccess).toMatchObject({ lane: 'live', accepted: 1 });
      expect(s.run.batchesSent).toBe(0);

      await env.sleep('30 minutes');
      expect(claims).toBe(claimsAtRollOver); // still paused in the new run

      await handle.signal(resumeSyncSignal);
      await until('claims again', 20_000, () => claims > claimsAtRollOver);
      expect((await status(handle)).state).toBe('running');
    });
  });
});

describe('syncStatus query', () => {
  it('shows state, lanes, in-flight batches, last success and error, run and totals', async () => {
    const gate = { open: () => undefined as void };
    const opened = new Promise<void>((resolve) => (gate.open = resolve));
    let handedOut = false;
    const activities = fakes({
      claimSyncBatch: async (input) => {
        if (input.lane !== 'backfill' || handedOut) return empty(input);
        handedOut = true;
        return batch(input, ['61', '62'], 2);
      },
      sendSyncBatch: async (input) => {
        await opened;
        return { ...sent(input), accepted: 1, duplicate: 1 };
      },
    });
    const cfg = config({ batchSize: 250, maxInFlight: 3, liveWindowSeconds: 90 });
    await withForwarder(activities, cfg, async (handle) => {
      await until('a batch in flight', 20_000, async () => (await status(handle)).inFlight.length === 1);
      const s = await status(handle);
      expect(s).toEqual({
        edgeId: cfg.edgeId,
        state: 'running',
        paused: null,
        halt: null,
        offlineSince: null,
        lanes: {
          live: { state: expect.stringMatching(/^(waiting|claiming|idle)$/), lastClaimAt: expect.any(String), lastBatchAt: null, batches: 0, events: 0 },
          backfill: { state: expect.stringMatching(/^(waiting|claiming|idle)$/), lastClaimAt: expect.any(String), lastBatchAt: null, batches: 0, events: 0 },
        },
        inFlight: [
          {
            batchId: expect.stringMatching(new RegExp(`^${cfg.edgeId}:backfill:[0-9a-f-]{36}:\\d+$`)),
            lane: 'backfill',
            tenantId: tenant,
            events: 2,
            priorAttempts: 2,
            startedAt: expect.any(String),
          },
        ],
        lastSuccess: null,
        lastError: null,
        run: { runId: expect.any(String), startedAt: expect.any(String), number: 1, batchesSent: 0, rounds: expect.any(Number) },
        totals: { batches: 0, eventsAcked: 0, eventsFailed: 0, batchesDlq: 0, eventsDlq: 0 },
        config: expect.objectContaining({ edgeId: cfg.edgeId, batchSize: 250, maxInFlight: 3, liveWindowSeconds: 90, leaseSeconds: 60 }),
      });
      gate.open();
      await until('the batch acked', 20_000, async () => (await status(handle)).lastSuccess !== null);
      const after = await status(handle);
      expect(after.lastSuccess).toEqual({ at: expect.any(String), batchId: s.inFlight[0].batchId, lane: 'backfill', accepted: 1, duplicate: 1, rejected: 0 });
      expect(after.totals).toEqual({ batches: 1, eventsAcked: 2, eventsFailed: 0, batchesDlq: 0, eventsDlq: 0 });
      expect(after.lanes.backfill).toMatchObject({ batches: 1, events: 2, lastBatchAt: expect.any(String) });
      expect(after.inFlight).toEqual([]);
    });
  });
});

it('uses the spec’s attempt budget', () => {
  expect(syncRetryPolicy.maxAttempts).toBe(10);
});
