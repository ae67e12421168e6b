/**
 * The edge HTTP API as an express app, without a listening socket: edge-main.ts serves it, tests
 * serve it on an ephemeral port.
 */
import express, { type Express } from 'express';
import type { Pool } from 'pg';
import { settings } from '../../config/settings';
import { s3ObjectStore, type ObjectStore } from '../../media/object-store';
import { cachedSessionDirectory, temporalSessionDirectory, type SessionDirectory } from '../../media/session-directory';
import { logger, type Logger } from '../../platform/logger';
import { errorHandler, notFound } from './errors';
import { healthRouter, type Phase } from './health';
import { ingressRejectsRouter } from './ingress-rejects';
import { mediaRouter } from './media-router';
import { requestId } from './request-id';
import { temporalSyncControl, type SyncForwarderControl } from './sync-control';
import { syncDlqRouter } from './sync-dlq';
import { syncStatusRouter } from './sync-status';

export interface EdgeAppDeps {
  pool: Pool;
  log?: Logger;
  /** Lets main.ts report `stopping` on /health while it drains; ready by default. */
  phase?: () => Phase;
  /** The sync forwarder workflow (status query, pause/resume/retry-now); by default through the edge's Temporal. */
  syncControl?: SyncForwarderControl;
  edgeId?: string;
  /** WeighVision sessions, for image uploads; by default their workflows on the edge's Temporal. */
  sessions?: SessionDirectory;
  /** Where images are uploaded; by default the S3 store of S3_* settings. */
  objectStore?: ObjectStore;
}

export function createEdgeApp({ pool, log = logger('edge-http'), phase, syncControl, edgeId, sessions, objectStore }: EdgeAppDeps): Express {
  const s = settings();
  const sync = syncControl ?? temporalSyncControl({ address: s.TEMPORAL_ADDRESS, namespace: s.TEMPORAL_EDGE_NAMESPACE, edgeId: edgeId ?? s.EDGE_ID });
  const media = mediaRouter({
    pool,
    log,
    sessions: sessions ?? cachedSessionDirectory(temporalSessionDirectory({ address: s.TEMPORAL_ADDRESS, namespace: s.TEMPORAL_EDGE_NAMESPACE })),
    objectStore: objectStore ?? s3ObjectStore(),
    presignExpirySeconds: s.MEDIA_PRESIGN_EXPIRY_SECONDS,
    maxImageBytes: s.MEDIA_MAX_IMAGE_BYTES,
    sessionWaitMs: s.MEDIA_SESSION_WAIT_MS,
  });
  const app = express();
  app.disable('x-powered-by');
  app.use(requestId);
  app.use(
    healthRouter(
      'edge-http',
      {
        database: async () => {
          await pool.query('SELECT 1');
          return { ok: true };
        },
      },
      phase,
    ),
  );
  app.use('/api/v1/ingress/rejects', ingressRejectsRouter(pool));
  app.use('/api/v1/sync/dlq', syncDlqRouter(pool));
  app.use('/api/v1/media/images', media);
  app.use('/api/v1/sync', syncStatusRouter({ pool, control: sync, edgeId: edgeId ?? s.EDGE_ID }));
  app.use(notFound);
  app.use(errorHandler(log));
  return app;
}
