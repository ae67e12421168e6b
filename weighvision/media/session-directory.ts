/**
 * What the media store needs to know about WeighVision sessions, and the one thing it tells them:
 * is the session open and where does it happen (so a station uploads only into its own sessions),
 * and "this image is stored". The session's Temporal workflow is the authority: it runs exactly
 * while the session is open and carries its farm, barn and station as search attributes.
 *
 * An interface, so the HTTP tests can use an in-memory directory; the Temporal one connects on
 * first use, so the edge HTTP API keeps serving everything else while Temporal is down.
 */
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { isIdentifier } from '../../domain/contracts/identifiers';
import { grpcCode, lazyTemporalClient, TemporalUnreachableError } from '../../platform/lazy-temporal-client';
import { farmiqBarn, farmiqFarm, farmiqStation, farmiqTenant } from '../../domain/temporal/search-attributes';
import { weighVisionSessionWorkflowId } from '../../domain/temporal/workflow-ids';
import { imageStoredSignal, type StoredImage } from '../session-contract';

export interface SessionInfo {
  /** The session's workflow is running (spec §3: created or collecting, not yet finalized). */
  open: boolean;
  /** From the workflow's search attributes; undefined when the workflow did not set them. */
  farmId: string | undefined;
  barnId: string | undefined;
  stationId: string | undefined;
}

export interface SessionDirectory {
  /** Undefined when the session has no workflow (never created, or created under another tenant). */
  lookup(tenantId: string, sessionId: string): Promise<SessionInfo | undefined>;
  /** Tells the session about a stored image. Throws SessionDirectoryError('session_not_open') once it has closed. */
  imageStored(tenantId: string, sessionId: string, image: StoredImage): Promise<void>;
  close(): Promise<void>;
}

export type SessionDirectoryProblem = 'temporal_unavailable' | 'session_not_open';

export class SessionDirectoryError extends Error {
  constructor(
    readonly code: SessionDirectoryProblem,
    message: string,
  ) {
    super(message);
  }
}

export interface TemporalSessionDirectoryOptions {
  address: string;
  namespace: string;
  /** Connect and call deadline. */
  timeoutMs?: number;
}

export function temporalSessionDirectory(opts: TemporalSessionDirectoryOptions): SessionDirectory {
  const temporal = lazyTemporalClient(opts);

  async function call<T>(fn: (client: Client) => Promise<T>): Promise<T> {
    try {
      return await temporal.call(fn);
    } catch (err) {
      if (err instanceof TemporalUnreachableError) throw new SessionDirectoryError('temporal_unavailable', err.message);
      const code = grpcCode(err);
      // UNAVAILABLE (14): the server went away; DEADLINE_EXCEEDED (4): it did not answer.
      if (code === 14 || code === 4)
        throw new SessionDirectoryError('temporal_unavailable', `Temporal at ${opts.address} did not answer: ${(err as Error).message}`);
      throw err;
    }
  }

  /** A workflow id only from ids of the shared pattern: `.`, `..` or a '/' never reach Temporal. */
  const isSessionAddress = (tenantId: string, sessionId: string) => isIdentifier(tenantId) && isIdentifier(sessionId);

  return {
    async lookup(tenantId, sessionId) {
      // No session can have such an id (the bridge refuses its topic), so there is none to find.
      if (!isSessionAddress(tenantId, sessionId)) return undefined;
      try {
        const d = await call((c) => c.workflow.getHandle(weighVisionSessionWorkflowId(tenantId, sessionId)).describe());
        const attrs = d.typedSearchAttributes;
        const tenant = attrs.get(farmiqTenant);
        // The id already names the tenant; an attribute that disagrees means the id was reused by something else.
        if (tenant !== undefined && tenant.toLowerCase() !== tenantId.toLowerCase()) return undefined;
        return { open: d.status.name === 'RUNNING', farmId: attrs.get(farmiqFarm), barnId: attrs.get(farmiqBarn), stationId: attrs.get(farmiqStation) };
      } catch (err) {
        if (err instanceof WorkflowNotFoundError) return undefined;
        throw err;
      }
    },

    async imageStored(tenantId, sessionId, image) {
      if (!isSessionAddress(tenantId, sessionId)) throw new SessionDirectoryError('session_not_open', `${JSON.stringify(sessionId)} is not a session id`);
      try {
        await call((c) => c.workflow.getHandle(weighVisionSessionWorkflowId(tenantId, sessionId)).signal(imageStoredSignal, image));
      } catch (err) {
        // Signalling a closed (or vanished) workflow is NOT_FOUND.
        if (err instanceof WorkflowNotFoundError) throw new SessionDirectoryError('session_not_open', `session ${sessionId} is closed`);
        throw err;
      }
    },

    close: () => temporal.close(),
  };
}

/**
 * Remembers open sessions for a few seconds, and asks once for concurrent questions. A station asks
 * about the same session six times in a second (presign and complete for each of three images), and
 * each answer from Temporal is a describe() call the farm's Temporal server must serve while it runs
 * every session. Only "open"
 * answers are kept: a session that is not there yet must be looked up again, and a session that
 * closes within the TTL is still caught by imageStored (signalling a closed workflow fails).
 */
export function cachedSessionDirectory(inner: SessionDirectory, ttlMs = 5000): SessionDirectory {
  const open = new Map<string, { info: SessionInfo; until: number }>();
  // The three uploads of a session ask at the same moment: one describe() answers them all.
  const asking = new Map<string, Promise<SessionInfo | undefined>>();
  const key = (tenantId: string, sessionId: string) => `${tenantId.toLowerCase()}/${sessionId}`;

  async function ask(k: string, tenantId: string, sessionId: string): Promise<SessionInfo | undefined> {
    const info = await inner.lookup(tenantId, sessionId);
    if (info?.open) {
      if (open.size >= 10_000) open.clear(); // a bound, not an LRU: entries live seconds
      open.set(k, { info, until: Date.now() + ttlMs });
    } else {
      open.delete(k);
    }
    return info;
  }

  return {
    lookup(tenantId, sessionId) {
      const k = key(tenantId, sessionId);
      const hit = open.get(k);
      if (hit && hit.until > Date.now()) return Promise.resolve(hit.info);
      let pending = asking.get(k);
      if (!pending) {
        pending = ask(k, tenantId, sessionId).finally(() => asking.delete(k));
        asking.set(k, pending);
      }
      return pending;
    },
    async imageStored(tenantId, sessionId, image) {
      try {
        await inner.imageStored(tenantId, sessionId, image);
      } catch (err) {
        if (err instanceof SessionDirectoryError && err.code === 'session_not_open') open.delete(key(tenantId, sessionId));
        throw err;
      }
    },
    close: () => inner.close(),
  };
}
