/**
 * Offline for hours, then drained: the downlink workflow (workflows/downlink/downlink.ts) on the
 * time-skipping test server, with its real activity (the signed exchange, the applier, the edge
 * test database) against a real cloud HTTP server that is stopped while commands queue in the
 * cloud database. The workflow backs off per §7.4 for hours of skipped time (continuing as new on
 * the way), and when the cloud is back every command is applied once, in seq order, and the cloud
 * has every outcome.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime, Worker, bundleWorkflowCode, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { createDownlinkActivities } from '../../activities/downlink/downlink';
import { createCloudClient } from '../../sync/cloud-client';
import type { DownlinkInput, ExchangeResult } from '../../sync/downlink/downlink-contract';
import { downlinkWorkflowId } from '../../domain/temporal/workflow-ids';
import { syncRetryPolicy } from '../../domain/sync/retry-policy';
import { temporalTestServerPath } from '../support/stack';
import { until } from '../support/until';
import { cloudCommands, enqueue, openPools, provisionPayload, recordingHandlers, silentLog, startCloud, tenantWithEdge, type Pools } from './support';

let env: TestWorkflowEnvironment;
let bundle: WorkflowBundleWithSourceMap;
let pools: Pools;

beforeAll(async () => {
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  bundle = await bundleWorkflowCode({ workflowsPath: require.resolve('../../workflows/downlink/downlink'), logger: new DefaultLogger('WARN') });
  env = await TestWorkflowEnvironment.createTimeSkipping({ server: { executable: { type: 'existing-path', path: temporalTestServerPath } } });
  pools = openPools('farmiq-test-downlink-offline');
});
afterAll(async () => {
  await env?.teardown();
  await pools?.end();
});

/** A free loopback port, for a cloud that is down now and comes back on the same address. */
async function freePort(): Promise<number> {
  const s = http.createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', () => resolve()));
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

test('commands queued while the cloud is unreachable for hours are all applied, in order, once it is back', async () => {
  const { tenant, edge } = await tenantWithEdge(pools, 'Offline');
  const port = await freePort();
  const applied: string[] = [];
  const results: ExchangeResult['kind'][] = [];
  const activities = createDownlinkActivities({
    pool: pools.edge,
    edgeId: edge.edgeId,
    cloud: createCloudClient({ baseUrl: `http://127.0.0.1:${port}`, requestTimeoutMs: 5000 }),
    identity: { current: () => ({ configured: true, signer: edge, keyFile: 'test' }) },
    handlers: recordingHandlers(applied),
    tenants: [tenant.id],
    log: silentLog,
  });
  const counted = {
    exchangeDownlinkCommands: async (input: { waitSeconds: number }) => {
      const r = await activities.exchangeDownlinkCommands(input);
      results.push(r.kind);
      return r;
    },
  };

  const worker = await Worker.create({ connection: env.nativeConnection, taskQueue: 'downlink-test', workflowBundle: bundle, activities: counted });
  await worker.runUntil(async () => {
    const input: DownlinkInput = { edgeId: edge.edgeId, waitSeconds: 1, exchangesPerRun: 10 };
    const handle = await env.client.workflow.start('edgeDownlink', { taskQueue: 'downlink-test', workflowId: downlinkWorkflowId(edge.edgeId), args: [input] });

    // The cloud is down; the dashboard queues commands all the same (the cloud database is up).
    const devices = ['d1', 'd2', 'd3', 'd4', 'd5'];
    for (const d of devices) await enqueue(pools, { tenantId: tenant.id, edgeId: edge.edgeId, type: 'device.provision', payload: provisionPayload(d) });
    await until('the first failed exchanges', 10_000, () => results.length >= 3);
    await env.sleep('3 hours');
    const offline = results.length;
    expect(results.every((k) => k === 'unreachable')).toBe(true);
    // Backing off, not spinning: 3 hours at a 300 s cap is about 40 attempts (it continued as new on the way).
    expect(offline).toBeGreaterThan((3 * 3600) / syncRetryPolicy.maxSeconds - 10);
    expect(offline).toBeLessThan((3 * 3600) / syncRetryPolicy.maxSeconds + 20);
    expect(applied).toEqual([]);
    const described = await handle.describe();
    expect(described.runId).not.toBe(handle.firstExecutionRunId);

    // The cloud is back on the same address: the next attempt (at most the 300 s cap later) drains the queue.
    const cloud = await startCloud(pools.owner, { port });
    try {
      // Skip the pending backoff in small steps: once the pulls run, time goes at their (real) pace.
      for (let skipped = 0; applied.length < devices.length && skipped <= syncRetryPolicy.maxSeconds + 30; skipped += 5) await env.sleep('5 seconds');
      await until('every command applied', 30_000, () => applied.length === devices.length);
      expect(applied).toEqual(devices);
      await until('every outcome in the cloud', 30_000, async () => (await cloudCommands(pools.owner, edge.edgeId)).every((c) => c.outcome === 'applied'));
      expect((await cloudCommands(pools.owner, edge.edgeId)).map((c) => [c.seq, c.outcome, c.result])).toEqual(
        devices.map((d, i) => [i + 1, 'applied', `provisioned ${d}`]),
      );
      expect(results.slice(offline)).toContain('exchanged');
    } finally {
      await handle.terminate('test over');
      await cloud.close();
    }
  });
});
