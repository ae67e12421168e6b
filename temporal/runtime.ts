/**
 * Routes everything the Temporal SDK logs — its own messages, the Core (Rust) messages and the
 * workflow/activity `log` calls — into the process's pino logger, so one JSON stream holds it all.
 *
 * Runtime.install may run once per process, before any connection or worker is created.
 */
import { Runtime } from '@temporalio/worker';
import type { LogLevel, LogMetadata, Logger as TemporalLogger } from '@temporalio/common';
import type { Logger } from '../platform/logger';

const pinoLevel = { TRACE: 'trace', DEBUG: 'debug', INFO: 'info', WARN: 'warn', ERROR: 'error' } as const;

/** A Temporal Logger backed by pino. */
export class PinoTemporalLogger implements TemporalLogger {
  constructor(private readonly pino: Logger) {}

  log(level: LogLevel, message: string, meta?: LogMetadata): void {
    // The SDK puts failures under `error`; pino serializes an Error (message, stack, cause) only
    // under `err`, and would otherwise print it as {}. pino's `err.type` is the class name, so an
    // ApplicationFailure's own type (what retry policies match on) is kept as failureType.
    const { error, ...rest } = meta ?? {};
    if (error === undefined) {
      this.pino[pinoLevel[level]](rest, message);
      return;
    }
    const failureType = (error as { type?: unknown }).type;
    this.pino[pinoLevel[level]]({ ...rest, err: error, ...(typeof failureType === 'string' ? { failureType } : {}) }, message);
  }
  trace(message: string, meta?: LogMetadata): void {
    this.log('TRACE', message, meta);
  }
  debug(message: string, meta?: LogMetadata): void {
    this.log('DEBUG', message, meta);
  }
  info(message: string, meta?: LogMetadata): void {
    this.log('INFO', message, meta);
  }
  warn(message: string, meta?: LogMetadata): void {
    this.log('WARN', message, meta);
  }
  error(message: string, meta?: LogMetadata): void {
    this.log('ERROR', message, meta);
  }
}

let installed = false;

export function installTemporalRuntime(log: Logger): void {
  if (installed) return;
  Runtime.install({
    logger: new PinoTemporalLogger(log),
    telemetryOptions: { logging: { filter: { core: 'WARN', other: 'ERROR' }, forward: {} } },
    // The process's Lifecycle owns SIGTERM/SIGINT and shuts the worker down in order (worker, then
    // connection, then database). Without this the Runtime would also react to the same signal.
    shutdownSignals: [],
  });
  installed = true;
}
