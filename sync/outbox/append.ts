/** Appending: every producer's way into sync_outbox, alone (appendEvents) or inside its own statement (outboxInsert). */
import type { Queryable } from '../../db/transaction';

/**
 * The columns a producer fills, in this order. The rest take their defaults: pending, no attempts,
 * due now, created_at now() (the transaction's start, which the live lane reads).
 */
export const outboxColumns = ['tenant_id', 'event_id', 'event_type', 'envelope', 'trace_id', 'occurred_at', 'priority'] as const;

/**
 * `INSERT INTO sync_outbox (<outboxColumns>) <source>`, for a producer whose append is part of one
 * larger statement (a CTE of the ingest batch; an insert that appends only when its own row is
 * new). `source` is a SELECT yielding outboxColumns in that order. `backdated`: the SELECT yields
 * created_at after them (a bench or test seeding a backlog that is already old).
 */
export function outboxInsert(source: string, opts: { backdated?: boolean } = {}): string {
  const columns = opts.backdated ? [...outboxColumns, 'created_at'] : outboxColumns;
  return `INSERT INTO sync_outbox (${columns.join(', ')})\n${source.trim()}`;
}

export interface NewOutboxEvent {
  tenant_id: string;
  event_id: string;
  event_type: string;
  /** The envelope; stored as its JSON. */
  envelope: unknown;
  trace_id: string;
  occurred_at: string;
  priority: number;
}

/** What every envelope carries that its outbox row is made of. */
interface OutboxEnvelope {
  tenant_id: string;
  event_id: string;
  event_type: string;
  trace_id: string;
  ts: string;
}

/** The outbox row of one envelope: occurred when it says (`ts`) unless the producer knows better. */
export function outboxEvent(envelope: OutboxEnvelope, priority: number, occurredAt: string = envelope.ts): NewOutboxEvent {
  const { tenant_id, event_id, event_type, trace_id } = envelope;
  return { tenant_id, event_id, event_type, envelope, trace_id, occurred_at: occurredAt, priority };
}

/** Appends the events (one statement); returns how many. */
export async function appendEvents(db: Queryable, events: readonly NewOutboxEvent[]): Promise<number> {
  if (events.length === 0) return 0;
  const r = await db.query(
    outboxInsert(`SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::jsonb[], $5::text[], $6::timestamptz[], $7::smallint[])`),
    [
      events.map((e) => e.tenant_id),
      events.map((e) => e.event_id),
      events.map((e) => e.event_type),
      events.map((e) => JSON.stringify(e.envelope)),
      events.map((e) => e.trace_id),
      events.map((e) => e.occurred_at),
      events.map((e) => e.priority),
    ],
  );
  return r.rowCount ?? 0;
}
