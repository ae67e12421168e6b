/**
 * The Temporal session directory against the dev server of the local stack. The session workflow
 * itself is not needed: a workflow of a type no worker serves, started on a task queue nobody
 * polls, stays RUNNING with the search attributes it was started with, takes signals into its
 * history, and closes when terminated — all the directory looks at.
 */
import { randomUUID } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import type { Pool } from 'pg';
import pino from 'pino';
import { settings } from '../../config/settings';
import { createPool } from '../../db/pool';
import { createEdgeApp } from '../../gateways/http/edge-app';
import { provisionDevice } from '../../gateways/mqtt-bridge/broker/credentials';
import { objectStoreConfigFromSettings, s3ObjectStore } from '../../weighvision/media/object-store';
import { SessionDirectoryError, temporalSessionDirectory, type SessionDirectory } from '../../weighvision/media/session-directory';
import { farmiqBarn, farmiqFarm, farmiqStation, farmiqStatus, farmiqTenant } from '../../domain/temporal/search-attributes';
import { weighVisionSessionWorkflowId } from '../../domain/temporal/workflow-ids';
import type { StoredImage } from '../../weighvision/session-contract';
import { temporalAddress, testEdgeDatabaseUrl } from '../support/stack';
import { basicAuth, listen } from './support';

const namespace = settings().TEMPORAL_EDGE_NAMESPACE;
const tenantId = randomUUID();
const taskQueue = `media-test-${randomUUID()}`;
let connection: Connection;
let client: Client;
let directory: SessionDirectory;

beforeAll(async () => {
  connection = await Connection.connect({ address: temporalAddress });
  client = new Client({ connection, namespace });
  directory = temporalSessionDirectory({ address: temporalAddress, namespace });
});

afterAll(async () => {
  await directory.close();
  await connection.close();
});

async function startSession(sessionId: string) {
  return client.workflow.start('weighVisionSessionStandIn', {
    taskQueue,
    // Spelled out, not weighVisionSessionWorkflowId(): the dots test needs ids that helper refuses.
    workflowId: `weighvision-session/${tenantId.toLowerCase()}/${sessionId}`,
    typedSearchAttributes: [
      { key: farmiqTenant, value: tenantId },
      { key: farmiqFarm, value: 'farm-1' },
      { key: farmiqBarn, value: 'barn-1' },
      { key: farmiqStation, value: 'wv-1' },
      { key: farmiqStatus, value: 'created' },
    ],
  });
}

it('knows no session without a workflow', async () => {
  expect(await directory.lookup(tenantId, `never-${randomUUID()}`)).toBeUndefined();
});

it('reads an open session and its place, signals it, and sees it closed once terminated', async () => {
  const sessionId = `s-${randomUUID().slice(0, 8)}`;
  const handle = await startSession(sessionId);
  try {
    expect(await directory.lookup(tenantId.toUpperCase(), sessionId)).toEqual({ open: true, farmId: 'farm-1', barnId: 'barn-1', stationId: 'wv-1' });

    const image: StoredImage = {
      mediaId: randomUUID(),
      objectKey: 'k',
      contentType: 'image/jpeg',
      sizeBytes: 12,
      storedAt: new Date().toISOString(),
      traceId: 't-1',
    };
    await directory.imageStored(tenantId, sessionId, image);
    const history = await handle.fetchHistory();
    const signals = history.events!.filter((e) => e.workflowExecutionSignaledEventAttributes);
    expect(signals.map((e) => e.workflowExecutionSignaledEventAttributes!.signalName)).toEqual(['imageStored']);
  } finally {
    await handle.terminate('test over');
  }
  expect(await directory.lookup(tenantId, sessionId)).toMatchObject({ open: false, stationId: 'wv-1' });
  await expect(
    directory.imageStored(tenantId, sessionId, {
      mediaId: randomUUID(),
      objectKey: 'k',
      contentType: 'image/jpeg',
      sizeBytes: 1,
      storedAt: new Date().toISOString(),
    }),
  ).rejects.toMatchObject({
    code: 'session_not_open',
  });
});

it('the workflow id helper itself refuses a session id made only of dots', () => {
  expect(weighVisionSessionWorkflowId(tenantId, 's-1')).toBe(`weighvision-session/${tenantId.toLowerCase()}/s-1`);
  for (const dots of ['.', '..']) expect(() => weighVisionSessionWorkflowId(tenantId, dots)).toThrow(TypeError);
});

it('never builds a workflow id from a session id made only of dots, even if such a workflow exists', async () => {
  for (const dots of ['.', '..']) {
    // Something else started a workflow under that id (the id pattern allows it in Temporal).
    const handle = await startSession(dots);
    try {
      expect(await directory.lookup(tenantId, dots)).toBeUndefined();
      const image: StoredImage = { mediaId: randomUUID(), objectKey: 'k', contentType: 'image/jpeg', sizeBytes: 12, storedAt: new Date().toISOString() };
      await expect(directory.imageStored(tenantId, dots, image)).rejects.toMatchObject({ code: 'session_not_open' });
      const history = await handle.fetchHistory();
      expect(history.events!.filter((e) => e.workflowExecutionSignaledEventAttributes)).toHaveLength(0);
    } finally {
      await handle.terminate('test over');
    }
  }
});

it('reports an unreachable Temporal as temporal_unavailable, and the API answers 503 without quarantining it', async () => {
  const down = temporalSessionDirectory({ address: '127.0.0.1:1', namespace, timeoutMs: 1000 });
  const failure = await down.lookup(tenantId, 's-1').catch((e: unknown) => e);
  expect(failure).toBeInstanceOf(SessionDirectoryError);
  expect((failure as SessionDirectoryError).code).toBe('temporal_unavailable');

  const pool: Pool = createPool(testEdgeDatabaseUrl, { applicationName: 'farmiq-test-media-temporal' });
  const store = s3ObjectStore(objectStoreConfigFromSettings(settings()));
  const device = await provisionDevice(pool, { tenantId, farmId: 'farm-1', barnId: 'barn-1', deviceId: 'wv-1', kind: 'weighvision-station' });
  const { server, base } = await listen(createEdgeApp({ pool, log: pino({ level: 'silent' }), sessions: down, objectStore: store }));
  try {
    const res = await fetch(`${base}/api/v1/media/images/presign`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: basicAuth(device.username, device.password) },
      body: JSON.stringify({ session_id: 's-1', content_type: 'image/jpeg', size_bytes: 10 }),
    });
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('5');
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('temporal_unavailable');
    const { rows } = await pool.query('SELECT count(*)::int AS n FROM ingress_rejects WHERE tenant_id = $1', [tenantId]);
    expect(rows[0].n).toBe(0);
  } finally {
    await new Promise((resolve) => server.close(resolve));
    await pool.query('DELETE FROM edge_devices WHERE tenant_id = $1', [tenantId]);
    store.close();
    await down.close();
    await pool.end();
  }
});
