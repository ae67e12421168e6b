/** A run's first step. Keeps its awaits as they were (see forwarder.ts). */
import { failureOf } from './activity-failure';
import { outboxActivities } from './forwarder-activities';
import type { ForwarderState } from './forwarder-state';

/** Before the lanes start: free leases a crashed worker left (first run only), then check for a signing key. */
export async function startUp(s: ForwarderState): Promise<void> {
  if (s.firstRun) {
    try {
      await outboxActivities.releaseExpiredSyncLeases();
    } catch (err) {
      const f = failureOf(err);
      s.noteError(f.type, `releasing expired leases failed: ${f.message}`);
    }
  }
  if (s.halt === null) {
    try {
      const check = await outboxActivities.checkSyncConfiguration();
      if (!check.configured) s.enterHalt('not_configured', check.reason ?? 'no signing key');
    } catch (err) {
      const f = failureOf(err);
      s.noteError(f.type, `configuration check failed: ${f.message}`);
    }
  }
  s.started = true;
}
