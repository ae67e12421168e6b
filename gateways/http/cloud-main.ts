/**
 * The cloud HTTP gateway process (CLOUD_HTTP_PORT): /health (cloud database reachable) and
 * /metrics; the ingestion endpoints arrive with the next issue.
 *
 *   npm run cloud:http
 */
import { settings } from '../../config/settings';
import { logger } from '../../platform/logger';
import { createCloudApp } from './cloud-app';
import { runGateway } from './serve';

const s = settings();
runGateway({
  component: 'cloud-http',
  databaseUrl: s.CLOUD_DATABASE_URL,
  port: s.CLOUD_HTTP_PORT,
  log: logger('cloud-http'),
  createApp: createCloudApp,
});
