/**
 * Device requests the edge HTTP API refused, kept in the same quarantine as refused MQTT messages
 * (ingress_rejects, source 'http'), so an operator sees every reason a station's data is missing
 * in one place (GET /api/v1/ingress/rejects). Recording is best effort: a failure is logged and
 * never changes the answer the device gets.
 */
import type { Pool } from 'pg';
import { toStorableText } from '../../domain/contracts/storable';
import type { Logger } from '../../platform/logger';

/** The same cut as the MQTT bridge's: enough to diagnose, bounded per row. */
export const maxStoredPayloadBytes = 64 * 1024;

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
