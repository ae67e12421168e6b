/**
 * The bridge's core: each device message is validated at once, then waits in the open
 * micro-batch; batches commit one after another, and a message's promise settles only when the
 * batch holding it has committed. The MQTT layer sends PUBACK when that promise resolves.
 *
 * A failed commit is retried with capped backoff for as long as the process lives (the broker
 * keeps the unacknowledged messages meanwhile); on shutdown an uncommitted batch is abandoned
 * without acks, and the broker redelivers it to the next bridge.
 */
import type { Pool } from 'pg';
import { parseDeviceMessage, parseDeviceTopic } from '../../domain/contracts';
import { BatchBuilder } from './ingest-batch';
import { writeIngestBatch, type IngestResult } from './ingest-writer';
import { bridgeMetrics as m } from './bridge-metrics';
import type { Logger } from '../../platform/logger';

export interface PipelineOptions {
  batchMax: number;
  batchWaitMs: number;
  maxPayloadBytes: number;
}

interface OpenBatch {
  builder: BatchBuilder;
  settle: { resolve: () => void; reject: (e: Error) => void }[];
  openedAt: number;
}

export class IngestPipeline {
  private open?: OpenBatch;
  private timer?: NodeJS.Timeout;
  private committing?: Promise<void>;
  private stopped = false;
  private lastResult?: IngestResult & { at: Date };
  private lastError?: { message: string; at: Date };

  constructor(private readonly pool: Pool, private readonly opts: PipelineOptions, private readonly log: Logger) {}

  /** Validates one message and resolves once it (or its quarantine record) is committed. */
  submit(topic: string, payload: Buffer): Promise<void> {
    if (this.stopped) return Promise.reject(new Error('ingest pipeline is stopped'));
    const parsed = parseDeviceMessage(topic, payload, this.opts.maxPayloadBytes);
    const batch = (this.open ??= { builder: new BatchBuilder(), settle: [], openedAt: Date.now() });
    if (parsed.ok) {
      m.received.inc({ family: parsed.topic.family });
      batch.builder.addEvent(parsed.event, parsed.topic);
    } else {
      // An oversized message is refused before its topic is parsed; the record still names its sender.
      const address = parsed.topic ?? parseDeviceTopic(topic);
      m.received.inc({ family: address?.family ?? 'unknown' });
      batch.builder.addReject({ topic, reason: parsed.reason, detail: parsed.detail, tenantId: address?.tenantId, deviceId: address?.deviceId, payload });
    }
    m.pending.inc();
    const done = new Promise<void>((resolve, reject) => batch.settle.push({ resolve, reject }));
    this.schedule();
    return done;
  }

  private schedule(): void {
    if (!this.open || this.committing) return;
    if (this.open.builder.size >= this.opts.batchMax || this.opts.batchWaitMs === 0) {
      this.startCommit();
    } else if (!this.timer) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        if (!this.committing) this.startCommit();
      }, this.opts.batchWaitMs);
    }
  }

  private startCommit(): void {
    const batch = this.open;
    if (!batch) return;
    this.open = undefined;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.committing = this.commitWithRetry(batch).finally(() => {
      this.committing = undefined;
      this.schedule();
    });
  }

  private async commitWithRetry(batch: OpenBatch): Promise<void> {
    let delayMs = 100;
    for (;;) {
      const started = process.hrtime.bigint();
      try {
        const result = await writeIngestBatch(this.pool, batch.builder.batch);
        m.commitSeconds.observe(Number(process.hrtime.bigint() - started) / 1e9);
        this.record(batch, result);
        for (const s of batch.settle) s.resolve();
        return;
      } catch (err) {
        m.commitFailures.inc();
        this.lastError = { message: (err as Error).message, at: new Date() };
        if (this.stopped) {
          this.log.warn({ messages: batch.settle.length }, 'abandoning an uncommitted batch at shutdown; the broker will redeliver it');
          m.pending.dec(batch.settle.length);
          for (const s of batch.settle) s.reject(err as Error);
          return;
        }
        this.log.error({ err: (err as Error).message, messages: batch.settle.length, retryInMs: delayMs }, 'batch commit failed; retrying');
        await new Promise((r) => setTimeout(r, delayMs));
        delayMs = Math.min(delayMs * 2, 5000);
      }
    }
  }

  private record(batch: OpenBatch, result: IngestResult): void {
    const b = batch.builder.batch;
    m.batchSize.observe(batch.settle.length);
    m.pending.dec(batch.settle.length);
    m.accepted.inc({ event_type: 'telemetry.reading' }, result.telemetryAccepted);
    m.accepted.inc({ event_type: 'feed.dispensed' }, result.feedAccepted);
    m.duplicates.inc(result.duplicates);
    for (const r of b.rejects) m.rejected.inc({ reason: r.reason.startsWith('schema_violation:') ? 'schema_violation' : r.reason });
    this.lastResult = { ...result, at: new Date() };
  }

  status() {
    return { open: this.open?.settle.length ?? 0, committing: Boolean(this.committing), lastResult: this.lastResult, lastError: this.lastError };
  }

  /** Commits what is open (unless the database is gone), then refuses new messages. */
  async drain(): Promise<void> {
    this.stopped = true;
    if (this.committing) await this.committing;
    if (this.open) this.startCommit();
    if (this.committing) await this.committing;
  }
}
