/**
 * The bridge's lane for WeighVision events: each accepted event becomes a signal on its session
 * workflow (session-signaller.ts) instead of a row in an ingest batch. A message's promise — and
 * so its PUBACK — settles once the signal is stored by Temporal, or once a quarantine record is
 * committed: session_closed (the session has ended), session_not_owned (another station opened
 * it) or unknown_topic (its session id is not an identifier).
 *
 * Temporal unreachable: the signal is retried with capped backoff for as long as the process lives
 * and the broker keeps the message unacknowledged meanwhile (as with a failed batch commit); on
 * shutdown the retry stops and the broker redelivers to the next bridge. Temporal refusing the
 * request for what it carries (temporal/errors.ts) is not retried: the message is quarantined as
 * temporal_refused and the session's later events go on. Telemetry and feed events
 * do not wait for this lane: their PUBACKs are released by their own commits.
 */
import type { WeighVisionEvent } from '../../../domain/contracts';
import type { RejectRow } from '../../../ingest/ingest-batch';
import type { SessionSignaller, SignalOutcome, WeighVisionTopic } from './session-signaller';
import { bridgeMetrics as m } from '../bridge-metrics';
import { withRetry } from '../../../platform/backoff';
import type { Logger } from '../../../platform/logger';
import { temporalRefusal } from '../../../temporal/errors';

/** The signal's outcome, or Temporal's refusal of it (by gRPC status). */
type LaneOutcome = SignalOutcome | { temporalRefused: string; message: string };

/** The quarantine reason and sentence of an event its session did not take. */
function refusal(outcome: Exclude<LaneOutcome, 'signalled'>, topic: WeighVisionTopic, event: WeighVisionEvent): Pick<RejectRow, 'reason' | 'detail'> {
  const what = `${event.event_type} ${event.event_id}`;
  if (typeof outcome === 'object') {
    return { reason: 'temporal_refused', detail: `Temporal refused the signal for ${what} (${outcome.temporalRefused}): ${outcome.message}` };
  }
  switch (outcome) {
    case 'session_closed':
      return { reason: 'session_closed', detail: `session ${topic.sessionId} has ended; ${what} arrived after it (late, or a redelivery of an event it had)` };
    case 'session_not_owned':
      return {
        reason: 'session_not_owned',
        detail: `session ${topic.sessionId} was opened by another station; ${what} from ${topic.farmId}/${topic.barnId}/${topic.deviceId} changed nothing`,
      };
    case 'invalid_address':
      return { reason: 'unknown_topic', detail: `${JSON.stringify(topic.sessionId)} is not a session id (1-64 of A-Z a-z 0-9 . _ : -, not only dots)` };
  }
}

export class SessionLane {
  private stopped = false;
  private readonly inFlight = new Set<Promise<void>>();
  /** Per session, the signals not yet stored: a `finalized` waits for them. */
  private readonly sessionSignals = new Map<string, Set<Promise<unknown>>>();
  private lastError?: { message: string; at: Date };

  constructor(
    private readonly signaller: SessionSignaller,
    /** Commits a quarantine record through the ingest pipeline; resolves when it is durable. */
    private readonly quarantine: (row: RejectRow) => Promise<void>,
    private readonly log: Logger,
  ) {}

  deliver(topic: WeighVisionTopic, event: WeighVisionEvent, rawTopic: string, payload: Buffer): Promise<void> {
    if (this.stopped) return Promise.reject(new Error('session lane is stopped'));
    // `finalized` is signalled only after every earlier event of its session has been stored: a
    // station publishes its last reading and then `finalized`, and sent side by side the two could
    // reach the workflow the other way round (it would conclude without that reading). The other
    // events go at once; the workflow takes them in any order.
    const key = `${topic.tenantId.toLowerCase()}/${topic.sessionId}`;
    const earlier = this.sessionSignals.get(key) ?? new Set<Promise<unknown>>();
    const before = event.event_type === 'weighvision.session.finalized' ? Promise.allSettled([...earlier]) : Promise.resolve();
    const signalled = before.then(() => this.signalWithRetry(topic, event));
    earlier.add(signalled);
    this.sessionSignals.set(key, earlier);
    void signalled
      .catch(() => undefined)
      .then(() => {
        earlier.delete(signalled);
        if (earlier.size === 0 && this.sessionSignals.get(key) === earlier) this.sessionSignals.delete(key);
      });
    const done = signalled.then((outcome) => {
      if (outcome === 'signalled') {
        m.accepted.inc({ event_type: event.event_type });
        return;
      }
      return this.quarantine({ topic: rawTopic, ...refusal(outcome, topic, event), tenantId: topic.tenantId, deviceId: topic.deviceId, payload });
    });
    const tracked = done.catch(() => {}).finally(() => this.inFlight.delete(tracked));
    this.inFlight.add(tracked);
    return done;
  }

  private async signalWithRetry(topic: WeighVisionTopic, event: WeighVisionEvent): Promise<LaneOutcome> {
    return withRetry<LaneOutcome>(() => this.signaller.signal(topic, event), {
      backoff: { firstMs: 100, maxMs: 5000 },
      onFailure: (err, { retryInMs }) => {
        const refused = temporalRefusal(err);
        if (refused) return { result: { temporalRefused: refused, message: (err as Error).message } };
        this.lastError = { message: (err as Error).message, at: new Date() };
        if (this.stopped) throw err;
        this.log.error(
          { err: (err as Error).message, sessionId: topic.sessionId, eventId: event.event_id, retryInMs },
          'signalling the session workflow failed; retrying',
        );
        return 'retry';
      },
    });
  }

  status() {
    return { signalling: this.inFlight.size, lastError: this.lastError };
  }

  /** Stops retrying; waits for the signals in flight to be stored or given up. */
  async drain(): Promise<void> {
    this.stopped = true;
    await Promise.all([...this.inFlight]);
  }
}
