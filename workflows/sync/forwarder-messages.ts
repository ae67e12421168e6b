/**
 * Operators' messages: the pause, resume, connectivityRestored and configure signals and the
 * status query, registered in this order before the run does anything else.
 */
import { log, setHandler } from '@temporalio/workflow';
import {
  configureSyncSignal,
  connectivityRestoredSignal,
  pauseSyncSignal,
  resolveSyncConfig,
  resumeSyncSignal,
  syncStatusQuery,
  type SyncStatus,
} from '../../sync/sync-contract';
import { now, type ForwarderState } from './forwarder-state';

export function answerMessages(s: ForwarderState): void {
  setHandler(pauseSyncSignal, (req) => {
    if (s.paused === null) {
      s.paused = { since: now(), ...(req?.reason ? { reason: req.reason } : {}), ...(req?.by ? { by: req.by } : {}) };
      log.info('sync paused', { ...s.paused });
    }
    s.cancelClaims();
  });
  setHandler(resumeSyncSignal, () => {
    if (s.paused !== null) log.info('sync resumed', { pausedSince: s.paused.since });
    s.paused = null;
    s.wake++;
  });
  setHandler(connectivityRestoredSignal, () => {
    s.retryNow++;
    s.wake++;
  });
  setHandler(configureSyncSignal, (next) => {
    s.config = resolveSyncConfig({ ...next, edgeId: s.config.edgeId });
  });
  setHandler(syncStatusQuery, (): SyncStatus => s.status());
}
