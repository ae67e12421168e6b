/**
 * Helpers for the cloud ingestion tests: a registered edge with its signing key, signed batch
 * requests against an in-process HTTP server, catalog events carrying the placement the edge
 * stamps (farm_id, barn_id, session_id), and polling until the asynchronous pipeline settles.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import express from 'express';
import type { Pool } from 'pg';
import pino from 'pino';
import type { EventType } from '../../domain/contracts';
import { edgeBatchPaths, loadPrivateKey, signRequest, type EdgeBatchResponse, type EdgeSigner, type EventOutcome } from '../../domain/sync';
import type { CloudEventOf } from '../../cloud/cloud-event';
import { provisionEdge } from '../../cloud/edges';
import type { OutboxNudge } from '../../cloud/ingestion/batch-ingestion';
import { createEdgeBatchRouter } from '../../gateways/http/cloud-ingestion/edge-batch-router';
import { requestId } from '../../gateways/http/request-id';
import { validEvent, type EventOverrides } from '../support/events';

export const silentLog = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });

export interface TestServer {
  base: string;
  close(): Promise<void>;
}

/** The router mounted the way cloud-app.ts mounts it (request ids first). */
export async function startIngestionServer(deps: { pool: Pool; relay?: OutboxNudge; now?: () => Date }): Promise<TestServer> {
  const app = express();
  app.use(requestId);
  app.use(createEdgeBatchRouter({ pool: deps.pool, relay: deps.relay, log: silentLog, now: deps.now }));
  const server = http.createServer(app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return {
    base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export interface TestEdge extends EdgeSigner {
  tenants: string[];
}

/** A new edge (unique id) allowed to send for these tenants, as `cloud-admin edge add` makes it. */
export async function newEdge(pool: Pool, tenants: string[]): Promise<TestEdge> {
  const edge = await provisionEdge(pool, { edgeId: `test-edge-${randomUUID().slice(0, 8)}`, tenants, name: 'jest' });
  return { edgeId: edge.edgeId, keyId: edge.keyId, privateKey: loadPrivateKey(edge.privateKeyPem), tenants };
}

export const batchPath = edgeBatchPaths[0];

export interface PostOptions {
  path?: string;
  /** Sign with this instead of the edge's own key (e.g. another edge's key). */
  signer?: EdgeSigner;
  /** Clock for the signature's timestamp. */
  signedAt?: Date;
  /** Change the headers after signing. */
  headers?: (h: Record<string, string>) => Record<string, string>;
  /** Send these bytes instead of the signed ones. */
  sendBody?: Buffer | string;
  requestId?: string;
}

export interface Answer {
  status: number;
  /** The parsed JSON, or the text itself when it was not JSON. */
  body: unknown;
  headers: Headers;
}

/** One event's outcome flattened across the statuses, so a test reads `reason` without narrowing first. */
export type OutcomeView = { status: EventOutcome['status']; event_id?: string; tenant_id?: string; reason?: string };

/** The per-event results of an answer the test expects to be a batch response (a 2xx). */
export function resultsOf(answer: Answer): OutcomeView[] {
  return (answer.body as EdgeBatchResponse).results;
}

/** The error of an answer the test expects to be refused: `{ error: { code, message } }`. */
export function errorOf(answer: Answer): { code: string; message: string } {
  return (answer.body as { error: { code: string; message: string } }).error;
}

export async function send(base: string, path: string, headers: Record<string, string>, body: Buffer | string): Promise<Answer> {
  const res = await fetch(`${base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
  const text = await res.text();
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = text;
  }
  return { status: res.status, body: parsed, headers: res.headers };
}

/** Signs and posts a body (an object is JSON-encoded) as `edge`. */
export async function postSigned(
  base: string,
  edge: EdgeSigner,
  body: unknown,
  opts: PostOptions = {},
): Promise<Answer & { signedHeaders: Record<string, string>; raw: string }> {
  const path = opts.path ?? batchPath;
  const raw = typeof body === 'string' ? body : JSON.stringify(body);
  const signedHeaders = signRequest(opts.signer ?? edge, 'POST', path, raw, opts.signedAt);
  let headers: Record<string, string> = { ...signedHeaders };
  if (opts.requestId) headers['x-request-id'] = opts.requestId;
  if (opts.headers) headers = opts.headers(headers);
  const answer = await send(base, path, headers, opts.sendBody ?? raw);
  return { ...answer, signedHeaders, raw };
}

export function batchOf(edge: { edgeId: string }, events: unknown[]): { batch_id: string; edge_id: string; events: unknown[] } {
  return { batch_id: `batch-${randomUUID()}`, edge_id: edge.edgeId, events };
}

/** A valid event as an edge syncs it: with farm and barn (and a session for WeighVision events). */
export function edgeEvent<T extends EventType>(type: T, tenantId: string, overrides: EventOverrides<T> & { session_id?: string } = {}): CloudEventOf<T> {
  const { session_id, ...rest } = overrides;
  const event = validEvent(type, { tenant_id: tenantId, farm_id: 'farm-1', barn_id: 'barn-1', ...rest } as EventOverrides<T>);
  const placed = type.startsWith('weighvision.') ? { ...event, session_id: session_id ?? 'session-001' } : event;
  return placed;
}

/** Deletes every row of these tenants (and these edges) from the cloud test database. */
export async function cleanupTenants(pool: Pool, tenants: string[], edges: string[] = []): Promise<void> {
  const tables = [
    'ingestion_dedupe',
    'ingestion_outbox',
    'consumer_dedupe',
    'dead_letters',
    'telemetry_raw',
    'telemetry_rollups',
    'feed_intake',
    'weighvision_sessions',
    'weighvision_weights',
    'media_objects',
    'inference_results',
  ];
  for (const t of tables) await pool.query(`DELETE FROM ${t} WHERE tenant_id = ANY($1::uuid[])`, [tenants]);
  if (edges.length > 0) {
    await pool.query('DELETE FROM edge_request_nonces WHERE edge_id = ANY($1)', [edges]);
    await pool.query('DELETE FROM edges WHERE edge_id = ANY($1)', [edges]);
  }
  await pool.query('DELETE FROM tenants WHERE id = ANY($1::uuid[])', [tenants]);
}
