/**
 * A tiny HTTP endpoint per process: GET /health (200 while ready, 503 while starting or
 * stopping, with the state of each dependency) and GET /metrics (Prometheus text format).
 */
import http from 'node:http';
import { register } from 'prom-client';

export type CheckResult = { ok: boolean; detail?: string };
export type HealthCheck = () => Promise<CheckResult> | CheckResult;

export class HealthServer {
  private readonly checks = new Map<string, HealthCheck>();
  private server?: http.Server;
  private phase: 'starting' | 'ready' | 'stopping' = 'starting';

  constructor(
    private readonly component: string,
    private readonly port: number,
    private readonly host = '127.0.0.1',
  ) {}

  addCheck(name: string, check: HealthCheck): void {
    this.checks.set(name, check);
  }

  setPhase(phase: 'starting' | 'ready' | 'stopping'): void {
    this.phase = phase;
  }

  async start(): Promise<void> {
    this.server = http.createServer((req, res) => {
      void this.handle(req, res);
    });
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(this.port, this.host, () => resolve());
    });
  }

  get address(): string {
    const a = this.server?.address();
    return a && typeof a === 'object' ? `http://${a.address}:${a.port}` : '';
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    if (req.url === '/metrics') {
      res.setHeader('content-type', register.contentType);
      res.end(await register.metrics());
      return;
    }
    if (req.url !== '/health') {
      res.statusCode = 404;
      res.end();
      return;
    }
    const results: Record<string, CheckResult> = {};
    for (const [name, check] of this.checks) {
      try {
        results[name] = await check();
      } catch (err) {
        results[name] = { ok: false, detail: (err as Error).message };
      }
    }
    const healthy = this.phase === 'ready' && Object.values(results).every((r) => r.ok);
    res.statusCode = healthy ? 200 : 503;
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ component: this.component, status: healthy ? 'ok' : this.phase === 'ready' ? 'degraded' : this.phase, checks: results }));
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}
