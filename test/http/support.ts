/**
 * What the HTTP route tests share: the routes of an express app read from its own router stack
 * (so a route added later is swept without touching a test), an app on an ephemeral port, operator
 * tokens and station credentials in an edge database, and in-memory stand-ins for the edge apps'
 * Temporal and S3 dependencies.
 */
import { randomUUID } from 'node:crypto';
import type { Express } from 'express';
import type { Pool } from 'pg';
import type { ObjectStore } from '../../weighvision/media/object-store';
import type { SessionDirectory, SessionInfo } from '../../weighvision/media/session-directory';
import { addOperator } from '../../gateways/http/operator-credentials';
import { SyncControlError, type SyncForwarderControl } from '../../gateways/http/sync/control';
import { provisionDevice, type ProvisionedDevice } from '../../gateways/mqtt-bridge/broker/credentials';
import type { PauseSyncRequest, SyncStatus } from '../../sync/sync-contract';
import type { listen } from '../auth/support';

export interface SweptRoute {
  method: string;
  path: string;
}

interface Layer {
  route?: { path: string | string[]; methods: Record<string, boolean> };
  handle?: { stack?: Layer[] };
  rawPath?: string | string[];
}

/** Every (method, path) of the app, mounted routers included (express 5 / router 2 layers). */
export function routesOf(app: Express): SweptRoute[] {
  const out: SweptRoute[] = [];
  const walk = (stack: Layer[], prefix: string) => {
    for (const layer of stack) {
      if (layer.route) {
        const paths = Array.isArray(layer.route.path) ? layer.route.path : [layer.route.path];
        for (const p of paths) {
          for (const [m, on] of Object.entries(layer.route.methods)) {
            if (on && m !== '_all') out.push({ method: m.toUpperCase(), path: (prefix + p).replace(/(.)\/$/, '$1') });
          }
        }
      } else if (Array.isArray(layer.handle?.stack)) {
        const mount = typeof layer.rawPath === 'string' && layer.rawPath !== '/' ? layer.rawPath : '';
        walk(layer.handle.stack, prefix + mount);
      }
    }
  };
  walk((app as unknown as { router: { stack: Layer[] } }).router.stack, '');
  return out;
}

export const routeKey = (r: SweptRoute) => `${r.method} ${r.path}`;
export const publicRoutes = new Set(['GET /health', 'GET /metrics']);

/** An app on an ephemeral loopback port: the auth tests' `listen`. */
export { listen as serve } from '../auth/support';
export type Served = Awaited<ReturnType<typeof listen>>;

export interface Answer {
  status: number;
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any
  text: string;
  headers: Headers;
}

export async function request(
  base: string,
  method: string,
  path: string,
  opts: { headers?: Record<string, string>; body?: string | Buffer } = {},
): Promise<Answer> {
  const res = await fetch(base + path, { method, headers: opts.headers, body: opts.body });
  const text = await res.text();
  let body: unknown;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = undefined;
  }
  return { status: res.status, body, text, headers: res.headers };
}

export const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
export const basic = (username: string, password: string) => ({ authorization: `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}` });

/** A new operator with a unique name; returns its token. */
export async function newOperator(pool: Pool, label = 'jest'): Promise<{ name: string; token: string }> {
  return addOperator(pool, { name: `${label}-${randomUUID().slice(0, 8)}` });
}

export type TestStation = ProvisionedDevice;

/** A provisioned WeighVision station (edge_devices) of a new tenant. */
export async function newStation(pool: Pool): Promise<TestStation> {
  const place = { tenantId: randomUUID(), farmId: 'farm-sweep', barnId: 'barn-sweep', deviceId: `wv-${randomUUID().slice(0, 8)}` };
  const creds = await provisionDevice(pool, { ...place, kind: 'weighvision-station' });
  return { ...place, ...creds };
}

/** Sessions kept in memory: every id in `open` is an open session of `station`. */
export function memorySessions(station: TestStation, open: Set<string> = new Set()): SessionDirectory & { open: Set<string> } {
  return {
    open,
    lookup: async (tenantId, sessionId): Promise<SessionInfo | undefined> =>
      tenantId.toLowerCase() === station.tenantId && open.has(sessionId)
        ? { open: true, farmId: station.farmId, barnId: station.barnId, stationId: station.deviceId }
        : undefined,
    imageStored: async () => undefined,
    close: async () => undefined,
  };
}

/** An object store that presigns without a server and holds nothing. */
export function emptyObjectStore(): ObjectStore {
  return {
    bucket: 'farmiq-sweep',
    presignPut: async (key, contentType, sizeBytes, expiresSeconds) => ({
      url: `http://127.0.0.1:1/farmiq-sweep/${encodeURI(key)}`,
      method: 'PUT',
      headers: { 'content-type': contentType, 'content-length': String(sizeBytes) },
      expiresAt: new Date(Date.now() + expiresSeconds * 1000),
    }),
    head: async () => undefined,
    copy: async () => false,
    delete: async () => undefined,
    get: async () => {
      throw new Error('empty store');
    },
    put: async () => undefined,
    ensureBucket: async () => undefined,
    close: () => undefined,
  };
}

/** A sync forwarder that answers its status and takes every signal, without Temporal. */
export function fakeSyncControl(edgeId = 'edge-sweep'): SyncForwarderControl & { signals: string[]; pauses: PauseSyncRequest[] } {
  const signals: string[] = [];
  const pauses: PauseSyncRequest[] = [];
  const status = { edgeId, state: 'running', paused: null, halt: null, lanes: {}, lastSuccess: null, lastError: null } as unknown as SyncStatus;
  return {
    signals,
    pauses,
    workflowId: `sync-forwarder/${edgeId}`,
    status: async () => status,
    pause: async (req) => {
      signals.push('pause');
      pauses.push(req);
    },
    resume: async () => void signals.push('resume'),
    retryNow: async () => void signals.push('retry-now'),
    close: async () => undefined,
  };
}

/** A sync forwarder whose Temporal is down. */
export function unreachableSyncControl(): SyncForwarderControl {
  const down = async (): Promise<never> => {
    throw new SyncControlError('temporal_unavailable', 'Temporal is not reachable (test stand-in)');
  };
  return { workflowId: 'sync-forwarder/edge-down', status: down, pause: down, resume: down, retryNow: down, close: async () => undefined };
}
