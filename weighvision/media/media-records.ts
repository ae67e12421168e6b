/**
 * media_objects (db/migrations/edge/0002): the images stations upload through presigned URLs.
 *
 *   presigned ──complete (object verified, copied to its verified key)──▶ stored   + media.stored in sync_outbox
 *
 * size_bytes holds the size the upload URL was signed for from the moment of presigning (the
 * store refuses any other Content-Length) and is confirmed against the stored object at complete.
 * object_key is the upload key while presigned and the verified copy's key once stored
 * (weighvision/media/object-key.ts): the presigned URL can still write the first, nothing can write the second.
 */
import type { Pool } from 'pg';
import { farmEventSchema, type FarmEvent } from '../../domain/contracts';
import { uuidV5 } from '../../domain/ids';
import { inTransaction } from '../../db/transaction';
import { appendEvents, outboxEvent, outboxPriority, type Queryable } from '../../sync/outbox';
import type { ImageContentType } from './object-key';

export type MediaStatus = 'presigned' | 'stored';

export interface MediaRecord {
  tenantId: string;
  mediaId: string;
  sessionId: string;
  farmId: string;
  barnId: string;
  stationId: string;
  objectKey: string;
  contentType: ImageContentType;
  sizeBytes: number;
  status: MediaStatus;
  presignedAt: Date;
  expiresAt: Date;
  storedAt: Date | null;
  traceId: string | null;
}

interface MediaRow {
  tenant_id: string;
  media_id: string;
  session_id: string;
  farm_id: string;
  barn_id: string;
  station_id: string;
  object_key: string;
  content_type: ImageContentType;
  size_bytes: string; // bigint
  status: MediaStatus;
  presigned_at: Date;
  expires_at: Date;
  stored_at: Date | null;
  trace_id: string | null;
}

const columns = `tenant_id, media_id, session_id, farm_id, barn_id, station_id, object_key, content_type,
  size_bytes::text AS size_bytes, status, presigned_at, expires_at, stored_at, trace_id`;

function toRecord(r: MediaRow): MediaRecord {
  return {
    tenantId: r.tenant_id,
    mediaId: r.media_id,
    sessionId: r.session_id,
    farmId: r.farm_id,
    barnId: r.barn_id,
    stationId: r.station_id,
    objectKey: r.object_key,
    contentType: r.content_type,
    sizeBytes: Number(r.size_bytes),
    status: r.status,
    presignedAt: r.presigned_at,
    expiresAt: r.expires_at,
    storedAt: r.stored_at,
    traceId: r.trace_id,
  };
}

/** A new upload: sizeBytes is the size the upload URL is signed for. */
export type NewPresignedMedia = Omit<MediaRecord, 'status' | 'presignedAt' | 'storedAt' | 'traceId'> & { traceId: string };

export async function insertPresignedMedia(db: Queryable, m: NewPresignedMedia): Promise<MediaRecord> {
  const { rows } = await db.query<MediaRow>(
    `INSERT INTO media_objects (tenant_id, media_id, session_id, farm_id, barn_id, station_id, object_key, content_type, size_bytes, expires_at, trace_id)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
     RETURNING ${columns}`,
    [m.tenantId, m.mediaId, m.sessionId, m.farmId, m.barnId, m.stationId, m.objectKey, m.contentType, m.sizeBytes, m.expiresAt, m.traceId],
  );
  return toRecord(rows[0]);
}

export async function findMedia(db: Queryable, tenantId: string, mediaId: string): Promise<MediaRecord | undefined> {
  const { rows } = await db.query<MediaRow>(`SELECT ${columns} FROM media_objects WHERE tenant_id = $1 AND media_id = $2`, [tenantId, mediaId]);
  return rows[0] ? toRecord(rows[0]) : undefined;
}

/** The event a stored image becomes. Pure: one media id always gives the same event_id. */
export function mediaStoredEvent(m: MediaRecord, traceId: string): FarmEvent {
  if (m.status !== 'stored' || !m.storedAt) throw new Error(`media ${m.mediaId} is not stored`);
  return {
    schema_version: '1.0',
    // '|' occurs in neither a uuid nor the literal, so the name is unambiguous.
    event_id: uuidV5(['media.stored', m.tenantId, m.mediaId].join('|')),
    trace_id: traceId,
    event_type: 'media.stored',
    tenant_id: m.tenantId,
    device_id: m.stationId,
    ts: m.storedAt.toISOString(),
    farm_id: m.farmId,
    barn_id: m.barnId,
    session_id: m.sessionId,
    payload: {
      session_id: m.sessionId,
      media_id: m.mediaId,
      farm_id: m.farmId,
      barn_id: m.barnId,
      station_id: m.stationId,
      object_key: m.objectKey,
      content_type: m.contentType,
      size_bytes: m.sizeBytes,
    },
  };
}

export interface StoreResult {
  record: MediaRecord;
  /** True when this call moved the row presigned → stored (and appended media.stored). */
  transitioned: boolean;
}

/** What `verify` of storeVerifiedMedia found: the verified object's key and size. */
export interface VerifiedObject {
  objectKey: string;
  sizeBytes: number;
}

/**
 * presigned → stored and media.stored in the outbox, in one transaction, with the row locked while
 * `verify` checks the upload and makes its verified copy: concurrent completes of one upload run
 * one at a time, so once a complete has stored the row no other one copies over its verified
 * object. A row that is already stored (a repeated complete, or a concurrent one that won) is
 * returned unchanged, `verify` is not called and nothing is appended, so one image makes one event
 * however often its upload is completed. An error thrown by `verify` rolls everything back.
 */
export async function storeVerifiedMedia(
  pool: Pool,
  tenantId: string,
  mediaId: string,
  verify: (presigned: MediaRecord) => Promise<VerifiedObject>,
  traceId: string,
): Promise<StoreResult | undefined> {
  return inTransaction(pool, async (client) => {
    const { rows: locked } = await client.query<MediaRow>(`SELECT ${columns} FROM media_objects WHERE tenant_id = $1 AND media_id = $2 FOR UPDATE`, [
      tenantId,
      mediaId,
    ]);
    if (locked.length === 0) return undefined;
    const current = toRecord(locked[0]);
    if (current.status !== 'presigned') return { record: current, transitioned: false };
    const verified = await verify(current);
    const { rows } = await client.query<MediaRow>(
      `UPDATE media_objects SET status = 'stored', stored_at = now(), size_bytes = $3, object_key = $4
        WHERE tenant_id = $1 AND media_id = $2 AND status = 'presigned'
        RETURNING ${columns}`,
      [tenantId, mediaId, verified.sizeBytes, verified.objectKey],
    );
    const record = toRecord(rows[0]);
    const event = mediaStoredEvent(record, traceId);
    const check = farmEventSchema.safeParse(event);
    if (!check.success) {
      throw new Error(`media ${mediaId} does not make a valid media.stored event: ${check.error.issues[0]?.path.join('.')}: ${check.error.issues[0]?.message}`);
    }
    await appendEvents(client, [outboxEvent(event, outboxPriority.normal)]);
    return { record, transitioned: true };
  });
}
