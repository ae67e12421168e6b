/**
 * The edge HTTP gateway process, with one listener per audience (edge-app.ts):
 *
 *   station   EDGE_STATION_HTTP_HOST:EDGE_STATION_HTTP_PORT   WeighVision image uploads (device
 *             credentials), /health, /metrics; on a farm server the barn LAN address or 0.0.0.0
 *   operator  EDGE_HTTP_HOST:EDGE_HTTP_PORT                   ingress rejects, sync status and
 *             control, DLQ (operator token), /health, /metrics; loopback by default
 *
 *   npm run edge:http
 */
import { settings } from '../../config/settings';
import { logger } from '../../platform/logger';
import { createEdgeOperatorApp, createEdgeStationApp, edgeHttpConfig } from './edge-app';
import { runGateway } from './serve';

// Settings are read here, once, and handed down.
const s = settings();
const config = edgeHttpConfig(s);
runGateway({
  component: 'edge-http',
  databaseUrl: s.EDGE_DATABASE_URL,
  log: logger('edge-http'),
  shutdownGraceSeconds: s.SHUTDOWN_GRACE_SECONDS,
  dependencyWaitSeconds: s.DEPENDENCY_WAIT_SECONDS,
  listeners: [
    { name: 'station', host: s.EDGE_STATION_HTTP_HOST, port: s.EDGE_STATION_HTTP_PORT, createApp: (deps) => createEdgeStationApp({ ...deps, config }) },
    { name: 'operator', host: s.EDGE_HTTP_HOST, port: s.EDGE_HTTP_PORT, createApp: (deps) => createEdgeOperatorApp({ ...deps, config }) },
  ],
});
