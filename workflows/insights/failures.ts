/**
 * Reading an activity's failure inside the insight workflows: the ApplicationFailure type it
 * carries (what retry policies and callers branch on) and a sentence for the stored record and
 * logs. An ActivityFailure's own message is only "Activity task failed"; the cause says what.
 */
import { ActivityFailure, ApplicationFailure, TimeoutFailure } from '@temporalio/workflow';

export function failureType(err: unknown): string | undefined {
  const cause = err instanceof ActivityFailure ? err.cause : err;
  return cause instanceof ApplicationFailure ? (cause.type ?? undefined) : undefined;
}

export function failureMessage(err: unknown): string {
  const cause = err instanceof ActivityFailure && err.cause ? err.cause : err;
  if (cause instanceof TimeoutFailure) {
    const what = err instanceof ActivityFailure ? `activity ${err.activityType}` : 'the step';
    return `${what} timed out (${(cause.timeoutType ?? 'unknown').toLowerCase().replace(/_/g, '-')} timeout)`;
  }
  return cause instanceof Error && cause.message ? cause.message : String(cause);
}
