/**
 * The bridge's lane for WeighVision events: each accepted event becomes a signal on its session
 * workflow (session-signaller.ts) instead of a row in an ingest batch. A message's promise — and
 * so its PUBACK — settles once the signal is stored by Temporal, or once a session_closed
 * quarantine record is committed.
 *
 * Temporal unreachable: the signal is retried with capped backoff for as long as the process lives
 * and the broker keeps the message unacknowledged meanwhile (as with a failed batch commit); on
 * shutdown the retry stops and the broker redelivers to the next bridge. Telemetry and feed events
 * do not wait for this lane: their PUBACKs are released by their own commits.
 */
import type { WeighVisionEvent } from '../../domain/contracts';
import type { RejectRow } from './ingest-batch';
import type { SessionSignaller, WeighVisionTopic } from './session-signaller';
import { bridgeMetrics as m } from './bridge-metrics';
import type { Logger } from '../../platform/logger';

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
      return this.quarantine({
        topic: rawTopic,
        reason: 'session_closed',
        detail: `session ${topic.sessionId} has ended; ${event.event_type} ${event.event_id} arrived after it (late, or a redelivery of an event it had)`,
        tenantId: topic.tenantId,
        deviceId: topic.deviceId,
        payload,
      });
    });
    const tracked = done.catch(() => {}).finally(() => this.inFlight.delete(tracked));
    this.inFlight.add(tracked);
    return done;
  }

  private async signalWithRetry(topic: WeighVisionTopic, event: WeighVisionEvent) {
    let delayMs = 100;
    for (;;) {
      try {
        return await this.signaller.signal(topic, event);
      } catch (err) {
        this.lastError = { message: (err as Error).message, at: new Date() };
        if (this.stopped) throw err;
        this.log.error({ err: (err as Error).message, sessionId: topic.sessionId, eventId: event.event_id, retryInMs: delayMs }, 'signalling the session workflow failed; retrying');
        await new Promise((r) => setTimeout(r, delayMs));
        delayMs = Math.min(delayMs * 2, 5000);
      }
    }
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
