/**
 * What one micro-batch holds: accepted device events split by the store they go to, and the
 * rejected messages bound for quarantine. Building it also drops in-batch duplicates (QoS 1
 * redelivery can put the same event twice into one batch).
 */
import { randomUUID } from 'node:crypto';
import type { FarmEvent, FeedIntakeRecordedEvent, TelemetryReadingEvent, FeedDispensedEvent, FlockMortalityRecordedEvent } from '../domain/contracts';
import type { DeviceTopic, RejectReason } from '../domain/contracts';

/** The message an accepted event came from: what is quarantined if the database refuses the event. */
export interface RawMessage {
  topic: string;
  payload: Buffer;
}

export interface TelemetryRow {
  event: TelemetryReadingEvent;
  farmId: string;
  barnId: string;
  raw: RawMessage;
}

export interface FeedRow {
  source: FeedDispensedEvent;
  intake: FeedIntakeRecordedEvent;
  raw: RawMessage;
}

/** A day's deaths and culls from a mortality counter, judged against its flock in the batch's transaction. */
export interface MortalityRow {
  event: FlockMortalityRecordedEvent;
  farmId: string;
  barnId: string;
  raw: RawMessage;
}

export interface RejectRow {
  topic: string;
  reason: RejectReason;
  detail: string;
  tenantId?: string;
  deviceId?: string;
  payload: Buffer;
}

export interface IngestBatch {
  telemetry: TelemetryRow[];
  feed: FeedRow[];
  mortality: MortalityRow[];
  rejects: RejectRow[];
  /** Events seen twice within this batch; they are dropped before the database sees them. */
  inBatchDuplicates: number;
}

export function emptyBatch(): IngestBatch {
  return { telemetry: [], feed: [], mortality: [], rejects: [], inBatchDuplicates: 0 };
}

export function batchLength(b: IngestBatch): number {
  return b.telemetry.length + b.feed.length + b.mortality.length + b.rejects.length;
}

/** Two batches of about half the rows each, in row order (the in-batch duplicate count stays with the first). */
export function halves(b: IngestBatch): [IngestBatch, IngestBatch] {
  const rows = [
    ...b.telemetry.map((r) => ({ telemetry: r })),
    ...b.feed.map((r) => ({ feed: r })),
    ...b.mortality.map((r) => ({ mortality: r })),
    ...b.rejects.map((r) => ({ reject: r })),
  ];
  const mid = Math.ceil(rows.length / 2);
  const rebuild = (part: typeof rows, inBatchDuplicates: number): IngestBatch => ({
    telemetry: part.flatMap((r) => ('telemetry' in r ? [r.telemetry] : [])),
    feed: part.flatMap((r) => ('feed' in r ? [r.feed] : [])),
    mortality: part.flatMap((r) => ('mortality' in r ? [r.mortality] : [])),
    rejects: part.flatMap((r) => ('reject' in r ? [r.reject] : [])),
    inBatchDuplicates,
  });
  return [rebuild(rows.slice(0, mid), b.inBatchDuplicates), rebuild(rows.slice(mid), 0)];
}

/** The edge's own record of a dispense (spec §4 step 5), carrying the device event's trace. */
export function feedIntakeFrom(source: FeedDispensedEvent, topic: DeviceTopic): FeedIntakeRecordedEvent {
  return {
    schema_version: '1.0',
    event_id: randomUUID(),
    trace_id: source.trace_id,
    event_type: 'feed.intake.recorded',
    tenant_id: source.tenant_id,
    device_id: source.device_id,
    ts: source.ts,
    farm_id: topic.farmId,
    barn_id: topic.barnId,
    payload: {
      ...source.payload,
      source_event_id: source.event_id,
      farm_id: topic.farmId,
      barn_id: topic.barnId,
      dispensed_at: source.ts,
    },
  };
}

/** Collects accepted events for one batch, skipping (tenant, event) pairs already in it. */
export class BatchBuilder {
  private readonly seen = new Set<string>();
  readonly batch = emptyBatch();

  get size(): number {
    return batchLength(this.batch) + this.batch.inBatchDuplicates;
  }

  addEvent(event: FarmEvent, topic: DeviceTopic, raw: RawMessage): void {
    const key = `${event.tenant_id}/${event.event_id}`;
    if (this.seen.has(key)) {
      this.batch.inBatchDuplicates += 1;
      return;
    }
    this.seen.add(key);
    // The topic (checked by the broker's ACL) is the authority on where the event happened.
    event.farm_id = topic.farmId;
    event.barn_id = topic.barnId;
    if (event.event_type === 'telemetry.reading') {
      this.batch.telemetry.push({ event, farmId: topic.farmId, barnId: topic.barnId, raw });
    } else if (event.event_type === 'feed.dispensed') {
      this.batch.feed.push({ source: event, intake: feedIntakeFrom(event, topic), raw });
    } else if (event.event_type === 'flock.mortality.recorded') {
      // The channel is the authority on who counted: over MQTT it is a device.
      event.payload.source = 'device';
      this.batch.mortality.push({ event, farmId: topic.farmId, barnId: topic.barnId, raw });
    } else {
      throw new Error(`the ingest batch does not take ${event.event_type}`);
    }
  }

  addReject(row: RejectRow): void {
    this.batch.rejects.push(row);
  }
}
