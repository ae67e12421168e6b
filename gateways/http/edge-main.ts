/**
 * The edge HTTP gateway process (EDGE_HTTP_PORT): /health, /metrics, the ingress rejects API,
 * sync status and DLQ, and WeighVision image uploads.
 *
 *   npm run edge:http
 */
import { settings } from '../../config/settings';
import { logger } from '../../platform/logger';
import { createEdgeApp } from './edge-app';
import { runGateway } from './serve';

const s = settings();
runGateway({
  component: 'edge-http',
  databaseUrl: s.EDGE_DATABASE_URL,
  port: s.EDGE_HTTP_PORT,
  log: logger('edge-http'),
  createApp: createEdgeApp,
});
