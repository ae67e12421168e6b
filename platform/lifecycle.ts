/**
 * Graceful shutdown for a long-running process: on SIGTERM or SIGINT the registered stop steps
 * run in reverse order of registration (stop taking work, finish or abandon in-flight work,
 * close clients); if they overrun the grace period the process exits non-zero rather than hang.
 */
import type { Logger } from './logger';

type StopStep = { name: string; stop: () => Promise<void> };

export class Lifecycle {
  private readonly steps: StopStep[] = [];
  private stopping?: Promise<void>;
  readonly abort = new AbortController();

  constructor(
    private readonly log: Logger,
    private readonly graceSeconds: number,
  ) {}

  onStop(name: string, stop: () => Promise<void>): void {
    this.steps.push({ name, stop });
  }

  installSignalHandlers(): void {
    for (const sig of ['SIGTERM', 'SIGINT'] as const) {
      process.once(sig, () => {
        this.log.info({ signal: sig }, 'shutting down');
        void this.shutdown().then(
          () => process.exit(0),
          () => process.exit(1),
        );
      });
    }
  }

  shutdown(): Promise<void> {
    this.stopping ??= this.runSteps();
    return this.stopping;
  }

  private async runSteps(): Promise<void> {
    this.abort.abort();
    const timer = setTimeout(() => {
      this.log.error({ graceSeconds: this.graceSeconds }, 'shutdown overran its grace period; exiting');
      process.exit(1);
    }, this.graceSeconds * 1000);
    timer.unref();
    for (const step of [...this.steps].reverse()) {
      try {
        await step.stop();
        this.log.info({ step: step.name }, 'stopped');
      } catch (err) {
        this.log.error({ step: step.name, err: (err as Error).message }, 'stop step failed');
      }
    }
    clearTimeout(timer);
  }
}
