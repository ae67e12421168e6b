/**
 * Both sides of the wire contract together, in process: the edge's real send activity (signing,
 * body bytes, per-event settlement) against the cloud's real ingestion router
 * (gateways/http/cloud-ingestion/edge-batch-router.ts) on the cloud test database, with an edge provisioned the way
 * `cloud-admin edge add` does it. The full multi-process run (kill -9, restarts) is separate.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import type { Pool } from 'pg';
import { createPool } from '../../db/pool';
import { provisionEdge } from '../../cloud/edges';
import { createSyncActivities, type SyncActivities } from '../../activities/sync/forwarder';
import { createCloudClient, type CloudClient } from '../../sync/cloud-client';
import { EdgeIdentitySource } from '../../sync/edge-identity';
import { newEdgeKeyPair } from '../../domain/sync';
import { testCloudDatabaseUrl } from '../support/stack';
import { cleanupTenants, edgeEvent, startIngestionServer, type TestServer } from '../cloud/support';
import { openSyncTestDatabase, rowsById } from './sync-db';

let edgePool: Pool;
let cloudPool: Pool;
let server: TestServer;
let cloud: CloudClient;
let activities: SyncActivities;
let edgeId: string;
const tenant = randomUUID();
const otherTenant = randomUUID();
const keyDir = fs.mkdtempSync(path.join(os.tmpdir(), 'farmiq-sync-contract-'));

const run = <A extends unknown[], R>(fn: (...a: A) => Promise<R>, attempt: number, ...args: A): Promise<R> =>
  new MockActivityEnvironment({ attempt }, { logger: new DefaultLogger('ERROR') }).run(fn, ...args);

beforeAll(async () => {
  edgePool = await openSyncTestDatabase('farmiq-test-sync-contract');
  cloudPool = createPool(testCloudDatabaseUrl, { applicationName: 'farmiq-test-sync-contract' });
  const edge = await provisionEdge(cloudPool, { edgeId: `contract-edge-${randomUUID().slice(0, 8)}`, tenants: [tenant], name: 'sync contract test' });
  edgeId = edge.edgeId;
  const keyFile = path.join(keyDir, 'edge.pem');
  fs.writeFileSync(keyFile, edge.privateKeyPem, { mode: 0o600 });
  server = await startIngestionServer({ pool: cloudPool });
  cloud = createCloudClient({ baseUrl: server.base, requestTimeoutMs: 5000 });
  const identity = new EdgeIdentitySource({ edgeId, keyFile });
  const id = identity.current();
  expect(id.configured && id.signer.keyId).toBe(edge.keyId);
  activities = createSyncActivities({ pool: edgePool, edgeId, cloud, identity, requestTimeoutMs: 5000 });
});

afterAll(async () => {
  cloud?.close();
  await server?.close();
  await cleanupTenants(cloudPool, [tenant, otherTenant], edgeId ? [edgeId] : []).catch(() => undefined);
  await cloudPool?.end();
  await edgePool?.query('TRUNCATE sync_outbox');
  await edgePool?.end();
  fs.rmSync(keyDir, { recursive: true, force: true });
});

async function append(events: { tenant_id: string; event_id: string; event_type: string; trace_id: string; ts: string }[]): Promise<void> {
  await edgePool.query(
    `INSERT INTO sync_outbox (tenant_id, event_id, event_type, envelope, trace_id, occurred_at, created_at)
     SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::jsonb[], $5::text[], $6::timestamptz[], $7::timestamptz[])`,
    [
      events.map((e) => e.tenant_id),
      events.map((e) => e.event_id),
      events.map((e) => e.event_type),
      events.map((e) => JSON.stringify(e)),
      events.map((e) => e.trace_id),
      events.map((e) => e.ts),
      events.map(() => new Date(Date.now() - 3600_000)),
    ],
  );
}

async function claimAll(tenantId: string) {
  const batchId = `${edgeId}:backfill:contract:${randomUUID().slice(0, 8)}`;
  const batch = await run(activities.claimSyncBatch, 1, {
    batchId,
    lane: 'backfill',
    batchSize: 100,
    leaseSeconds: 60,
    liveWindowSeconds: 120,
    waitMs: 0,
    pollMs: 100,
  });
  expect(batch.tenantId).toBe(tenantId);
  return batch;
}

describe('the edge send activity against the cloud ingestion router', () => {
  beforeEach(async () => {
    await edgePool.query('TRUNCATE sync_outbox');
  });

  it('is accepted, then answered duplicate on a resend, and a broken event is rejected with its reason while the rest go through', async () => {
    const good = [edgeEvent('telemetry.reading', tenant), edgeEvent('feed.intake.recorded', tenant), edgeEvent('telemetry.aggregated', tenant)];
    const broken = { ...edgeEvent('telemetry.reading', tenant), payload: { metric: 'temperature', value: 'hot', unit: 'C' } };
    await append([good[0], good[1], broken, good[2]]);
    const batch = await claimAll(tenant);
    const first = await run(activities.sendSyncBatch, 1, { batchId: batch.batchId, lane: 'backfill', ids: batch.ids, priorAttempts: 0, leaseSeconds: 60 });
    expect(first).toMatchObject({ delivered: 4, accepted: 3, duplicate: 0, rejected: 1, acked: 3, failed: 1 });
    const rows = await rowsById(edgePool, batch.ids);
    expect(rows.map((r) => r.status)).toEqual(['acked', 'acked', 'failed', 'acked']);
    expect(rows[2].last_error).toMatch(/^schema_violation:payload\.value/);

    // The same events again (an edge that crashed before recording the answer): duplicates, acked.
    await edgePool.query(`UPDATE sync_outbox SET status = 'pending', claimed_by = NULL WHERE id = ANY($1::bigint[]) AND status = 'acked'`, [batch.ids]);
    const again = await claimAll(tenant);
    const second = await run(activities.sendSyncBatch, 1, {
      batchId: again.batchId,
      lane: 'backfill',
      ids: again.ids.filter((id) => batch.ids.includes(id)),
      priorAttempts: 0,
      leaseSeconds: 60,
    });
    expect(second).toMatchObject({ accepted: 0, duplicate: 3, acked: 3 });
  });

  it('carries the edge’s backlog, which the cloud keeps on the edge', async () => {
    const events = Array.from({ length: 5 }, () => edgeEvent('telemetry.reading', tenant));
    await append(events);
    const batch = await run(activities.claimSyncBatch, 1, {
      batchId: `${edgeId}:backfill:contract:${randomUUID().slice(0, 8)}`,
      lane: 'backfill',
      batchSize: 2,
      leaseSeconds: 60,
      liveWindowSeconds: 120,
      waitMs: 0,
      pollMs: 100,
    });
    expect(batch.ids).toHaveLength(2);
    const sent = await run(activities.sendSyncBatch, 1, { batchId: batch.batchId, lane: 'backfill', ids: batch.ids, priorAttempts: 0, leaseSeconds: 60 });
    expect(sent).toMatchObject({ accepted: 2, acked: 2 });
    // Counted as the body was built: the batch's own two, still claimed, and the three waiting.
    const { rows } = await cloudPool.query<{ reported_backlog: number; reported_oldest_pending_at: Date; reported_at: Date }>(
      'SELECT reported_backlog, reported_oldest_pending_at, reported_at FROM edges WHERE edge_id = $1',
      [edgeId],
    );
    const oldest = Math.min(...events.map((e) => Date.parse(e.ts)));
    expect(rows[0]).toMatchObject({ reported_backlog: 5, reported_oldest_pending_at: new Date(oldest) });
    expect(Math.abs(rows[0].reported_at.getTime() - Date.now())).toBeLessThan(60_000);
  });

  it('rejects an event of a tenant the edge may not send for, and acks the rest', async () => {
    await append([edgeEvent('telemetry.reading', otherTenant)]);
    const batch = await claimAll(otherTenant);
    const r = await run(activities.sendSyncBatch, 1, { batchId: batch.batchId, lane: 'backfill', ids: batch.ids, priorAttempts: 0, leaseSeconds: 60 });
    expect(r).toMatchObject({ rejected: 1, failed: 1 });
    expect((await rowsById(edgePool, batch.ids))[0].last_error).toMatch(/tenant/);
  });

  it('is refused with 401 when signed by a key the cloud does not know: CloudMisconfigured, nothing spent', async () => {
    const strangerKey = path.join(keyDir, 'stranger.pem');
    fs.writeFileSync(strangerKey, newEdgeKeyPair().privateKeyPem, { mode: 0o600 });
    const stranger = createSyncActivities({
      pool: edgePool,
      edgeId,
      cloud,
      identity: new EdgeIdentitySource({ edgeId, keyFile: strangerKey }),
      requestTimeoutMs: 5000,
    });
    await append([edgeEvent('telemetry.reading', tenant)]);
    const batch = await claimAll(tenant);
    let failure: ApplicationFailure | undefined;
    try {
      await run(stranger.sendSyncBatch, 1, { batchId: batch.batchId, lane: 'backfill', ids: batch.ids, priorAttempts: 0, leaseSeconds: 60 });
    } catch (err) {
      failure = err as ApplicationFailure;
    }
    expect(failure).toBeInstanceOf(ApplicationFailure);
    expect(failure?.type).toBe('CloudMisconfigured');
    expect(failure?.details?.[0]).toMatchObject({ status: 401 });
    expect((await rowsById(edgePool, batch.ids))[0]).toMatchObject({ status: 'pending', attempt_count: 0 });
  });
});
