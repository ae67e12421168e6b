/**
 * WeighVision image uploads (spec §3 steps 4-8), for stations authenticated with their MQTT
 * credentials (device-auth.ts):
 *
 *   POST /api/v1/media/images/presign   { session_id, content_type, size_bytes, [tenant_id, farm_id, barn_id, station_id] }
 *     200 { media_id, object_key, upload_url, method: 'PUT', headers, expires_at }
 *   PUT  <upload_url>                   the image, to the object store, with exactly `headers`
 *   POST /api/v1/media/images/complete  { media_id }
 *     200 { media_id, object_key, status: 'stored', size_bytes }; repeatable
 *
 * Complete checks the upload, then copies it server-side to its verified key (weighvision/media/object-key.ts)
 * and deletes the upload: the presigned URL stays usable until it expires, but what it writes from
 * then on is never read — the verified copy, which inference and media.stored use, has no URL.
 *
 * A session belongs to the station whose event started it (its workflow's FarmiqFarm, FarmiqBarn,
 * FarmiqStation): another station of the tenant gets 403 session_not_owned for it and its uploads.
 *
 * Refusals (each also recorded in ingress_rejects, source 'http'):
 *   400 invalid_json | invalid_body          401 device_unauthenticated
 *   403 device_scope_violation | session_not_owned
 *   404 session_not_found | media_not_found
 *   409 session_not_open | object_missing    413 image_too_large | invalid_body (body over 16 KiB)
 *   415 unsupported_content_type             422 object_size_mismatch | object_type_mismatch
 *   503 temporal_unavailable | object_store_unavailable | database_unavailable (retry; not recorded)
 */
import { randomUUID } from 'node:crypto';
import express, { Router, type ErrorRequestHandler, type Request, type Response } from 'express';
import type { Pool } from 'pg';
import { z } from 'zod';
import { topicSegment } from '../../../domain/contracts';
import { findMedia, insertPresignedMedia, storeVerifiedMedia, type MediaRecord } from '../../../weighvision/media/media-records';
import { isImageContentType, imageContentTypes, mediaObjectKey, verifiedObjectKey } from '../../../weighvision/media/object-key';
import type { ObjectStore, StoredObjectHead } from '../../../weighvision/media/object-store';
import { SessionDirectoryError, type SessionDirectory, type SessionInfo } from '../../../weighvision/media/session-directory';
import { retryUntil } from '../../../platform/backoff';
import type { Logger } from '../../../platform/logger';
import type { StoredImage } from '../../../weighvision/session-contract';
import { deviceOf, requireDevice, type AuthenticatedDevice, type RequireDeviceOptions } from '../device-auth';
import { HttpError } from '../errors';
import { recordHttpReject } from '../../../ingest/ingress-rejects';

export interface MediaRouterDeps {
  pool: Pool;
  objectStore: ObjectStore;
  sessions: SessionDirectory;
  log: Logger;
  /** Lifetime of an upload URL (MEDIA_PRESIGN_EXPIRY_SECONDS). */
  presignExpirySeconds: number;
  /** Largest image accepted (MEDIA_MAX_IMAGE_BYTES). */
  maxImageBytes: number;
  /**
   * How long a presign waits for a session that is not there yet (MEDIA_SESSION_WAIT_MS): the
   * station's `created` is acknowledged by the broker before the bridge has started its workflow,
   * so an upload asked for right after it would otherwise be refused for a few milliseconds.
   */
  sessionWaitMs?: number;
  deviceAuth?: RequireDeviceOptions;
}

const presignBody = z
  .object({
    session_id: topicSegment,
    // Any string here: a type outside the allowed ones is 415, not a malformed body.
    content_type: z.string().min(1).max(255),
    size_bytes: z.number().int().positive(),
    // Optional, and when given they must be the device's own address.
    tenant_id: z.string().min(1).max(64).optional(),
    farm_id: z.string().min(1).max(64).optional(),
    barn_id: z.string().min(1).max(64).optional(),
    station_id: z.string().min(1).max(64).optional(),
  })
  .strict();

const completeBody = z.object({ media_id: z.uuid() }).strict();

function parseBody<S extends z.ZodType>(schema: S, body: unknown): z.infer<S> {
  const parsed = schema.safeParse(body ?? undefined);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const field = issue.code === 'unrecognized_keys' ? issue.keys[0] : issue.path.map(String).join('.');
  const what = issue.code === 'unrecognized_keys' ? 'is not a known field' : issue.message;
  throw new HttpError(400, 'invalid_body', field ? `${field}: ${what}` : `the body must be a JSON object (${what})`, field || undefined);
}

function scopeViolation(message: string): HttpError {
  return new HttpError(403, 'device_scope_violation', message);
}

function notOwned(message: string): HttpError {
  return new HttpError(403, 'session_not_owned', message);
}

/** The body may name where the image belongs; it must be where the device is registered. */
function assertOwnAddress(device: AuthenticatedDevice, body: z.infer<typeof presignBody>): void {
  const mismatches = [
    ['tenant_id', body.tenant_id?.toLowerCase(), device.tenantId.toLowerCase()],
    ['farm_id', body.farm_id, device.farmId],
    ['barn_id', body.barn_id, device.barnId],
    ['station_id', body.station_id, device.deviceId],
  ].filter(([, given, own]) => given !== undefined && given !== own);
  if (mismatches.length > 0) {
    throw scopeViolation(
      `device ${device.deviceId} may upload only for its own address; ${mismatches.map(([f]) => f).join(', ')} differ${mismatches.length === 1 ? 's' : ''}`,
    );
  }
}

function sameStation(device: AuthenticatedDevice, at: { farmId: string | undefined; barnId: string | undefined; stationId: string | undefined }): boolean {
  return at.farmId === device.farmId && at.barnId === device.barnId && at.stationId === device.deviceId;
}

function mediaType(contentType: string | undefined): string | undefined {
  return contentType?.split(';')[0].trim().toLowerCase();
}

/** The stored object is what the upload was presigned for: 422 otherwise. */
function assertPresignedShape(head: StoredObjectHead, record: MediaRecord): void {
  if (head.sizeBytes !== record.sizeBytes) {
    throw new HttpError(422, 'object_size_mismatch', `the stored object has ${head.sizeBytes} bytes, the upload was presigned for ${record.sizeBytes}`);
  }
  if (mediaType(head.contentType) !== record.contentType) {
    throw new HttpError(
      422,
      'object_type_mismatch',
      `the stored object is ${head.contentType ?? 'untyped'}, the upload was presigned for ${record.contentType}`,
    );
  }
}

export function mediaRouter(deps: MediaRouterDeps): Router {
  const { pool, objectStore, sessions, log } = deps;
  const router = Router();
  const authenticate = requireDevice(pool, deps.deviceAuth);
  const json = express.json({
    limit: '16kb',
    // Kept for the quarantine row when the request is refused.
    verify: (req, _res, buf) => {
      (req as Request & { rawBody?: Buffer }).rawBody = Buffer.from(buf);
    },
  });

  async function session<T>(what: () => Promise<T>): Promise<T> {
    try {
      return await what();
    } catch (err) {
      if (err instanceof SessionDirectoryError) {
        throw err.code === 'temporal_unavailable'
          ? new HttpError(503, 'temporal_unavailable', 'the session service (Temporal) is not reachable; retry shortly')
          : new HttpError(409, 'session_not_open', err.message);
      }
      throw err;
    }
  }

  async function store<T>(what: () => Promise<T>): Promise<T> {
    try {
      return await what();
    } catch (err) {
      log.warn({ err: (err as Error).message }, 'object store call failed');
      throw new HttpError(503, 'object_store_unavailable', 'the object store is not reachable; retry shortly');
    }
  }

  /** The session, waiting up to sessionWaitMs (25 ms doubling to 200 ms) while it does not exist yet. */
  async function lookupSoon(tenantId: string, sessionId: string): Promise<SessionInfo | undefined> {
    const deadline = Date.now() + (deps.sessionWaitMs ?? 0);
    return retryUntil(() => sessions.lookup(tenantId, sessionId), {
      backoff: { firstMs: 25, maxMs: 200 },
      done: (found, retryInMs) => Boolean(found) || Date.now() + retryInMs > deadline,
    });
  }

  router.post('/presign', authenticate, json, async (req, res) => {
    const device = deviceOf(res);
    const body = parseBody(presignBody, req.body);
    assertOwnAddress(device, body);
    const contentType = body.content_type.toLowerCase();
    if (!isImageContentType(contentType)) {
      throw new HttpError(415, 'unsupported_content_type', `content_type must be one of ${imageContentTypes.join(', ')}`, 'content_type');
    }
    if (body.size_bytes > deps.maxImageBytes) {
      throw new HttpError(413, 'image_too_large', `size_bytes ${body.size_bytes} is over the limit of ${deps.maxImageBytes} bytes`, 'size_bytes');
    }

    const found = await session(() => lookupSoon(device.tenantId, body.session_id));
    if (!found) {
      throw new HttpError(
        404,
        'session_not_found',
        `session ${body.session_id} is not known (yet): publish session.created first, or retry shortly`,
        'session_id',
      );
    }
    // Ownership before openness, so a station learns nothing about another station's sessions.
    if (!sameStation(device, found))
      throw notOwned(`session ${body.session_id} was opened by another station; station ${device.deviceId} cannot add images to it`);
    if (!found.open) throw new HttpError(409, 'session_not_open', `session ${body.session_id} is closed; images can no longer be added`, 'session_id');

    const mediaId = randomUUID();
    const objectKey = mediaObjectKey({
      tenantId: device.tenantId,
      farmId: device.farmId,
      barnId: device.barnId,
      stationId: device.deviceId,
      sessionId: body.session_id,
      mediaId,
      contentType,
    });
    const upload = await store(() => objectStore.presignPut(objectKey, contentType, body.size_bytes, deps.presignExpirySeconds));
    await insertPresignedMedia(pool, {
      tenantId: device.tenantId,
      mediaId,
      sessionId: body.session_id,
      farmId: device.farmId,
      barnId: device.barnId,
      stationId: device.deviceId,
      objectKey,
      contentType,
      sizeBytes: body.size_bytes,
      expiresAt: upload.expiresAt,
      traceId: res.locals.requestId as string,
    });
    res.json({
      media_id: mediaId,
      object_key: objectKey,
      upload_url: upload.url,
      method: upload.method,
      headers: upload.headers,
      expires_at: upload.expiresAt.toISOString(),
    });
  });

  router.post('/complete', authenticate, json, async (req, res) => {
    const device = deviceOf(res);
    const { media_id } = parseBody(completeBody, req.body);
    const traceId = res.locals.requestId as string;
    let record: MediaRecord | undefined = await findMedia(pool, device.tenantId, media_id.toLowerCase());
    if (!record) throw new HttpError(404, 'media_not_found', `no upload ${media_id} was presigned for this device's tenant`, 'media_id');
    if (!sameStation(device, record)) throw notOwned(`upload ${media_id} belongs to a session of another station`);

    if (record.status === 'presigned') {
      const missing = (key: string) => new HttpError(409, 'object_missing', `nothing has been uploaded to ${key}; PUT the image to the upload URL first`);
      const head = await store(() => objectStore.head(record!.objectKey));
      if (!head) throw missing(record.objectKey);
      assertPresignedShape(head, record);
      const found = await session(() => sessions.lookup(device.tenantId, record!.sessionId));
      if (!found?.open) throw new HttpError(409, 'session_not_open', `session ${record.sessionId} has closed; the image is not part of it`);
      // With the row locked: copy the upload to its verified key and check the copy (the URL may
      // have written other bytes of the same signed type and size since the HEAD; those are the
      // station's own upload too). Once stored, no complete copies again, so the verified object
      // is final.
      const stored = await storeVerifiedMedia(
        pool,
        device.tenantId,
        record.mediaId,
        async (presigned) => {
          const target = verifiedObjectKey(presigned.objectKey);
          if (!(await store(() => objectStore.copy(presigned.objectKey, target)))) throw missing(presigned.objectKey);
          const copy = await store(() => objectStore.head(target));
          if (!copy) throw new HttpError(503, 'object_store_unavailable', `the object store lost the copy ${target}; retry shortly`);
          assertPresignedShape(copy, presigned);
          return { objectKey: target, sizeBytes: copy.sizeBytes };
        },
        traceId,
      );
      if (!stored) throw new HttpError(404, 'media_not_found', `upload ${media_id} no longer exists`, 'media_id');
      if (stored.transitioned) {
        // The upload key is what the URL can still write; nothing reads it any more.
        await objectStore
          .delete(record.objectKey)
          .catch((err: Error) => log.warn({ err: err.message, objectKey: record!.objectKey }, 'could not delete a verified upload; it is unused'));
      }
      record = stored.record;
    }

    const image: StoredImage = {
      mediaId: record.mediaId,
      objectKey: record.objectKey,
      contentType: record.contentType,
      sizeBytes: record.sizeBytes,
      storedAt: record.storedAt!.toISOString(),
      traceId,
    };
    // Every complete signals, a repeat too (the first signal may have been lost with its answer); the workflow dedupes by media id.
    await session(() => sessions.imageStored(device.tenantId, record.sessionId, image));
    res.json({ media_id: record.mediaId, object_key: record.objectKey, status: 'stored', size_bytes: record.sizeBytes });
  });

  const quarantine: ErrorRequestHandler = async (err, req, res: Response, next) => {
    const e = err as { type?: string; message?: string };
    let refusal: unknown = err;
    if (e.type === 'entity.parse.failed') refusal = new HttpError(400, 'invalid_json', 'the request body is not valid JSON');
    else if (e.type === 'entity.too.large') refusal = new HttpError(413, 'invalid_body', 'the request body is over 16 KiB');
    else if (typeof e.type === 'string' && e.type.startsWith('entity.'))
      refusal = new HttpError(400, 'invalid_body', `the request body could not be read: ${e.message}`);

    if (refusal instanceof HttpError && refusal.status < 500) {
      const device = res.locals.device as AuthenticatedDevice | undefined;
      const username = res.locals.authUsername as string | undefined;
      const rawBody = (req as Request & { rawBody?: Buffer }).rawBody;
      await recordHttpReject(pool, log, {
        route: `${req.method} ${req.baseUrl}${req.path}`,
        reason: refusal.code,
        detail: device || username === undefined ? refusal.message : `${refusal.message} (username ${JSON.stringify(username.slice(0, 128))})`,
        tenantId: device?.tenantId,
        deviceId: device?.deviceId,
        body: rawBody,
        bodySize: rawBody?.byteLength ?? (Number(req.get('content-length')) || 0),
      });
    }
    next(refusal);
  };
  router.use(quarantine);
  return router;
}
