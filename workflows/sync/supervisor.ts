/**
 * The supervisor: while sync is halted, back off (spec §7.4) and resume at once when the cloud
 * answers again or an operator sends connectivityRestored. Keeps its awaits as they were (see
 * forwarder.ts).
 */
import { CancellationScope, condition, log, patched } from '@temporalio/workflow';
import { retryDelayMs } from '../../domain/sync/retry-policy';
import type { SyncHalt } from '../../sync/sync-contract';
import { failureOf } from './activity-failure';
import { outboxActivities, probeActivities } from './forwarder-activities';
import type { ForwarderState } from './forwarder-state';
import { misconfiguredRetryDelayMs } from './pacing';

/** Each round of a halt (not while paused or during a trial): recheck the signing key, or wait out the backoff. */
export async function supervise(s: ForwarderState): Promise<void> {
  for (;;) {
    await condition(() => s.stopping || (s.halt !== null && !s.halt.trial && s.paused === null));
    if (s.stopping) return;
    const h = s.halt!;
    s.rounds++;
    h.rounds++;
    if (h.kind === 'not_configured') await recheckConfiguration(s, h);
    else await waitOutBackoff(s, h);
  }
}

/** not_configured: look for a signing key every configurationRecheckSeconds, or at once on retry-now. */
async function recheckConfiguration(s: ForwarderState, h: SyncHalt): Promise<void> {
  let seen = s.retryNow;
  // A retry-now that came while the previous check ran (a key installed just then) must start
  // another check at once, not wait for the next recheck.
  if (s.configCheckedAt?.halt === h && patched('sync-retry-now-during-config-check')) seen = s.configCheckedAt.retryNow;
  await condition(() => s.stopping || s.retryNow !== seen, s.config.configurationRecheckSeconds * 1000);
  if (s.stopping) return;
  s.configCheckedAt = { halt: h, retryNow: s.retryNow };
  try {
    const check = await outboxActivities.checkSyncConfiguration();
    if (s.halt !== h) return;
    if (check.configured) {
      log.info('sync configured; starting', { keyId: check.keyId, cloudUrl: check.cloudUrl });
      s.halt = null;
      s.wake++;
    } else {
      h.detail = check.reason ?? h.detail;
    }
  } catch (err) {
    const f = failureOf(err);
    s.noteError(f.type, `configuration check failed: ${f.message}`);
  }
}

/**
 * offline / misconfigured: wait out the backoff, ending early when the health probe finds the
 * cloud (offline only) or on retry-now; otherwise allow one trial batch.
 */
async function waitOutBackoff(s: ForwarderState, h: SyncHalt): Promise<void> {
  const seen = s.retryNow;
  const waitMs = h.kind === 'offline' ? retryDelayMs(h.rounds) : misconfiguredRetryDelayMs(h.rounds);
  h.nextTryAt = new Date(Date.now() + waitMs).toISOString();
  let reachable = false;
  const probeScope = new CancellationScope();
  const probing =
    h.kind === 'offline'
      ? probeScope
          .run(() => probeActivities.waitForCloud({ maxWaitMs: waitMs }))
          .then(
            (r) => {
              reachable = r.reachable;
            },
            () => undefined,
          )
      : Promise.resolve();
  await condition(() => s.stopping || reachable || s.retryNow !== seen, waitMs);
  probeScope.cancel();
  await probing;
  if (s.stopping || s.halt !== h) return;
  h.nextTryAt = undefined;
  if (reachable || s.retryNow !== seen) {
    log.info('sync resumes', { kind: h.kind, since: h.since, rounds: h.rounds, by: reachable ? 'health probe' : 'connectivityRestored' });
    s.halt = null;
  } else {
    s.trialEmpty.clear();
    h.trial = true;
  }
  s.wake++;
}
