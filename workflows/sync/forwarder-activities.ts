/**
 * The sync activities the forwarder calls, each group with its option preset (activity-options.ts).
 * Sending a batch has its own proxies, one per attempt budget (send-batch.ts).
 */
import { proxyActivities } from '@temporalio/workflow';
import type { SyncActivities } from '../../activities/sync/forwarder';
import { cloudProbe, syncClaim, syncOutbox } from './activity-options';

export const outboxActivities = proxyActivities<SyncActivities>(syncOutbox);
export const claimActivities = proxyActivities<SyncActivities>(syncClaim);
export const probeActivities = proxyActivities<SyncActivities>(cloudProbe);
