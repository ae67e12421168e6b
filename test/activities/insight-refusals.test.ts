/**
 * The insight activities when Postgres (or Temporal) refuses the data (issue 8 point 1), against
 * the real cloud test database through the tenant pool (farmiq_app, row-level security).
 *
 * A refusal is forced with a test-only NOT VALID CHECK constraint matching only this test's marker,
 * dropped again in `finally`. What must hold: a refusal is a non-retryable DataRefused carrying the
 * SQLSTATE (a retry would only fail the same way), text from outside that Postgres cannot hold
 * (a NUL in the LLM's answer) is stored made storable rather than losing the insight, an oversized
 * result never reaches Temporal, and a database that is not there stays retryable.
 */
import { randomUUID } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { Pool } from 'pg';
import { classifyDatabaseError } from '../../db/errors';
import { createInsightActivities, type InsightActivities, type InsightActivityDeps } from '../../activities/insights/generation';
import { createInsightNotificationActivities } from '../../activities/insights/notification';
import { dataRefusedType, maxActivityPayloadBytes, type DataRefusedDetails } from '../../activities/failures';
import type { InsightRecord, StoreInsightInput } from '../../insights/insight-store';
import { templateInsight, type InsightAnalyzer } from '../../insights/llm/analyzer';
import { localPredictor } from '../../insights/ml/predictor';
import { NotificationModuleNotifier } from '../../insights/notifier';
import { logger } from '../../platform/logger';
import { sampleSummary } from '../insights/fixtures';
import { ownerPool, seedTenant, tenantPool, type TestTenant } from '../auth/support';

let owner: Pool;
let app: Pool;
let t: TestTenant;
const summary = sampleSummary();
const env = () => new MockActivityEnvironment(undefined, { logger: new DefaultLogger('ERROR') });

const templateAnalyzer: InsightAnalyzer = { analyze: async (s) => templateInsight(s) };

function activitiesWith(deps: Partial<InsightActivityDeps> = {}): InsightActivities {
  return createInsightActivities({ pool: app, predictor: localPredictor, analyzer: templateAnalyzer, llmModel: null, ...deps });
}

beforeAll(async () => {
  owner = ownerPool();
  app = tenantPool();
  t = await seedTenant(owner, 'Insight refusals');
});

afterAll(async () => {
  await app?.end();
  await owner?.end();
});

function storeInput(requestId: string, generated = templateInsight(summary)): StoreInsightInput {
  return {
    tenantId: t.id,
    farmId: 'farm-refusal',
    barnId: null,
    window: { from: '2026-03-01T00:00:00.000Z', to: '2026-03-15T00:00:00.000Z' },
    requestId,
    workflowId: `insight/${t.id}/${requestId}`,
    userId: null,
    summary,
    predictions: null,
    generated,
  };
}

async function withConstraint<T>(table: string, check: string, body: () => Promise<T>): Promise<T> {
  const name = `refusal_test_${randomUUID().replace(/-/g, '').slice(0, 12)}`;
  await owner.query(`ALTER TABLE ${table} ADD CONSTRAINT ${name} CHECK (${check}) NOT VALID`);
  try {
    return await body();
  } finally {
    await owner.query(`ALTER TABLE ${table} DROP CONSTRAINT ${name}`);
  }
}

async function failureOf(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error('expected the activity to fail');
}

function expectDataRefused(err: unknown, details: Partial<DataRefusedDetails>): void {
  expect(err).toBeInstanceOf(ApplicationFailure);
  const f = err as ApplicationFailure;
  expect({ type: f.type, nonRetryable: f.nonRetryable }).toEqual({ type: dataRefusedType, nonRetryable: true });
  expect(f.details?.[0]).toMatchObject(details);
}

describe('storeInsight', () => {
  it('stores an insight whose LLM text holds a NUL (made storable) instead of failing it', async () => {
    const requestId = `req-nul-${randomUUID()}`;
    const g = templateInsight(summary);
    const generated = { ...g, insight: { ...g.insight, title: 'Heat\u0000stress in barn 1' } };
    const record: InsightRecord = await env().run(activitiesWith().storeInsight, storeInput(requestId, generated));
    expect(record.request_id).toBe(requestId);
    expect(record.insight.title).toBe('Heat\ufffdstress in barn 1');
  });

  it('an insight the database refuses is DataRefused with the SQLSTATE (not retried); a database that is not there stays retryable', async () => {
    const requestId = `req-refused-${randomUUID()}`;
    await withConstraint('insights', `request_id IS DISTINCT FROM '${requestId}'`, async () => {
      const err = await failureOf(env().run(activitiesWith().storeInsight, storeInput(requestId)));
      expectDataRefused(err, { refusedBy: 'postgres', reason: 'storage_refused:23514', sqlState: '23514', step: 'storeInsight' });
    });
    const { rows } = await owner.query('SELECT 1 FROM insights WHERE tenant_id = $1 AND request_id = $2', [t.id, requestId]);
    expect(rows).toHaveLength(0);

    const away = new Pool({ connectionString: 'postgres://farmiq_app:x@127.0.0.1:1/farmiq_cloud_test', connectionTimeoutMillis: 1000 });
    try {
      const offline = activitiesWith({ pool: away });
      const errors = [
        await failureOf(env().run(offline.storeInsight, storeInput(`req-${randomUUID()}`))),
        await failureOf(
          env().run(offline.aggregateFeatureSummary, {
            tenantId: t.id,
            farmId: 'farm-refusal',
            barnId: null,
            window: storeInput('x').window,
            requestId: `req-${randomUUID()}`,
          }),
        ),
      ];
      for (const e of errors) {
        if (e instanceof ApplicationFailure) expect(e.nonRetryable).toBe(false);
        expect(classifyDatabaseError(e)).toBe('transient');
      }
    } finally {
      await away.end();
    }
  });
});

describe('aggregateFeatureSummary', () => {
  it('a window Postgres cannot hold (year 0) is DataRefused (22008), not retried', async () => {
    const err = await failureOf(
      env().run(activitiesWith().aggregateFeatureSummary, {
        tenantId: t.id,
        farmId: 'farm-refusal',
        barnId: null,
        window: { from: '0000-01-01T00:00:00.000Z', to: '2026-03-15T00:00:00.000Z' },
        requestId: `req-${randomUUID()}`,
      }),
    );
    expectDataRefused(err, { refusedBy: 'postgres', reason: 'storage_refused:22008', sqlState: '22008' });
  });
});

describe('analyzeWithLlm', () => {
  it('a result too large to hand to Temporal is DataRefused (payload_too_large), not returned', async () => {
    const huge: InsightAnalyzer = {
      analyze: async (s) => {
        const g = templateInsight(s);
        return { ...g, model: 'x'.repeat(maxActivityPayloadBytes + 1) };
      },
    };
    const err = await failureOf(env().run(activitiesWith({ analyzer: huge }).analyzeWithLlm, { summary, requestId: `req-${randomUUID()}` }));
    expectDataRefused(err, { refusedBy: 'temporal', reason: 'payload_too_large', step: 'analyzeWithLlm', limitBytes: maxActivityPayloadBytes });
  });
});

describe('sendInsightNotification', () => {
  it('a notification the database refuses is DataRefused, not retried for ten minutes', async () => {
    const title = `refused-${randomUUID()}`;
    const notifier = new NotificationModuleNotifier({ pool: app, publisher: { publish: async () => undefined }, log: logger('test-insight-refusals') });
    const { sendInsightNotification } = createInsightNotificationActivities({ notifier });
    await withConstraint('notifications', `title IS DISTINCT FROM '${title}'`, async () => {
      const err = await failureOf(
        env().run(sendInsightNotification, {
          tenantId: t.id,
          insightId: randomUUID(),
          farmId: 'farm-refusal',
          barnId: null,
          channel: 'in_app' as const,
          recipientUserId: null,
          title,
          body: 'body',
          requestId: `req-${randomUUID()}`,
        }),
      );
      expectDataRefused(err, { refusedBy: 'postgres', reason: 'storage_refused:23514', step: 'sendInsightNotification' });
    });
  });
});
