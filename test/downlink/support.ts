/**
 * The downlink tests' pieces: the cloud test database (owner and tenant pools), the edge test
 * database (downlink rows are per edge id, so random edge ids keep tests apart), a tenant with an
 * edge serving it, a cloud HTTP server with the real signed pull endpoint, and the edge's real
 * exchange (activities/downlink/exchange.ts) pointed at it.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import express from 'express';
import type { Pool } from 'pg';
import pino from 'pino';
import { createPool } from '../../db/pool';
import { withTenant } from '../../auth/tenant-db';
import { enqueueCommand, type NewCommand } from '../../cloud/downlink/command-queue';
import { createEdgeCommandsRouter, type EdgeCommandsRouter } from '../../gateways/http/downlink/edge-commands-router';
import { requestId } from '../../gateways/http/request-id';
import { createExchange } from '../../activities/downlink/exchange';
import { createCloudClient, type CloudClient } from '../../sync/cloud-client';
import type { DownlinkHandlers } from '../../sync/downlink/handlers';
import type { EdgeSigner } from '../../domain/sync';
import { ownerPool, seedTenant, tenantPool, type TestTenant } from '../auth/support';
import { newEdge, type TestEdge } from '../cloud/support';
import { testEdgeDatabaseUrl } from '../support/stack';

export const silentLog = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });

export interface Pools {
  owner: Pool;
  tenant: Pool;
  edge: Pool;
  end(): Promise<void>;
}

export function openPools(name: string): Pools {
  const owner = ownerPool();
  const tenant = tenantPool();
  const edge = createPool(testEdgeDatabaseUrl, { applicationName: name });
  return {
    owner,
    tenant,
    edge,
    end: async () => {
      await Promise.all([owner.end(), tenant.end(), edge.end()]);
    },
  };
}

/** A new tenant (users of every role) and a new edge serving it alone. */
export async function tenantWithEdge(pools: Pools, label: string): Promise<{ tenant: TestTenant; edge: TestEdge }> {
  const tenant = await seedTenant(pools.owner, label);
  const edge = await newEdge(pools.owner, [tenant.id]);
  return { tenant, edge };
}

/** Enqueues as the dashboard does: on the tenant pool, under row-level security. */
export function enqueue(pools: Pools, input: Omit<NewCommand, 'createdBy'> & { createdBy?: string }) {
  return withTenant(pools.tenant, input.tenantId, (c) => enqueueCommand(c, { createdBy: 'test@example.com', ...input }));
}

/** A device.provision command's payload (valid: the edge's device handlers are not involved unless a test registers them). */
export function provisionPayload(deviceId: string) {
  return { device_id: deviceId, farm_id: 'farm-1', barn_id: 'barn-1', device_type: 'sensor' };
}

export interface CloudServer {
  base: string;
  port: number;
  router: EdgeCommandsRouter;
  close(): Promise<void>;
}

/** The edge command pull endpoint as cloud-app.ts mounts it, on `port` (0: any free one). */
export async function startCloud(pool: Pool, opts: { port?: number; maxWaiting?: number } = {}): Promise<CloudServer> {
  const app = express();
  app.use(requestId);
  const router = createEdgeCommandsRouter({ pool, log: silentLog, maxWaiting: opts.maxWaiting, recheckMs: 500 });
  app.use(router);
  const server = http.createServer(app);
  await new Promise<void>((resolve) => server.listen(opts.port ?? 0, '127.0.0.1', () => resolve()));
  const port = (server.address() as AddressInfo).port;
  return {
    base: `http://127.0.0.1:${port}`,
    port,
    router,
    close: async () => {
      await router.close();
      await new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      });
    },
  };
}

export interface TestEdgeSide {
  cloud: CloudClient;
  exchange: ReturnType<typeof createExchange>;
}

/** The farm server's exchange, for `signer`'s edge, serving `tenants`. */
export function edgeSide(pools: Pools, base: string, signer: EdgeSigner, opts: { tenants: string[]; handlers?: DownlinkHandlers }): TestEdgeSide {
  const cloud = createCloudClient({ baseUrl: base, requestTimeoutMs: 10_000 });
  const exchange = createExchange({
    pool: pools.edge,
    edgeId: signer.edgeId,
    cloud,
    identity: { current: () => ({ configured: true, signer, keyFile: 'test' }) },
    handlers: opts.handlers ?? {},
    tenants: opts.tenants,
    log: silentLog,
  });
  return { cloud, exchange };
}

/** Handlers that only record what they applied, in order (a device.provision per device id). */
export function recordingHandlers(applied: string[]): DownlinkHandlers {
  return {
    'device.provision': {
      apply: async (_tx, p) => {
        applied.push(p.device_id);
        return { result: `provisioned ${p.device_id}` };
      },
    },
  };
}

/** What the cloud holds for the edge: seq, status, result. */
export async function cloudCommands(pool: Pool, edgeId: string) {
  const { rows } = await pool.query<{ seq: string; outcome: string | null; result: string | null; delivered: boolean; type: string }>(
    'SELECT seq, outcome, result, delivered_at IS NOT NULL AS delivered, type FROM edge_commands WHERE edge_id = $1 ORDER BY seq',
    [edgeId],
  );
  return rows.map((r) => ({ seq: Number(r.seq), outcome: r.outcome, result: r.result, delivered: r.delivered, type: r.type }));
}

export const uuid = () => randomUUID();
