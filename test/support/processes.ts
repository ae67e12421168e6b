/**
 * Any FarmIQ entry point as a real child process, the way systemd runs it (`node --import tsx
 * <entry>`: one pid, so kill -9 kills the process itself and not a wrapper), with env overrides,
 * its /health awaited, its output captured, and kill -9 / SIGTERM / restart.
 *
 *   const worker = new FarmiqProcess({ name: 'edge-worker', entry: 'workers/edge/main.ts',
 *     env: { EDGE_ID, EDGE_WORKER_HEALTH_PORT: String(port), … }, healthUrl: `http://127.0.0.1:${port}/health` });
 *   await worker.start();          // resolves once /health answers 200
 *   await worker.kill9();          // SIGKILL, waits for the exit
 *   await worker.restart();        // start again, same env
 *   expect(await worker.stop()).toBe(0);   // SIGTERM, exit code (SIGKILL after stopTimeoutMs)
 *   worker.output()                // everything it printed, over every run
 *
 * A test that forgets stop() does not leave processes behind: they are SIGKILLed when jest's
 * worker exits.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { repoRoot } from './stack';

export interface FarmiqProcessOptions {
  /** For messages and logs. */
  name: string;
  /** Repository-relative path of the entry point, e.g. gateways/http/cloud-main.ts. */
  entry: string;
  /** Added to the test process's environment (FARMIQ_CONFIG is cleared unless given). */
  env: Record<string, string | undefined>;
  /** GET this until it answers 200; without it start() resolves once the process is spawned. */
  healthUrl?: string;
  /** How long start() waits for /health (default 120 s: a worker may bundle its workflows). */
  startTimeoutMs?: number;
  /** SIGTERM is followed by SIGKILL after this long (default 30 s). */
  stopTimeoutMs?: number;
  /** Also append the output to this file. */
  logFile?: string;
  /** Output kept in memory (the tail), default 4 MiB. */
  keepBytes?: number;
}

const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class FarmiqProcess {
  private child?: ChildProcess;
  private exited: Promise<number | null> = Promise.resolve(null);
  private out = '';
  private starts = 0;

  constructor(readonly opts: FarmiqProcessOptions) {}

  get pid(): number | undefined {
    return this.running ? this.child?.pid : undefined;
  }

  get running(): boolean {
    return !!this.child && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** How many times the process was started. */
  get startCount(): number {
    return this.starts;
  }

  /** Everything the process printed (stdout and stderr, every run), the last keepBytes of it. */
  output(): string {
    return this.out;
  }

  tail(lines = 40): string {
    return this.out.trimEnd().split('\n').slice(-lines).join('\n');
  }

  private record(text: string): void {
    this.out += text;
    const keep = this.opts.keepBytes ?? 4 * 1024 * 1024;
    if (this.out.length > keep) this.out = this.out.slice(this.out.length - keep);
    if (this.opts.logFile) fs.appendFileSync(this.opts.logFile, text);
  }

  /** Spawns the process and waits for its /health to answer 200. */
  async start(): Promise<void> {
    if (this.running) throw new Error(`${this.opts.name} is already running (pid ${this.child!.pid})`);
    this.starts++;
    this.record(`\n----- ${this.opts.name} start #${this.starts} at ${new Date().toISOString()} -----\n`);
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(repoRoot, this.opts.entry)], {
      cwd: repoRoot,
      env: { ...process.env, FARMIQ_CONFIG: '', ...this.opts.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    live.add(child);
    child.stdout.on('data', (b: Buffer) => this.record(b.toString()));
    child.stderr.on('data', (b: Buffer) => this.record(b.toString()));
    this.exited = new Promise((resolve) =>
      child.once('exit', (code, signal) => {
        live.delete(child);
        this.record(`----- ${this.opts.name} exited (code ${code}, signal ${signal}) -----\n`);
        resolve(code);
      }),
    );
    child.once('error', (err) => this.record(`spawn error: ${err.message}\n`));
    this.child = child;
    if (!this.opts.healthUrl) return;
    const deadline = Date.now() + (this.opts.startTimeoutMs ?? 120_000);
    for (;;) {
      if (!this.running) throw new Error(`${this.opts.name} exited while starting:\n${this.tail()}`);
      const ok = await fetch(this.opts.healthUrl, { signal: AbortSignal.timeout(2000) }).then(
        (r) => r.status === 200,
        () => false,
      );
      if (ok) return;
      if (Date.now() > deadline) {
        await this.kill9();
        throw new Error(`${this.opts.name} did not become healthy at ${this.opts.healthUrl}:\n${this.tail()}`);
      }
      await sleep(100);
    }
  }

  /** SIGKILL: a crash. Resolves once the process is gone. */
  async kill9(): Promise<void> {
    if (!this.running) return;
    this.record(`----- ${this.opts.name}: kill -9 at ${new Date().toISOString()} -----\n`);
    this.child!.kill('SIGKILL');
    await this.exited;
  }

  /** SIGTERM (graceful shutdown), SIGKILL after stopTimeoutMs; returns the exit code (null if killed). */
  async stop(): Promise<number | null> {
    if (!this.running) return this.child?.exitCode ?? null;
    const child = this.child!;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), this.opts.stopTimeoutMs ?? 30_000);
    const code = await this.exited;
    clearTimeout(timer);
    return code;
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }

  /** CPU seconds (user + system) of the running process so far, from /proc; 0 when not running. */
  cpuSeconds(): number {
    const pid = this.pid;
    if (!pid) return 0;
    try {
      const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
      return (Number(fields[11]) + Number(fields[12])) / 100;
    } catch {
      return 0;
    }
  }

  /** GET a path on the process's health server (e.g. /metrics) as text. */
  async get(pathname: string): Promise<string> {
    if (!this.opts.healthUrl) throw new Error(`${this.opts.name} has no health URL`);
    const url = new URL(pathname, this.opts.healthUrl);
    const res = await fetch(url, { signal: AbortSignal.timeout(5000) });
    return res.text();
  }
}

/** The value of one Prometheus sample in /metrics text (summed over the series that match `labels`). */
export function metricValue(text: string, name: string, labels: Record<string, string> = {}): number {
  let total = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([^}]*)\})?\s+([^\s]+)/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = Object.fromEntries([...(m[3] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)].map((x) => [x[1], x[2]]));
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) total += Number(m[4]);
  }
  return total;
}
