/**
 * The only writer of ingress_rejects, the edge's quarantine: messages the MQTT bridge refused
 * (source 'mqtt', written in the micro-batch's transaction) and device requests the edge HTTP API
 * refused (source 'http'), so an operator sees every reason a station's data is missing in one
 * place (GET /api/v1/ingress/rejects). Recording an HTTP refusal is best effort: a failure is
 * logged and never changes the answer the device gets.
 */
import type { Pool } from 'pg';
import type { Queryable } from '../db/transaction';
import { toStorableText } from '../domain/contracts/storable';
import type { Logger } from '../platform/logger';
import type { RejectRow } from './ingest-batch';

/** Enough of a refused payload to diagnose, bounded per row. */
export const maxStoredPayloadBytes = 64 * 1024;

const insertRejects = `
INSERT INTO ingress_rejects (source, topic, reason, detail, tenant_id, device_id, payload, payload_size)
SELECT 'mqtt', * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bytea[], $7::int[])`;

// A quarantine record must itself be storable: what a device sent is quoted in topic and detail.
const storable = (s: string | undefined, max: number) => (s === undefined ? null : toStorableText(s.slice(0, max)));

function rejectParams(rows: RejectRow[]): unknown[] {
  const cols: unknown[][] = Array.from({ length: 7 }, () => new Array<unknown>(rows.length));
  rows.forEach((r, i) => {
    cols[0][i] = storable(r.topic, 1024);
    cols[1][i] = storable(r.reason, 200);
    cols[2][i] = storable(r.detail, 2000);
    cols[3][i] = storable(r.tenantId, 64);
    cols[4][i] = storable(r.deviceId, 64);
    cols[5][i] = r.payload.subarray(0, maxStoredPayloadBytes);
    cols[6][i] = r.payload.byteLength;
  });
  return cols;
}

/** Quarantines the refused messages of one micro-batch, on the batch's transaction. */
export async function quarantineRejects(db: Queryable, rows: RejectRow[]): Promise<void> {
  await db.query(insertRejects, rejectParams(rows));
}

export interface HttpReject {
  /** `POST /api/v1/media/images/presign`: where a topic would be for an MQTT reject. */
  route: string;
  reason: string;
  detail: string;
  tenantId?: string;
  deviceId?: string;
  /** The request body as received (undefined when it was not read, e.g. before authentication). */
  body?: Buffer;
  bodySize: number;
}

export async function recordHttpReject(pool: Pool, log: Logger, r: HttpReject): Promise<void> {
  try {
    await pool.query(
      `INSERT INTO ingress_rejects (source, topic, reason, detail, tenant_id, device_id, payload, payload_size)
       VALUES ('http', $1, $2, $3, $4, $5, $6, $7)`,
      // Text that came from the request (a path, a field name in a message) may hold what Postgres
      // refuses (NUL, lone surrogates): replaced, so the refusal is still recorded. The body is bytes.
      [
        toStorableText(r.route.slice(0, 1024)),
        toStorableText(r.reason),
        toStorableText(r.detail.slice(0, 4096)),
        r.tenantId ?? null,
        r.deviceId === undefined ? null : toStorableText(r.deviceId.slice(0, 256)),
        r.body ? r.body.subarray(0, maxStoredPayloadBytes) : null,
        r.bodySize,
      ],
    );
  } catch (err) {
    log.warn({ route: r.route, reason: r.reason, err: (err as Error).message }, 'could not record the refused request in ingress_rejects');
  }
}
