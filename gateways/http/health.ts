/**
 * GET /health for the HTTP gateways, with the same contract as platform/health.ts: 200 while
 * ready and every check passes, 503 otherwise, with the state of each dependency. GET /metrics
 * serves the process's Prometheus registry.
 */
import { Router } from 'express';
import { register } from 'prom-client';
import type { CheckResult, HealthCheck } from '../../platform/health';

export type Phase = 'starting' | 'ready' | 'stopping';

export function healthRouter(component: string, checks: Record<string, HealthCheck>, phase: () => Phase = () => 'ready'): Router {
  const router = Router();
  router.get('/health', async (_req, res) => {
    const results: Record<string, CheckResult> = {};
    for (const [name, check] of Object.entries(checks)) {
      try {
        results[name] = await check();
      } catch (err) {
        results[name] = { ok: false, detail: (err as Error).message };
      }
    }
    const current = phase();
    const healthy = current === 'ready' && Object.values(results).every((r) => r.ok);
    res.status(healthy ? 200 : 503).json({ component, status: healthy ? 'ok' : current === 'ready' ? 'degraded' : current, checks: results });
  });
  router.get('/metrics', async (_req, res) => {
    res.type(register.contentType).send(await register.metrics());
  });
  return router;
}
