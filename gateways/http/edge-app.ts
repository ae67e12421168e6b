/**
 * The edge HTTP API as two express apps, one per audience, without listening sockets: edge-main.ts
 * serves each on its own listener, tests serve them on ephemeral ports.
 *
 *   station app   EDGE_STATION_HTTP_HOST:EDGE_STATION_HTTP_PORT (the barn LAN on a farm server)
 *                 /health, /metrics; POST /api/v1/media/images/presign|complete with the station's
 *                 device credentials (media-router.ts, device-auth.ts)
 *   operator app  EDGE_HTTP_HOST:EDGE_HTTP_PORT (loopback by default)
 *                 /health, /metrics; every other route needs an operator token (operator-auth.ts):
 *                 /api/v1/ingress/rejects, /api/v1/flocks, /api/v1/sync/status|pause|resume|retry-now, /api/v1/sync/dlq,
 *                 /api/v1/alarms (list, show, acknowledge), /api/v1/alarm-rules (list, put, delete)
 *
 * Neither app serves the other's routes: an operator route on the station listener is 404, and a
 * station's credentials on the operator listener are 401. Bodies in a charset other than UTF-8 are
 * 415 on both (charset.ts); on the station app they are kept in ingress_rejects like every other
 * refused device request.
 */
import express, { type Express } from 'express';
import type { Pool } from 'pg';
import { settings, type Settings } from '../../config/settings';
import { objectStoreConfigFromSettings, s3ObjectStore, type ObjectStore, type ObjectStoreConfig } from '../../weighvision/media/object-store';
import { cachedSessionDirectory, temporalSessionDirectory, type SessionDirectory } from '../../weighvision/media/session-directory';
import { logger, type Logger } from '../../platform/logger';
import { utf8Only } from './charset';
import { parseBasicAuth } from './device-auth';
import { edgeAlarmsRouter } from './alarms/edge-alarms-router';
import { alarmRulesRouter } from './alarms/rules-router';
import { temporalAlarmSignaller, type AlarmSignaller } from '../../alarms/acknowledge';
import { errorHandler, notFound } from './errors';
import { flocksRouter } from './flocks/flocks-router';
import { healthRouter, type Phase } from './health';
import { recordHttpReject } from '../../ingest/ingress-rejects';
import { ingressRejectsRouter } from './ingest/rejects-router';
import { mediaRouter } from './weighvision/media-router';
import { requireOperator } from './operator-auth';
import { requestId } from './request-id';
import { temporalSyncControl, type SyncForwarderControl } from './sync/control';
import { syncDlqRouter } from './sync/dlq';
import { syncStatusRouter } from './sync/status';

/** What the edge apps are configured with; edgeHttpConfig() reads it from the settings. */
export interface EdgeHttpConfig {
  edgeId: string;
  /** EDGE_FARM_TIME_ZONE: the local day an operator's count belongs to. */
  farmTimeZone: string;
  /** The edge's Temporal (TEMPORAL_ADDRESS, TEMPORAL_EDGE_NAMESPACE): sessions and the sync forwarder. */
  temporal: { address: string; namespace: string };
  media: { presignExpirySeconds: number; maxImageBytes: number; sessionWaitMs: number };
  /** The S3 store of the S3_* settings, used unless a caller passes its own objectStore. */
  objectStore: ObjectStoreConfig;
}

export function edgeHttpConfig(s: Settings): EdgeHttpConfig {
  return {
    edgeId: s.EDGE_ID,
    farmTimeZone: s.EDGE_FARM_TIME_ZONE,
    temporal: { address: s.TEMPORAL_ADDRESS, namespace: s.TEMPORAL_EDGE_NAMESPACE },
    media: { presignExpirySeconds: s.MEDIA_PRESIGN_EXPIRY_SECONDS, maxImageBytes: s.MEDIA_MAX_IMAGE_BYTES, sessionWaitMs: s.MEDIA_SESSION_WAIT_MS },
    objectStore: objectStoreConfigFromSettings(s),
  };
}

/** The apps' default when a caller (a test) passes no config. */
const fromSettings = () => edgeHttpConfig(settings());

export interface EdgeAppDeps {
  pool: Pool;
  log?: Logger;
  /** Lets main.ts report `stopping` on /health while it drains; ready by default. */
  phase?: () => Phase;
  /** Operator app: the sync forwarder workflow (status query, pause/resume/retry-now); by default through the edge's Temporal. */
  syncControl?: SyncForwarderControl;
  edgeId?: string;
  /** Operator app: acknowledgements reach the alarms' workflows; by default through the edge's Temporal. */
  alarmSignaller?: AlarmSignaller;
  /** Station app: WeighVision sessions, for image uploads; by default their workflows on the edge's Temporal. */
  sessions?: SessionDirectory;
  /** Station app: where images are uploaded; by default the S3 store of S3_* settings. */
  objectStore?: ObjectStore;
  /** Station app: how long a presign waits for a session not started yet; default config.media.sessionWaitMs. */
  sessionWaitMs?: number;
  /** edge-main.ts passes edgeHttpConfig(settings()); left out (tests), it is read here. */
  config?: EdgeHttpConfig;
}

function baseApp(component: string, pool: Pool, phase?: () => Phase): Express {
  const app = express();
  app.disable('x-powered-by');
  app.use(requestId);
  app.use(
    healthRouter(
      component,
      {
        database: async () => {
          await pool.query('SELECT 1');
          return { ok: true };
        },
      },
      phase,
    ),
  );
  return app;
}

/** The stations' listener: image uploads with device credentials, and health. */
export function createEdgeStationApp({
  pool,
  log = logger('edge-http'),
  phase,
  sessions,
  objectStore,
  sessionWaitMs,
  config = fromSettings(),
}: EdgeAppDeps): Express {
  const media = mediaRouter({
    pool,
    log,
    sessions: sessions ?? cachedSessionDirectory(temporalSessionDirectory(config.temporal)),
    objectStore: objectStore ?? s3ObjectStore(config.objectStore),
    presignExpirySeconds: config.media.presignExpirySeconds,
    maxImageBytes: config.media.maxImageBytes,
    sessionWaitMs: sessionWaitMs ?? config.media.sessionWaitMs,
  });
  const app = baseApp('edge-http-station', pool, phase);
  const charset = utf8Only({
    // Kept with the other refused device requests (the body is not read: its size is what was announced).
    onRefused: async (req, refusal) => {
      const username = parseBasicAuth(req.get('authorization'))?.username;
      await recordHttpReject(pool, log, {
        route: `${req.method} ${req.baseUrl}${req.path}`,
        reason: refusal.code,
        detail: username === undefined ? refusal.message : `${refusal.message} (username ${JSON.stringify(username.slice(0, 128))})`,
        bodySize: Number(req.get('content-length')) || 0,
      });
    },
  });
  app.use('/api/v1/media/images', charset, media);
  app.use(notFound);
  app.use(errorHandler(log));
  return app;
}

/** The operators' listener: rejects, flocks, sync status and control, DLQ — each behind an operator token. */
export function createEdgeOperatorApp({
  pool,
  log = logger('edge-http'),
  phase,
  syncControl,
  alarmSignaller,
  edgeId,
  config = fromSettings(),
}: EdgeAppDeps): Express {
  const id = edgeId ?? config.edgeId;
  const sync = syncControl ?? temporalSyncControl({ ...config.temporal, edgeId: id });
  const app = baseApp('edge-http-operator', pool, phase);
  // Everything below /health and /metrics, unknown paths included: nothing about this API without a token.
  app.use(requireOperator(pool));
  app.use(utf8Only());
  app.use('/api/v1/ingress/rejects', ingressRejectsRouter(pool));
  app.use('/api/v1/flocks', flocksRouter(pool, { timeZone: config.farmTimeZone }));
  app.use('/api/v1/sync/dlq', syncDlqRouter(pool));
  app.use('/api/v1/alarm-rules', alarmRulesRouter(pool));
  app.use('/api/v1/alarms', edgeAlarmsRouter(pool, alarmSignaller ?? temporalAlarmSignaller(config.temporal)));
  app.use('/api/v1/sync', syncStatusRouter({ pool, control: sync, edgeId: id }));
  app.use(notFound);
  app.use(errorHandler(log));
  return app;
}

/** The station app under its earlier name (the media upload tests serve it). */
export const createEdgeApp = createEdgeStationApp;
