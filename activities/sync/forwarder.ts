/**
 * The activities of the sync forwarder (spec §7, DESIGN.md §3 "Cloud sync"): claim a batch from
 * sync_outbox, send it to the cloud signed, settle each event by the cloud's answer, and the few
 * housekeeping steps around them. Built by a factory that closes over the edge pool and the cloud
 * client; workflows import these as types only.
 *
 * Envelopes never enter workflow history: a claim returns ids and counts, and the send activity
 * reads the envelopes itself, as stored, and sends those bytes.
 *
 * Failures (activities/failures.ts): a transient database failure is thrown as it is and retried
 * by the preset. A statement the edge database refuses for a data reason is narrowed to the rows
 * it refuses (the rest goes on at once); such a row is quarantined — `failed`, with
 * `storage_refused:<SQLSTATE>` in last_error, where the DLQ API lists it and an operator can
 * requeue it — so it never blocks a lane. A claim that no row accepts (the claim itself is
 * refused, not a row) and any refusal left over end the activity as a non-retryable DataRefused.
 * Text from the cloud (rejection reasons, error bodies) is made storable before it is written.
 *
 * Each activity has its own file beside this one (the steps they share: held-rows.ts, release.ts);
 * here they are put together. The activity names are in committed workflow histories: they do not
 * change.
 */
import { claimSyncBatch, type ClaimSyncBatchInput, type ClaimedSyncBatch } from './claim';
import { checkSyncConfiguration, type SyncConfigurationCheck } from './configuration';
import { moveSyncBatchToDlq } from './dead-letter';
import type { SyncActivityDeps } from './deps';
import { heartbeating } from './heartbeating';
import { releaseExpiredSyncLeases, releaseSyncBatch } from './release';
import { sendSyncBatch, type SendSyncBatchInput, type SentSyncBatch } from './send';
import { waitForCloud, type WaitForCloudInput, type WaitForCloudResult } from './wait-for-cloud';

export type {
  ClaimSyncBatchInput,
  ClaimedSyncBatch,
  SendSyncBatchInput,
  SentSyncBatch,
  SyncActivityDeps,
  SyncConfigurationCheck,
  WaitForCloudInput,
  WaitForCloudResult,
};
export { edgeBatchRoute } from './send';

export function createSyncActivities(deps: SyncActivityDeps) {
  return {
    checkSyncConfiguration(): Promise<SyncConfigurationCheck> {
      return checkSyncConfiguration(deps);
    },

    releaseExpiredSyncLeases(): Promise<{ released: number }> {
      return releaseExpiredSyncLeases(deps);
    },

    claimSyncBatch(input: ClaimSyncBatchInput): Promise<ClaimedSyncBatch> {
      return claimSyncBatch(deps, input);
    },

    /** Sends one batch, signed, and settles every event by the cloud's answer (./send.ts); heartbeats while it runs. */
    sendSyncBatch: heartbeating((input: SendSyncBatchInput): Promise<SentSyncBatch> => sendSyncBatch(deps, input)),

    moveSyncBatchToDlq(input: { batchId: string; ids: string[]; lastError: string }): Promise<{ moved: number; quarantined?: number }> {
      return moveSyncBatchToDlq(deps, input);
    },

    releaseSyncBatch(input: { batchId: string; ids: string[] }): Promise<{ released: number }> {
      return releaseSyncBatch(deps, input);
    },

    /** Asks GET /health until the cloud answers, or at maxWaitMs (./wait-for-cloud.ts). */
    waitForCloud(input: WaitForCloudInput): Promise<WaitForCloudResult> {
      return waitForCloud(deps, input);
    },
  };
}

export type SyncActivities = ReturnType<typeof createSyncActivities>;
