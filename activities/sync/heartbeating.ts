import { Context } from '@temporalio/activity';

/**
 * Runs an activity while heartbeating every second (the SDK throttles what reaches the server), so
 * that when the worker dies mid-activity Temporal retries it after the activity's heartbeatTimeout
 * rather than its whole startToCloseTimeout.
 */
export function heartbeating<A extends unknown[], R>(activity: (...args: A) => Promise<R>): (...args: A) => Promise<R> {
  return async (...args: A): Promise<R> => {
    const ctx = Context.current();
    const beat = setInterval(() => ctx.heartbeat(), 1000);
    try {
      return await activity(...args);
    } finally {
      clearInterval(beat);
    }
  };
}
