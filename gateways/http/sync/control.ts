/**
 * How the edge HTTP API reaches the sync forwarder workflow: the status query and the
 * pause / resume / connectivityRestored signals, through a Temporal client connected on first use
 * (the HTTP gateway keeps serving the outbox figures and the DLQ while Temporal is down).
 */
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { grpcCode, lazyTemporalClient, TemporalUnreachableError } from '../../../platform/lazy-temporal-client';
import { syncForwarderWorkflowId } from '../../../domain/temporal/workflow-ids';
import {
  connectivityRestoredSignal,
  pauseSyncSignal,
  resumeSyncSignal,
  syncStatusQuery,
  type PauseSyncRequest,
  type SyncStatus,
} from '../../../sync/sync-contract';

export type SyncControlProblem = 'temporal_unavailable' | 'forwarder_not_running' | 'forwarder_not_answering';

/** A failure to reach the forwarder, with a stable code for the API. */
export class SyncControlError extends Error {
  constructor(
    readonly code: SyncControlProblem,
    message: string,
  ) {
    super(message);
  }
}

export interface SyncForwarderControl {
  readonly workflowId: string;
  status(): Promise<SyncStatus>;
  pause(req: PauseSyncRequest): Promise<void>;
  resume(): Promise<void>;
  retryNow(): Promise<void>;
  close(): Promise<void>;
}

export interface TemporalSyncControlOptions {
  address: string;
  namespace: string;
  edgeId: string;
  /** Connect and query deadlines. */
  timeoutMs?: number;
}

export function temporalSyncControl(opts: TemporalSyncControlOptions): SyncForwarderControl {
  const workflowId = syncForwarderWorkflowId(opts.edgeId);
  const temporal = lazyTemporalClient(opts);

  async function call<T>(what: string, fn: (client: Client) => Promise<T>): Promise<T> {
    try {
      return await temporal.call(fn);
    } catch (err) {
      if (err instanceof TemporalUnreachableError) throw new SyncControlError('temporal_unavailable', err.message);
      if (err instanceof WorkflowNotFoundError)
        throw new SyncControlError('forwarder_not_running', `the sync forwarder ${workflowId} is not running (start the edge worker)`);
      const code = grpcCode(err);
      // DEADLINE_EXCEEDED (4): the server took the call but no worker answered the query.
      if (code === 4)
        throw new SyncControlError(
          'forwarder_not_answering',
          `the sync forwarder did not answer ${what} within ${temporal.timeoutMs} ms (is the edge worker running?)`,
        );
      if (code === 14) throw new SyncControlError('temporal_unavailable', `Temporal at ${opts.address} is not reachable: ${(err as Error).message}`);
      throw err;
    }
  }

  const handle = (client: Client) => client.workflow.getHandle(workflowId);

  return {
    workflowId,
    status: () => call('the status query', (c) => handle(c).query(syncStatusQuery)),
    pause: (req) => call('pause', (c) => handle(c).signal(pauseSyncSignal, req)),
    resume: () => call('resume', (c) => handle(c).signal(resumeSyncSignal)),
    retryNow: () => call('retry-now', (c) => handle(c).signal(connectivityRestoredSignal)),
    close: () => temporal.close(),
  };
}
