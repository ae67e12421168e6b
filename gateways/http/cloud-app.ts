/**
 * The cloud HTTP API (cloud-api-gateway-bff) as an express app, in three tiers:
 *
 *   1. open         /health, /metrics, the dashboard's files, the OpenAPI document and its page,
 *                   sign-in (password or refresh cookie)
 *   2. edge-signed  edge batch ingestion: edges authenticate by request signature (Ed25519,
 *                   domain/sync/request-signing.ts), never by a user token — so it sits ABOVE tier 3
 *   3. dashboard    everything else: requireUser() (401 without a valid token), then each route's
 *                   requireRole(), and tenant data through the tenant pool (row-level security)
 *
 * test/http/route-sweep.test.ts walks this app's router stack and checks every route of tier 2 and
 * 3 (401 without a token, 403/404 across tenants, 403 for a viewer on anything that writes), so a
 * route added here is swept without touching the test.
 */
import path from 'node:path';
import express, { type Express, type Router } from 'express';
import type { Pool } from 'pg';
import { tokenConfig, type TokenConfig } from '../../auth/tokens';
import { settings, type Settings } from '../../config/settings';
import type { InsightWriter } from '../../insights/llm/writer';
import { llmWriterFromSettings } from '../../insights/services';
import { logger, type Logger } from '../../platform/logger';
import type { CheckResult } from '../../platform/health';
import type { DeliveryPublisher } from '../../notifications/queue';
import { requireUser } from './auth-middleware';
import { utf8Only } from './charset';
import { errorHandler, notFound } from './errors';
import { healthRouter, type Phase } from './health';
import type { Client } from '@temporalio/client';
import { createNotificationsRouter } from './notifications/notifications-router';
import { createInsightsRouter } from './insights/insights-router';
import { createLlmRouter } from './insights/llm-router';
import { createMlRouter } from './insights/ml-router';
import { requestId } from './request-id';
import type { ApiRouter, DeclaredRoute } from './api/api-router';
import { openApiRouter } from './api/openapi';
import { createAuthRouter } from './auth/auth-router';
import { dashboardRouter } from './dashboard/dashboard-static';
import { createUsersRouter } from './auth/users-router';
import { signInConfig, type SignInConfig } from './auth/sign-in-config';
import { createDevicesRouter } from './directory/devices-router';
import { createEdgesRouter } from './directory/edges-router';
import { createFarmsRouter } from './directory/farms-router';
import { createFarmDataRouter } from './farm-data/farm-data-router';
import { createAlarmsRouter } from './alarms/alarms-router';
import { createEdgeCommandsApi } from './downlink/edge-commands-api';
import { createEdgeCommandsRouter } from './downlink/edge-commands-router';

/** Where `npm run build:dashboard` (run by setup) writes the dashboard. */
const dashboardDist = path.resolve(__dirname, '..', '..', 'dashboard-web', 'dist');

/** What the cloud app's routers are configured with; cloudHttpConfig() reads it from the settings. */
export interface CloudHttpConfig {
  /** INTERNAL_SERVICE_TOKEN: the bearer token of the internal ML / LLM endpoints. */
  serviceToken: string;
  /** CLOUD_TASK_QUEUE: where insight workflows run. */
  taskQueue: string;
  /** INSIGHT_RESPONSE_TIMEOUT_MS: how long a generate request waits for its insight. */
  insightResponseTimeoutMs: number;
  /** The LLM writer of the LLM_* settings; null: the template writer. */
  llm: InsightWriter | null;
  /** AUTH_JWT_SECRET, AUTH_TOKEN_TTL, AUTH_TOKEN_MAX_TTL: how dashboard tokens verify. */
  tokens: TokenConfig;
  /** AUTH_ACCESS_TTL, AUTH_REFRESH_TTL, AUTH_COOKIE_SECURE, AUTH_LOCKOUT_*: sign-in (docs/auth.md). */
  signIn: SignInConfig;
  /** CLOUD_HTTP_TRUST_PROXY: express `trust proxy` ('' trusts none). */
  trustProxy: string;
  /** DOWNLINK_MAX_WAITING_PULLS: edge command pulls held open at once (docs/downlink.md). */
  downlinkMaxWaitingPulls: number;
}

export function cloudHttpConfig(s: Settings): CloudHttpConfig {
  return {
    serviceToken: s.INTERNAL_SERVICE_TOKEN,
    taskQueue: s.CLOUD_TASK_QUEUE,
    insightResponseTimeoutMs: s.INSIGHT_RESPONSE_TIMEOUT_MS,
    llm: llmWriterFromSettings(s),
    tokens: tokenConfig(s),
    signIn: signInConfig(s),
    trustProxy: s.CLOUD_HTTP_TRUST_PROXY,
    downlinkMaxWaitingPulls: s.DOWNLINK_MAX_WAITING_PULLS,
  };
}

/** `trust proxy` as express reads it: a hop count as a number, anything else as written. */
function trustProxyValue(v: string): string | number | false {
  if (!v) return false;
  return /^\d+$/.test(v) ? Number(v) : v;
}

export interface CloudAppDeps {
  /** Owner pool (CLOUD_DATABASE_URL): health and edge ingestion only, never dashboard handlers. */
  pool: Pool;
  /** Tenant pool (CLOUD_APP_DATABASE_URL, farmiq_app): all dashboard data, under row-level security. */
  tenantPool: Pool;
  /** Enqueues email/sms/push deliveries (notifications/queue.ts NotificationQueue). */
  notificationPublisher: DeliveryPublisher;
  /**
   * The edge batch ingestion router (createEdgeBatchRouter from ./edge-batch-router), mounted in
   * tier 2. cloud-main.ts passes it; a test may leave it out.
   */
  edgeBatchRouter?: Router;
  /** Starts insight workflows on the cloud task queue (namespace farmiq-cloud). */
  temporalClient: Client;
  /** Extra /health checks (e.g. the outbox relay, RabbitMQ). */
  healthChecks?: Record<string, () => Promise<CheckResult> | CheckResult>;
  /** Verification key of dashboard tokens instead of config.tokens.secret (AUTH_JWT_SECRET); tests pass their own. */
  jwtSecret?: string;
  log?: Logger;
  phase?: () => Phase;
  /** cloud-main.ts passes cloudHttpConfig(settings()); left out (tests), it is read here. */
  config?: CloudHttpConfig;
}

export function createCloudApp(deps: CloudAppDeps): Express {
  const { pool, tenantPool, log = logger('cloud-http'), phase } = deps;
  const config = deps.config ?? cloudHttpConfig(settings());
  const tokens: TokenConfig = { ...config.tokens, secret: deps.jwtSecret ?? config.tokens.secret };
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', trustProxyValue(config.trustProxy));
  app.use(requestId);
  // Every ApiRouter mounted below adds its routes to the OpenAPI document.
  const documented: DeclaredRoute[] = [];
  const mount = (api: ApiRouter) => {
    documented.push(...api.routes);
    app.use(api.router);
  };

  // ── 1. open ──────────────────────────────────────────────────────────────────────────────
  app.use(
    healthRouter(
      'cloud-http',
      {
        database: async () => {
          await pool.query('SELECT 1');
          return { ok: true };
        },
        'tenant-database': async () => {
          await tenantPool.query('SELECT 1');
          return { ok: true };
        },
        ...deps.healthChecks,
      },
      phase,
    ),
  );

  // The dashboard's files (dashboard-web, built by setup): public like its sign-in page; all data
  // comes from /api/v1 below, which checks the token. It leaves /api, /health and /metrics alone.
  app.use(dashboardRouter({ distDir: dashboardDist }));
  app.use(
    openApiRouter(() => documented, {
      title: 'FarmIQ cloud API',
      version: '1',
      description: 'The dashboard, the CLI and integrators use this API. Tenant = the token’s.',
    }),
  );

  // ── 2. edge-signed (NOT behind requireUser) ──────────────────────────────────────────────
  // EDGE BATCH INGESTION MOUNTS HERE: createEdgeBatchRouter({ pool, relay, log }) from
  // ./edge-batch-router, passed in as deps.edgeBatchRouter by cloud-main.ts. Keep it above
  // requireUser(): an edge has no user token, and a user token must not authenticate an edge.
  if (deps.edgeBatchRouter) app.use(deps.edgeBatchRouter);
  // The downlink: edges pull their commands, signed the same way (docs/downlink.md).
  app.use(createEdgeCommandsRouter({ pool, log, maxWaiting: config.downlinkMaxWaitingPulls }));
  // Internal services (spec §5: cloud-ml-model-service, cloud-llm-insights-service) take a service
  // token, not a user token.
  // Sign-in, refresh and sign-out: no access token yet (the refresh cookie and the password are
  // the credentials), so above requireUser (docs/auth.md).
  mount(createAuthRouter({ pool, tokens, config: config.signIn, log }));
  mount(createMlRouter({ log, serviceToken: config.serviceToken, tokens }));
  mount(createLlmRouter({ log, serviceToken: config.serviceToken, tokens, llm: config.llm }));

  // ── 3. dashboard: a valid user token from here on ─────────────────────────────────────────
  app.use(requireUser(tokens));
  // Every dashboard body is UTF-8 JSON: another charset is 415 before any router reads it.
  app.use(utf8Only());
  mount(createNotificationsRouter({ pool: tenantPool, publisher: deps.notificationPublisher, log }));
  mount(
    createInsightsRouter({
      temporalClient: deps.temporalClient,
      pool: tenantPool,
      log,
      taskQueue: config.taskQueue,
      responseTimeoutMs: config.insightResponseTimeoutMs,
      tokens,
    }),
  );
  // The caller and the tenant's users (auth/admin.ts), through the tenant pool; the owner pool
  // only for the sign-in sessions a password change ends.
  mount(createUsersRouter({ pool, tenantPool, config: config.signIn, log }));
  // The directory: farms, barns and their flocks, devices, farm servers (cloud/farm-directory.ts,
  // cloud/device-directory.ts, cloud/edges.ts), all through the tenant pool.
  mount(createFarmsRouter({ pool: tenantPool }));
  mount(createDevicesRouter({ pool: tenantPool }));
  mount(createEdgesRouter({ pool: tenantPool }));
  // What the cloud stores about a farm, read-only (cloud/farm-data/): climate series, weighings,
  // growth, feed, mortality, KPIs, the farm overview and each farm server's health.
  mount(createFarmDataRouter({ tenantPool, pool, log }));
  // The farm servers' alarms as the cloud keeps them (cloud/alarms/); acknowledging and rule changes
  // go down to the farm server as downlink commands.
  mount(createAlarmsRouter({ pool: tenantPool }));
  // The commands queued for each of the tenant's farm servers (cloud/downlink/).
  mount(createEdgeCommandsApi({ pool: tenantPool }));
  // More dashboard routers mount here as ApiRouters (gateways/http/api/api-router.ts): each
  // route's role first, tenant data read with withTenant(tenantPool, …).

  app.use(notFound);
  app.use(errorHandler(log));
  return app;
}
