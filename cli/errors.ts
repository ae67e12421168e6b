/**
 * How a command fails: one line on stderr, a stable code for scripts, an exit status. A refusal the
 * domain already names (an unknown tenant, a duplicate device) keeps its own words; a database that
 * is not there is said as such, with which one.
 */
import { ZodError } from 'zod';
import { classifyDatabaseError, sqlState } from '../db/errors';

/** Codes a script can rely on (printed with --json as {"error":{"code","message"}}). */
export type CliErrorCode = 'invalid_input' | 'not_found' | 'conflict' | 'database_unavailable' | 'not_deterministic' | 'failed';

export class CliError extends Error {
  constructor(
    readonly code: CliErrorCode,
    message: string,
    readonly exitCode = 1,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

export const notFound = (message: string) => new CliError('not_found', message);
export const conflict = (message: string) => new CliError('conflict', message);
export const invalidInput = (message: string) => new CliError('invalid_input', message);

/** Connection problems: the database is down, missing, or refuses our login. */
const connectionStates = new Set(['3D000', '28P01', '28000']);

/** Wraps a failure to reach `label` (e.g. "edge database farmiq_edge") into one clear line. */
export function databaseProblem(err: unknown, label: string): CliError | undefined {
  const state = sqlState(err);
  if (!(state && connectionStates.has(state)) && classifyDatabaseError(err) !== 'transient') return undefined;
  const why = err instanceof Error && err.message ? err.message : String(state);
  return new CliError('database_unavailable', `cannot use the ${label}: ${why}`, 1, { cause: err });
}

function zodLine(err: ZodError): string {
  return err.issues.map((i) => (i.path.length ? `${i.path.join('.')}: ${i.message}` : i.message)).join('; ');
}

/** Any error as what the user sees: a CliError as it is; anything else with the `failed` code. */
export function asCliError(err: unknown): CliError {
  if (err instanceof CliError) return err;
  if (err instanceof ZodError) return new CliError('invalid_input', zodLine(err), 1, { cause: err });
  const message = err instanceof Error ? err.message : String(err);
  // The domain's own messages already say what is wrong; sort the common ones for scripts.
  if (/^no (active )?(tenant|user|edge|device|operator|flock|farm|barn|outbox row)\b/.test(message))
    return new CliError('not_found', message, 1, { cause: err });
  if (/already (exists|has|belongs|provisioned|placed)/.test(message)) return new CliError('conflict', message, 1, { cause: err });
  return new CliError('failed', message.split('\n')[0] || 'failed', 1, { cause: err });
}
