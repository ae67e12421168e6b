/** The end of a run: roll over to a new run, or stop on an operator's cancel. */
import { condition, log } from '@temporalio/workflow';
import type { ForwarderState } from './forwarder-state';

/** Rollover: stop the lanes, give in-flight batches drainSeconds, then cancel (and so give back) the rest. */
export async function stopAndDrain(s: ForwarderState, loops: Promise<unknown>): Promise<void> {
  s.stopping = true;
  s.cancelClaims();
  await loops;
  if (s.inFlight.size > 0) {
    if (s.config.drainSeconds > 0) await condition(() => s.inFlight.size === 0, s.config.drainSeconds * 1000);
    const left = [...s.inFlight.values()];
    for (const f of left) f.scope.cancel();
    await Promise.all(left.map((f) => f.done));
  }
}

/** Cancelled by an operator (`temporal workflow cancel`): stop cleanly, every claim given back. */
export async function stopOnCancel(s: ForwarderState, loops: Promise<unknown>): Promise<void> {
  s.stopping = true;
  await loops.catch(() => undefined);
  await Promise.all([...s.inFlight.values()].map((f) => f.done));
  log.info('sync forwarder cancelled; in-flight batches given back');
}
