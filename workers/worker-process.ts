/**
 * What the edge and cloud worker processes share beyond platform/: start-up (the Temporal
 * runtime, graceful shutdown and the /health endpoint), running the Temporal worker so that its
 * shutdown fits the grace period, and the ready phase. Each main adds its own clients in between.
 */
import { Worker, type WorkerOptions } from '@temporalio/worker';
import type { Settings } from '../config/settings';
import { logger, type Logger } from '../platform/logger';
import { HealthServer, type CheckResult } from '../platform/health';
import { Lifecycle } from '../platform/lifecycle';
import { installTemporalRuntime } from '../temporal/runtime';

/** How long a start-up step waits for a dependency; SIGTERM cuts the wait short. */
export type DependencyWait = { log: Logger; timeoutSeconds: number; signal: AbortSignal };

/** Everything but the shutdown times, which the process's grace period decides. */
export type TemporalWorkerOptions = Omit<WorkerOptions, 'shutdownGraceTime' | 'shutdownForceTime'>;

/**
 * Of the process's SHUTDOWN_GRACE_SECONDS, the worker lets in-flight activities run this long
 * before cancelling them, leaving a few seconds to close the connection and the database pool.
 */
function workerShutdownGraceSeconds(processGraceSeconds: number): number {
  return Math.max(1, processGraceSeconds - 5);
}

/**
 * After this, an activity that ignores cancellation is abandoned (Temporal retries it elsewhere
 * once its timeout passes) so the process still exits inside its grace period.
 */
function workerShutdownForceSeconds(processGraceSeconds: number): number {
  return Math.max(workerShutdownGraceSeconds(processGraceSeconds) + 1, processGraceSeconds - 2);
}

function workerStateCheck(worker: Worker): () => CheckResult {
  return () => {
    const state = worker.getState();
    return { ok: state === 'RUNNING', detail: state };
  };
}

export class WorkerProcess {
  private constructor(
    readonly log: Logger,
    readonly lifecycle: Lifecycle,
    readonly health: HealthServer,
    readonly waitOpts: DependencyWait,
    private readonly graceSeconds: number,
  ) {}

  /**
   * Signal handlers and /health come first: a SIGTERM or a probe during the dependency waits
   * that follow is answered. The health server is the first stop step, so it closes last.
   */
  static async start(s: Settings, name: string, healthPort: number): Promise<WorkerProcess> {
    const log = logger(name);
    installTemporalRuntime(logger('temporal'));

    const lifecycle = new Lifecycle(log, s.SHUTDOWN_GRACE_SECONDS);
    lifecycle.installSignalHandlers();
    const waitOpts = { log, timeoutSeconds: s.DEPENDENCY_WAIT_SECONDS, signal: lifecycle.abort.signal };

    const health = new HealthServer(name, healthPort);
    await health.start();
    lifecycle.onStop('health server', () => health.stop());
    log.info({ health: `${health.address}/health` }, 'health endpoint listening');
    return new WorkerProcess(log, lifecycle, health, waitOpts, s.SHUTDOWN_GRACE_SECONDS);
  }

  /** Creates the worker with shutdown times inside the grace period; /health reports its state. */
  async createWorker(options: TemporalWorkerOptions): Promise<Worker> {
    const worker = await Worker.create({
      ...options,
      shutdownGraceTime: `${workerShutdownGraceSeconds(this.graceSeconds)} seconds`,
      shutdownForceTime: `${workerShutdownForceSeconds(this.graceSeconds)} seconds`,
    });
    this.health.addCheck('worker', workerStateCheck(worker));
    return worker;
  }

  /**
   * Starts polling. On shutdown the worker stops first of the steps registered so far, and its
   * in-flight activities finish before the clients they use are closed.
   */
  run(worker: Worker): Promise<void> {
    const running = worker.run();
    this.lifecycle.onStop('temporal worker', async () => {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await running;
    });
    return running;
  }

  ready(): void {
    this.health.setPhase('ready');
    this.lifecycle.onStop('health phase', async () => this.health.setPhase('stopping'));
  }

  /** A worker run that fails, rather than stopping on SIGTERM, takes the process down through the stop steps. */
  exitWhenWorkerFails(running: Promise<void>, message: string): void {
    running.catch((err: Error) => {
      this.log.fatal({ err: err.message }, message);
      void this.lifecycle.shutdown().finally(() => process.exit(1));
    });
  }
}
