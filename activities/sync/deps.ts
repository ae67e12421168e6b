/** What the sync forwarder's activities are built from (createSyncActivities in ./forwarder.ts). */
import type { Pool } from 'pg';
import type { CloudClient } from '../../sync/cloud-client';
import type { EdgeIdentity } from '../../sync/edge-identity';

export interface SyncActivityDeps {
  pool: Pool;
  edgeId: string;
  cloud: CloudClient;
  identity: { current(): EdgeIdentity };
  /** The cloud client's request timeout: a batch's lease must outlast its request. */
  requestTimeoutMs: number;
  /** How often waitForCloud asks GET /health. */
  probeEveryMs?: number;
}
