/**
 * A Temporal client for request handlers (the edge HTTP API): connected on first use, so the API
 * keeps serving everything else while Temporal is down, and connected afresh after the server went
 * away. Each call gets a deadline. Callers map the failures to their own API errors:
 * TemporalUnreachableError (no connection), and the gRPC codes the call itself failed with
 * (UNAVAILABLE 14, DEADLINE_EXCEEDED 4).
 */
import { Client, Connection } from '@temporalio/client';

export interface LazyTemporalClientOptions {
  address: string;
  namespace: string;
  /** Connect and per-call deadline. */
  timeoutMs?: number;
}

export class TemporalUnreachableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TemporalUnreachableError';
  }
}

/** gRPC status of a failed call, if it has one. */
export function grpcCode(err: unknown): number | undefined {
  const code = (err as { code?: unknown }).code;
  return typeof code === 'number' ? code : undefined;
}

export interface LazyTemporalClient {
  readonly timeoutMs: number;
  call<T>(fn: (client: Client) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

export function lazyTemporalClient(opts: LazyTemporalClientOptions): LazyTemporalClient {
  const timeoutMs = opts.timeoutMs ?? 3000;
  let connecting: Promise<{ connection: Connection; client: Client }> | undefined;

  function connect() {
    connecting ??= Connection.connect({ address: opts.address, connectTimeout: timeoutMs }).then(
      (connection) => ({ connection, client: new Client({ connection, namespace: opts.namespace }) }),
      (err: Error) => {
        connecting = undefined;
        throw new TemporalUnreachableError(`Temporal at ${opts.address} is not reachable: ${err.message}`);
      },
    );
    return connecting;
  }

  return {
    timeoutMs,
    async call(fn) {
      const { connection, client } = await connect();
      try {
        return await connection.withDeadline(Date.now() + timeoutMs, () => fn(client));
      } catch (err) {
        if (grpcCode(err) === 14) connecting = undefined; // the server went away: connect afresh next time
        throw err;
      }
    },
    async close() {
      const c = await connecting?.catch(() => undefined);
      connecting = undefined;
      await c?.connection.close();
    },
  };
}
