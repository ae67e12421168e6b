/**
 * Rows of the dead_letters table: messages given up on, with the queue they died in, the reason,
 * how often they were delivered, their headers and their body (as JSON when it is JSON, else raw).
 * An operator lists them with `cloud-admin dead-letters list`.
 */
import type { ConsumeMessage } from 'amqplib';
import type { Pool, PoolClient } from 'pg';
import { isDatabaseUnavailable } from '../../db/errors';
import { isUuid } from '../../domain/contracts/identifiers';
import { TransientError } from '../../messaging/consumer';

export interface DeadLetter {
  queue: string;
  routingKey: string | null;
  tenantId: string | null;
  eventId: string | null;
  reason: string;
  deliveryCount: number;
  headers: string | null;
  envelope: string | null;
  body: Buffer | null;
  traceId: string | null;
}

const asUuid = (v: unknown): string | null => (typeof v === 'string' && isUuid(v) ? v : null);
const asText = (v: unknown, max = 256): string | null => (typeof v === 'string' && v.length > 0 ? v.slice(0, max) : null);

function headersJson(msg: ConsumeMessage): string | null {
  // amqplib types these properties `any`; they are whatever the publisher set.
  const p: { headers?: Record<string, unknown>; messageId?: unknown; type?: unknown; appId?: unknown; timestamp?: unknown } = msg.properties;
  try {
    return JSON.stringify({
      ...(p.headers ?? {}),
      'message-id': p.messageId,
      type: p.type,
      'app-id': p.appId,
      timestamp: p.timestamp,
      exchange: msg.fields.exchange,
      'routing-key': msg.fields.routingKey,
    });
  } catch {
    return null;
  }
}

/** What can be read out of a message, however broken its body. */
export function deadLetterOf(msg: ConsumeMessage, d: { queue: string; reason: string; deliveryCount: number; routingKey?: string }): DeadLetter {
  const headers = msg.properties.headers ?? {};
  let parsed: unknown;
  let envelope: string | null = null;
  try {
    const text = msg.content.toString('utf8');
    parsed = JSON.parse(text);
    envelope = JSON.stringify(parsed);
  } catch {
    parsed = undefined;
  }
  const body = typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>) : {};
  return {
    queue: d.queue,
    routingKey: d.routingKey ?? (msg.fields.routingKey || null),
    tenantId: asUuid(headers.tenant_id) ?? asUuid(body.tenant_id),
    eventId: asUuid(headers.event_id) ?? asUuid(body.event_id),
    reason: d.reason.slice(0, 2000),
    deliveryCount: d.deliveryCount,
    headers: headersJson(msg),
    envelope,
    body: envelope === null ? msg.content : null,
    traceId: asText(headers.trace_id, 128) ?? asText(body.trace_id, 128),
  };
}

const insertSql = `
INSERT INTO dead_letters (queue, routing_key, tenant_id, event_id, reason, delivery_count, headers, envelope, body, trace_id)
SELECT * FROM unnest($1::text[], $2::text[], $3::uuid[], $4::uuid[], $5::text[], $6::int[], $7::jsonb[], $8::jsonb[], $9::bytea[], $10::text[])
ON CONFLICT DO NOTHING`;

/** Stores dead letters; one already open for the same queue and event is not stored twice. */
export async function insertDeadLetters(db: Pool | PoolClient, rows: DeadLetter[]): Promise<void> {
  if (rows.length === 0) return;
  await db.query(insertSql, [
    rows.map((r) => r.queue),
    rows.map((r) => r.routingKey),
    rows.map((r) => r.tenantId),
    rows.map((r) => r.eventId),
    rows.map((r) => r.reason),
    rows.map((r) => r.deliveryCount),
    rows.map((r) => r.headers),
    rows.map((r) => r.envelope),
    rows.map((r) => r.body),
    rows.map((r) => r.traceId),
  ]);
}

/** The same letter reduced to what always fits the table (the JSON columns can refuse e.g. \u0000). */
function rawDeadLetter(row: DeadLetter, content: Buffer): DeadLetter {
  return { ...row, headers: null, envelope: null, body: content };
}

/**
 * Stores one letter, raw (rawDeadLetter) if the table refuses it as it is. Throws TransientError
 * while the database is unreachable; returns the error when the letter could not be stored at all.
 */
export async function storeDeadLetter(db: Pool, letter: DeadLetter, content: Buffer): Promise<Error | undefined> {
  try {
    await insertDeadLetters(db, [letter]).catch(async (err) => {
      if (isDatabaseUnavailable(err)) throw err;
      await insertDeadLetters(db, [rawDeadLetter(letter, content)]);
    });
    return undefined;
  } catch (err) {
    if (isDatabaseUnavailable(err)) throw new TransientError(`database unavailable: ${(err as Error).message}`, err);
    return err as Error;
  }
}
