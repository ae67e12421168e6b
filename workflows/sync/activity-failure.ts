/** What a failed activity says, read the same way by every step: its failure type, message and details. */
import { ActivityFailure, ApplicationFailure } from '@temporalio/workflow';

export function failureOf(err: unknown): { type: string; message: string; details?: unknown[] } {
  const cause = err instanceof ActivityFailure && err.cause ? err.cause : err;
  if (cause instanceof ApplicationFailure)
    return { type: cause.type ?? 'ApplicationFailure', message: cause.message, details: cause.details as unknown[] | undefined };
  if (cause instanceof Error) return { type: cause.name, message: cause.message };
  return { type: 'Error', message: String(cause) };
}
