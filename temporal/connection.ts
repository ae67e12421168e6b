/**
 * How a FarmIQ process reaches its Temporal server. A worker needs a NativeConnection; the same
 * connection also serves a Client (for schedules), so a process opens exactly one.
 *
 * Edge processes connect to the farm's own Temporal (namespace farmiq-edge) and never to the
 * cloud's; the cloud worker connects to the cloud cluster (namespace farmiq-cloud).
 */
import { NativeConnection } from '@temporalio/worker';
import { Client } from '@temporalio/client';
import { waitFor } from '../platform/wait-for';
import type { Logger } from '../platform/logger';
import type { CheckResult } from '../platform/health';

export interface TemporalTarget {
  address: string;
  namespace: string;
}

/**
 * Connects, waiting for the server (and the namespace) to come up instead of crashing: on a farm
 * server systemd may start the worker before Temporal has opened its port.
 */
export async function connectTemporal(target: TemporalTarget, opts: { log: Logger; timeoutSeconds: number; signal?: AbortSignal }): Promise<NativeConnection> {
  return waitFor(
    `Temporal at ${target.address} (namespace ${target.namespace})`,
    async () => {
      const connection = await NativeConnection.connect({ address: target.address });
      try {
        // A listening server is not enough: the namespace must exist, or every poll would fail.
        await connection.workflowService.describeNamespace({ namespace: target.namespace });
        return connection;
      } catch (err) {
        await connection.close().catch(() => undefined);
        throw err;
      }
    },
    opts,
  );
}

export function temporalClient(connection: NativeConnection, namespace: string): Client {
  return new Client({ connection, namespace });
}

/** A /health check: the server answers its gRPC health service within two seconds. */
export function temporalHealthCheck(connection: NativeConnection): () => Promise<CheckResult> {
  return async () => {
    await connection.withDeadline(Date.now() + 2000, () => connection.healthService.check({}));
    return { ok: true };
  };
}
