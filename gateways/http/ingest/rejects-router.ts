/**
 * The quarantine of device messages that failed validation (table ingress_rejects), for the
 * operator who wants to know why a sensor's readings are not arriving:
 *
 *   GET /api/v1/ingress/rejects?reason=&limit=&before=   newest first, keyset-paginated by id
 *   GET /api/v1/ingress/rejects/summary                  count per reason, last 24 h and all time
 */
import { Router, type Request } from 'express';
import type { Pool } from 'pg';
import { z } from 'zod';
import { isStorableText, storableTextMessage } from '../../../domain/contracts/storable';
import { HttpError } from '../errors';

const listQuery = z
  .object({
    /** Exact reason, e.g. `invalid_json` or `schema_violation:payload.value` (see the summary for the ones present). */
    reason: z.string().min(1).max(200).refine(isStorableText, storableTextMessage).optional(),
    limit: z.coerce.number().int().min(1).max(500).default(50),
    /** The `next_before` of the previous page: only rejects with a smaller id. */
    before: z
      .string()
      .regex(/^[1-9][0-9]{0,18}$/, 'must be a reject id (a positive integer)')
      .optional(),
  })
  .strict();

const summaryQuery = z.object({}).strict();

function parseQuery<S extends z.ZodType>(schema: S, req: Request): z.infer<S> {
  const parsed = schema.safeParse(req.query);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const field = issue.code === 'unrecognized_keys' ? issue.keys[0] : issue.path.map(String).join('.');
  const what = issue.code === 'unrecognized_keys' ? 'is not a known parameter' : issue.message;
  throw new HttpError(400, 'invalid_query', `query parameter ${field}: ${what}`, field);
}

interface RejectRow {
  id: string; // bigint: pg returns int8 as a string, which also keeps it exact
  received_at: Date;
  source: 'mqtt' | 'http';
  topic: string | null;
  reason: string;
  detail: string;
  tenant_id: string | null;
  device_id: string | null;
  payload: Buffer | null;
  payload_size: number;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** The stored bytes as text when they are valid UTF-8 (the usual case), else base64. */
export function describePayload(bytes: Buffer | null, size: number) {
  if (bytes === null) return null;
  let encoding: 'utf8' | 'base64' = 'utf8';
  let data: string;
  try {
    data = utf8.decode(bytes);
  } catch {
    encoding = 'base64';
    data = bytes.toString('base64');
  }
  return { encoding, data, stored_bytes: bytes.byteLength, truncated: bytes.byteLength < size };
}

const listSql = `
SELECT id, received_at, source, topic, reason, detail, tenant_id, device_id, payload, payload_size
FROM ingress_rejects
WHERE ($1::text IS NULL OR reason = $1) AND ($2::bigint IS NULL OR id < $2::bigint)
ORDER BY id DESC
LIMIT $3`;

const summarySql = `
SELECT reason,
       count(*) FILTER (WHERE received_at > now() - interval '24 hours')::int AS last_24h,
       count(*)::int AS all_time,
       max(received_at) AS last_received_at
FROM ingress_rejects
GROUP BY reason
ORDER BY all_time DESC, reason`;

export function ingressRejectsRouter(pool: Pool): Router {
  const router = Router();

  router.get('/summary', async (req, res) => {
    parseQuery(summaryQuery, req);
    const { rows } = await pool.query<{ reason: string; last_24h: number; all_time: number; last_received_at: Date }>(summarySql);
    res.json({
      generated_at: new Date().toISOString(),
      totals: {
        last_24h: rows.reduce((n, r) => n + r.last_24h, 0),
        all_time: rows.reduce((n, r) => n + r.all_time, 0),
      },
      reasons: rows.map((r) => ({ ...r, last_received_at: r.last_received_at.toISOString() })),
    });
  });

  router.get('/', async (req, res) => {
    const q = parseQuery(listQuery, req);
    // Ids grow with arrival, so "newest first" is id order: an index scan with no sort, and a
    // page boundary that stays put while new rejects keep arriving.
    const { rows } = await pool.query<RejectRow>(listSql, [q.reason ?? null, q.before ?? null, q.limit + 1]);
    const page = rows.slice(0, q.limit);
    res.json({
      items: page.map((r) => ({
        id: r.id,
        received_at: r.received_at.toISOString(),
        source: r.source,
        topic: r.topic,
        reason: r.reason,
        detail: r.detail,
        tenant_id: r.tenant_id,
        device_id: r.device_id,
        payload_size: r.payload_size,
        payload: describePayload(r.payload, r.payload_size),
      })),
      next_before: rows.length > q.limit ? page[page.length - 1].id : null,
    });
  });

  return router;
}
