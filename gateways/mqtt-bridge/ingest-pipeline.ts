/**
 * The bridge's core: each device message is validated at once and joins the open micro-batch.
 * A batch is sealed when it is full (or has waited long enough) and committed in one
 * transaction; up to `commitConcurrency` batches commit at once on separate connections, so
 * Postgres works on one batch while the next is being filled. A message's promise settles only
 * when its batch AND every earlier batch have committed, so PUBACKs leave in arrival order.
 *
 * A failed commit is told apart by db/errors.ts. A *transient* failure (Postgres gone, a
 * timeout, a lost race) is retried with capped backoff for as long as the process lives — the
 * broker keeps the unacknowledged messages meanwhile; on shutdown an uncommitted batch is
 * abandoned without acks and the broker redelivers it to the next bridge. A *refusal* of the data
 * (SQLSTATE class 22/23/54) is never retried as a whole: the batch is halved until the refused
 * message(s) stand alone, each is quarantined as `storage_refused:<SQLSTATE>`, and the rest
 * commits at once. Validation (domain/contracts/storable.ts) already refuses what Postgres
 * cannot hold, so this is the net under it.
 */
import type { Pool } from 'pg';
import { parseDeviceMessage, parseDeviceTopic } from '../../domain/contracts';
import type { DeviceTopic, FarmEvent, WeighVisionEvent } from '../../domain/contracts';
import { normaliseReading } from '../../domain/contracts/units';
import { isCurrentFlockOf } from '../../flocks/flock-store';
import { classifyDatabaseError, refusalReason } from '../../db/errors';
import { BatchBuilder, batchLength, emptyBatch, halves, type IngestBatch, type RejectRow, type TelemetryRow } from '../../ingest/ingest-batch';
import type { SessionLane } from './weighvision/session-lane';
import { writeIngestBatch, type IngestResult } from '../../ingest/ingest-writer';
import { bridgeMetrics as m } from './bridge-metrics';
import { withRetry } from '../../platform/backoff';
import type { Logger } from '../../platform/logger';

export interface PipelineOptions {
  batchMax: number;
  batchWaitMs: number;
  maxPayloadBytes: number;
  /** Batches committing at once (each on its own connection). */
  commitConcurrency: number;
  /** The farm's time zone for the day a mortality count belongs to; UTC when not given. */
  farmTimeZone?: string;
}

interface Batch {
  builder: BatchBuilder;
  settle: { resolve: () => void; reject: (e: Error) => void }[];
}

export class IngestPipeline {
  private open?: Batch;
  private timer?: NodeJS.Timeout;
  private readonly sealed: Batch[] = [];
  private readonly inFlight = new Set<Promise<void>>();
  /** Settles when the most recently started batch and all before it have settled. */
  private previousSettled: Promise<void> = Promise.resolve();
  private stopped = false;
  private lastResult?: Omit<IngestResult, 'acceptedTelemetry'> & { at: Date };
  private lastError?: { message: string; at: Date };

  constructor(
    private readonly pool: Pool,
    private readonly opts: PipelineOptions,
    private readonly log: Logger,
  ) {}

  /**
   * WeighVision events go to their session workflows through this lane (bridge.ts sets it when
   * the bridge has a Temporal client); without one the bridge does not subscribe to them.
   */
  sessions?: SessionLane;

  /**
   * Told the readings each committed batch accepted (new, deduplicated), after the commit: the
   * alarm evaluator (bridge.ts sets it). It must not throw or wait; a PUBACK never waits for it.
   */
  afterCommit?: (accepted: TelemetryRow[]) => void;

  /** Validates one message and resolves once it (or its quarantine record) is committed. */
  submit(topic: string, payload: Buffer): Promise<void> {
    if (this.stopped) return Promise.reject(new Error('ingest pipeline is stopped'));
    const parsed = parseDeviceMessage(topic, payload, this.opts.maxPayloadBytes);
    if (parsed.ok) {
      m.received.inc({ family: parsed.topic.family });
      if (parsed.topic.family === 'weighvision') {
        if (this.sessions) return this.deliverSession(parsed.topic, parsed.event as WeighVisionEvent, topic, payload);
        return this.quarantine({
          topic,
          reason: 'unknown_topic',
          detail: 'this bridge does not handle WeighVision sessions',
          tenantId: parsed.topic.tenantId,
          deviceId: parsed.topic.deviceId,
          payload,
        });
      }
      const unitRefusal = normaliseUnit(parsed.event);
      if (unitRefusal) {
        return this.quarantine({
          topic,
          reason: 'unit_not_accepted',
          detail: unitRefusal,
          tenantId: parsed.topic.tenantId,
          deviceId: parsed.topic.deviceId,
          payload,
        });
      }
      return this.enqueue((b) => b.addEvent(parsed.event, parsed.topic, { topic, payload }));
    }
    // An oversized message is refused before its topic is parsed; the record still names its sender.
    const address = parsed.topic ?? parseDeviceTopic(topic);
    m.received.inc({ family: address?.family ?? 'unknown' });
    return this.quarantine({ topic, reason: parsed.reason, detail: parsed.detail, tenantId: address?.tenantId, deviceId: address?.deviceId, payload });
  }

  /**
   * A session's `batch_id` names its flock. One that is not the barn's current flock is dropped
   * from the event (the session goes on: a weighing must not be lost for a wrong label) and the
   * message is recorded in ingress_rejects as `unknown_flock`, so the operator sees it. When the
   * check itself cannot run (the database is away) the batch_id is kept as sent.
   */
  private async deliverSession(address: DeviceTopic & { family: 'weighvision' }, event: WeighVisionEvent, topic: string, payload: Buffer): Promise<void> {
    const noted: Promise<void>[] = [];
    const created = event.event_type === 'weighvision.session.created' ? (event.payload as { batch_id?: string }) : undefined;
    if (created?.batch_id !== undefined) {
      const batchId = created.batch_id;
      let current = true;
      try {
        current = await isCurrentFlockOf(this.pool, address.tenantId, address.farmId, address.barnId, batchId, event.ts);
      } catch (err) {
        this.log.warn({ err: (err as Error).message, sessionId: address.sessionId }, 'could not check the session batch_id against the flocks; kept as sent');
      }
      if (!current) {
        delete created.batch_id;
        noted.push(
          this.quarantine({
            topic,
            reason: 'unknown_flock',
            detail: `batch_id ${batchId} is not the flock in ${address.farmId}/${address.barnId} at ${event.ts}; session ${address.sessionId} was accepted without it`,
            tenantId: address.tenantId,
            deviceId: address.deviceId,
            payload,
          }),
        );
      }
    }
    await Promise.all([this.sessions!.deliver(address, event, topic, payload), ...noted]);
  }

  /** Stores a rejected message in ingress_rejects with the next batch; resolves once committed. */
  quarantine(row: RejectRow): Promise<void> {
    if (this.stopped) return Promise.reject(new Error('ingest pipeline is stopped'));
    return this.enqueue((b) => b.addReject(row));
  }

  private enqueue(add: (builder: BatchBuilder) => void): Promise<void> {
    const batch = (this.open ??= { builder: new BatchBuilder(), settle: [] });
    add(batch.builder);
    m.pending.inc();
    const done = new Promise<void>((resolve, reject) => batch.settle.push({ resolve, reject }));
    if (batch.builder.size >= this.opts.batchMax || this.opts.batchWaitMs === 0) {
      this.seal();
    } else {
      this.timer ??= setTimeout(() => this.seal(), this.opts.batchWaitMs);
    }
    return done;
  }

  private seal(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.open) this.sealed.push(this.open);
    this.open = undefined;
    this.pump();
  }

  private pump(): void {
    while (this.inFlight.size < this.opts.commitConcurrency && this.sealed.length > 0) {
      const batch = this.sealed.shift()!;
      const committed = this.commitWithRetry(batch);
      const earlier = this.previousSettled;
      // PUBACKs in arrival order: a batch settles only after every earlier batch has.
      this.previousSettled = Promise.allSettled([committed, earlier]).then(([own]) => {
        m.pending.dec(batch.settle.length);
        if (own.status === 'fulfilled') for (const s of batch.settle) s.resolve();
        else for (const s of batch.settle) s.reject(own.reason as Error);
      });
      const tracked: Promise<void> = committed
        .catch(() => {})
        .finally(() => {
          this.inFlight.delete(tracked);
          this.pump();
        });
      this.inFlight.add(tracked);
    }
  }

  private async commitWithRetry(batch: Batch): Promise<void> {
    const started = process.hrtime.bigint();
    const quarantined: RejectRow[] = [];
    const result = await this.commit(batch.builder.batch, quarantined, batch.settle.length);
    m.commitSeconds.observe(Number(process.hrtime.bigint() - started) / 1e9);
    this.record(batch, result, quarantined);
    if (this.afterCommit && result.acceptedTelemetry.length > 0) {
      try {
        this.afterCommit(result.acceptedTelemetry);
      } catch (err) {
        this.log.error({ err: (err as Error).message }, 'the after-commit hook failed; the batch is committed');
      }
    }
  }

  /** Commits rows, retrying transient failures; a refusal narrows the rows instead (see the top). */
  private async commit(rows: IngestBatch, quarantined: RejectRow[], messages: number): Promise<IngestResult> {
    return withRetry(() => writeIngestBatch(this.pool, rows, this.opts.farmTimeZone), {
      backoff: { firstMs: 100, maxMs: 5000 },
      onFailure: (err, { retryInMs }) => {
        m.commitFailures.inc();
        this.lastError = { message: (err as Error).message, at: new Date() };
        if (classifyDatabaseError(err) === 'refused') return { result: this.narrow(rows, err, quarantined) };
        if (this.stopped) {
          this.log.warn({ messages }, 'abandoning an uncommitted batch at shutdown; the broker will redeliver it');
          throw err;
        }
        this.log.error({ err: (err as Error).message, code: (err as { code?: string }).code, messages, retryInMs }, 'batch commit failed; retrying');
        return 'retry';
      },
    });
  }

  private async narrow(rows: IngestBatch, err: unknown, quarantined: RejectRow[]): Promise<IngestResult> {
    if (batchLength(rows) > 1) {
      const [first, second] = halves(rows);
      const a = await this.commit(first, quarantined, batchLength(first));
      const b = await this.commit(second, quarantined, batchLength(second));
      return {
        telemetryAccepted: a.telemetryAccepted + b.telemetryAccepted,
        acceptedTelemetry: [...a.acceptedTelemetry, ...b.acceptedTelemetry],
        feedAccepted: a.feedAccepted + b.feedAccepted,
        mortalityAccepted: a.mortalityAccepted + b.mortalityAccepted,
        mortalityRefused: [...a.mortalityRefused, ...b.mortalityRefused],
        duplicates: a.duplicates + b.duplicates,
        rejected: a.rejected + b.rejected,
      };
    }
    const refused = refusedMessage(rows, err);
    this.log.warn({ reason: refused.reason, topic: refused.topic, err: (err as Error).message }, 'the database refused a device message; quarantined');
    quarantined.push(refused);
    return this.commit({ ...emptyBatch(), rejects: [refused], inBatchDuplicates: rows.inBatchDuplicates }, quarantined, 1);
  }

  private record(batch: Batch, result: IngestResult, quarantined: RejectRow[]): void {
    m.batchSize.observe(batch.settle.length);
    m.accepted.inc({ event_type: 'telemetry.reading' }, result.telemetryAccepted);
    m.accepted.inc({ event_type: 'feed.dispensed' }, result.feedAccepted);
    m.accepted.inc({ event_type: 'flock.mortality.recorded' }, result.mortalityAccepted);
    for (const reason of result.mortalityRefused) m.rejected.inc({ reason });
    m.duplicates.inc(result.duplicates);
    for (const r of [...batch.builder.batch.rejects, ...quarantined]) m.rejected.inc({ reason: r.reason.replace(/:.*$/, '') });
    const { acceptedTelemetry: _rows, ...figures } = result;
    this.lastResult = { ...figures, at: new Date() };
  }

  status() {
    return {
      open: this.open?.settle.length ?? 0,
      sealed: this.sealed.length,
      committing: this.inFlight.size,
      lastResult: this.lastResult,
      lastError: this.lastError,
    };
  }

  /** Refuses new messages, commits what is in hand (abandoning it if the database is gone). */
  async drain(): Promise<void> {
    // Session signals first: a session_closed outcome still needs the batch path to record it.
    await this.sessions?.drain();
    this.stopped = true;
    this.seal();
    while (this.inFlight.size > 0 || this.sealed.length > 0) {
      await Promise.all([...this.inFlight]);
      this.pump();
    }
    await this.previousSettled;
  }
}

/**
 * The quarantine record of the one row the database refused. A refused quarantine record (which
 * writeIngestBatch makes storable, so only in theory) is kept as its raw bytes under a name that
 * cannot be refused.
 */
function refusedMessage(rows: IngestBatch, err: unknown): RejectRow {
  const reason = refusalReason(err);
  const detail = `the database refused this message: ${(err as Error).message}`;
  const t = rows.telemetry[0];
  if (t) return { topic: t.raw.topic, reason, detail, tenantId: t.event.tenant_id, deviceId: t.event.device_id, payload: t.raw.payload };
  const f = rows.feed[0];
  if (f) return { topic: f.raw.topic, reason, detail, tenantId: f.source.tenant_id, deviceId: f.source.device_id, payload: f.raw.payload };
  const d = rows.mortality[0];
  if (d) return { topic: d.raw.topic, reason, detail, tenantId: d.event.tenant_id, deviceId: d.event.device_id, payload: d.raw.payload };
  const r = rows.rejects[0];
  return { topic: '', reason, detail: `${detail} (while quarantining it as ${r.reason})`, payload: r.payload };
}

/**
 * A telemetry reading in its metric's stored unit (units.ts), converted in place with what the
 * sensor sent kept beside it; the refusal's sentence when its unit is not one the metric takes.
 */
function normaliseUnit(event: FarmEvent): string | undefined {
  if (event.event_type !== 'telemetry.reading') return undefined;
  const p = event.payload;
  // Only the edge says what it converted.
  delete p.source_value;
  delete p.source_unit;
  const n = normaliseReading(p);
  if (!n.ok) return n.detail;
  if (n.converted) {
    p.source_value = p.value;
    p.source_unit = p.unit;
    p.value = n.value;
    p.unit = n.unit;
  }
  return undefined;
}
