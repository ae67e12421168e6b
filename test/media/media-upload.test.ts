/**
 * WeighVision image uploads through the edge HTTP API, against the real S3 store of the local
 * stack (rclone serve s3) and the edge test database. Sessions come from an in-memory directory
 * (the Temporal one has its own test); devices are provisioned for real (mosquitto_passwd hashes).
 * Every run uses fresh tenants, so object keys and rows never meet another run's.
 *
 * A verified upload cannot be replaced: complete copies it to its verified key (which no URL can
 * write) and deletes the upload, so a presigned URL used again after complete — rclone takes it,
 * see "what the store enforces" — writes bytes nothing reads.
 */
import { randomUUID } from 'node:crypto';
import type http from 'node:http';
import type { Pool } from 'pg';
import pino from 'pino';
import { settings } from '../../config/settings';
import { createPool } from '../../db/pool';
import { farmEventSchema } from '../../domain/contracts';
import { uuidV5 } from '../../domain/ids';
import { provisionDevice, revokeDevice } from '../../gateways/mqtt-bridge/broker/credentials';
import { createEdgeApp } from '../../gateways/http/edge-app';
import { objectStoreImageSource } from '../../weighvision/media/image-source';
import { objectStoreConfigFromSettings, s3ObjectStore, type ObjectStore } from '../../weighvision/media/object-store';
import { testEdgeDatabaseUrl } from '../support/stack';
import { basicAuth, FakeSessions, jpegLike, listen, tinyPng } from './support';

const tenantA = randomUUID();
const tenantB = randomUUID();
const farm = 'farm-1';
const barn = 'barn-2';
const station = 'wv-station-1';
const otherStation = 'wv-station-2';

let pool: Pool;
let server: http.Server;
let base: string;
let store: ObjectStore;
const sessions = new FakeSessions();
const creds: Record<string, { username: string; password: string }> = {};
let seq = 0;

/** The bodies of gateways/http/weighvision/media-router.ts: presign and complete on 200, an error otherwise. */
interface PresignBody {
  media_id: string;
  object_key: string;
  upload_url: string;
  method: 'PUT';
  headers: Record<string, string>;
  expires_at: string;
}
interface CompleteBody {
  media_id: string;
  object_key: string;
  status: 'stored';
  size_bytes: number;
}
interface ErrorBody {
  error: { code: string; message: string; field?: string };
}

/** An answer; `B` is the body the test expects it to carry (the JSON as parsed, unchecked). */
interface Answer<B = unknown> {
  status: number;
  body: B;
  headers: Headers;
}

/** The error of an answer the test expects to be refused. */
const errorOf = (answer: Answer): ErrorBody['error'] => (answer.body as ErrorBody).error;

async function post<B = unknown>(
  path: string,
  body: unknown,
  auth: string | null = basicAuth(creds.a.username, creds.a.password),
  raw?: string,
): Promise<Answer<B>> {
  const headers: Record<string, string> = { 'content-type': 'application/json', 'x-request-id': `media-test-${++seq}` };
  if (auth) headers.authorization = auth;
  const res = await fetch(`${base}/api/v1/media/images${path}`, { method: 'POST', headers, body: raw ?? JSON.stringify(body) });
  return { status: res.status, body: (await res.json()) as B, headers: res.headers };
}

function newSession(tenantId = tenantA, at = { farmId: farm, barnId: barn, stationId: station }): string {
  const id = `s-${randomUUID().slice(0, 12)}`;
  sessions.open(tenantId, id, at);
  return id;
}

async function presign(sessionId: string, bytes: Buffer, contentType = 'image/jpeg', extra: object = {}): Promise<Answer<PresignBody>> {
  return post<PresignBody>('/presign', { session_id: sessionId, content_type: contentType, size_bytes: bytes.byteLength, ...extra });
}

async function upload(answer: Answer<PresignBody>, bytes: Buffer, headers: Record<string, string> = answer.body.headers): Promise<number> {
  const res = await fetch(answer.body.upload_url, { method: 'PUT', headers, body: bytes });
  await res.arrayBuffer();
  return res.status;
}

async function mediaRow(mediaId: string) {
  const { rows } = await pool.query(
    `SELECT status, size_bytes::int AS size_bytes, stored_at, expires_at, object_key, content_type, session_id, trace_id
       FROM media_objects WHERE media_id = $1`,
    [mediaId],
  );
  return rows[0];
}

async function outboxFor(mediaId: string) {
  const { rows } = await pool.query(
    `SELECT tenant_id, event_id, event_type, envelope, status, trace_id FROM sync_outbox
      WHERE event_type = 'media.stored' AND envelope->'payload'->>'media_id' = $1`,
    [mediaId],
  );
  return rows;
}

async function rejects(where: { tenantId?: string; detailLike?: string }) {
  const { rows } = await pool.query(
    `SELECT source, topic, reason, detail, tenant_id, device_id, payload, payload_size FROM ingress_rejects
      WHERE ($1::text IS NULL OR tenant_id = $1) AND ($2::text IS NULL OR detail LIKE $2) ORDER BY id`,
    [where.tenantId ?? null, where.detailLike ?? null],
  );
  return rows;
}

beforeAll(async () => {
  pool = createPool(testEdgeDatabaseUrl, { applicationName: 'farmiq-test-media' });
  store = s3ObjectStore(objectStoreConfigFromSettings(settings()));
  await store.ensureBucket();
  creds.a = await provisionDevice(pool, { tenantId: tenantA, farmId: farm, barnId: barn, deviceId: station, kind: 'weighvision-station' });
  creds.a2 = await provisionDevice(pool, { tenantId: tenantA, farmId: farm, barnId: barn, deviceId: otherStation, kind: 'weighvision-station' });
  creds.b = await provisionDevice(pool, { tenantId: tenantB, farmId: farm, barnId: barn, deviceId: station, kind: 'weighvision-station' });
  creds.revoked = await provisionDevice(pool, { tenantId: tenantA, farmId: farm, barnId: barn, deviceId: 'wv-revoked', kind: 'weighvision-station' });
  const app = createEdgeApp({ pool, log: pino({ level: 'silent' }), sessions, objectStore: store });
  ({ server, base } = await listen(app));
});

afterAll(async () => {
  const tenants = [tenantA, tenantB];
  await pool.query('DELETE FROM sync_outbox WHERE tenant_id = ANY($1::uuid[])', [tenants]);
  await pool.query('DELETE FROM media_objects WHERE tenant_id = ANY($1::uuid[])', [tenants]);
  await pool.query('DELETE FROM ingress_rejects WHERE tenant_id = ANY($1::text[]) OR detail LIKE ANY($2)', [tenants, tenants.map((t) => `%${t}%`)]);
  await pool.query('DELETE FROM edge_devices WHERE tenant_id = ANY($1::uuid[])', [tenants]);
  await new Promise((resolve) => server.close(resolve));
  store.close();
  await pool.end();
});

describe('presign → PUT → complete', () => {
  it('stores the image, appends exactly one valid media.stored and signals the session once', async () => {
    const sessionId = newSession();
    const bytes = jpegLike(1);
    const p = await presign(sessionId, bytes, 'image/jpeg', { tenant_id: tenantA.toUpperCase(), farm_id: farm, barn_id: barn, station_id: station });
    expect(p.status).toBe(200);
    const mediaId: string = p.body.media_id;
    expect(p.body).toEqual({
      media_id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      object_key: `${tenantA}/${farm}/${barn}/${station}/${sessionId}/${mediaId}.jpg`,
      upload_url: expect.stringContaining('X-Amz-Signature='),
      method: 'PUT',
      headers: { 'content-type': 'image/jpeg', 'content-length': String(bytes.byteLength) },
      expires_at: expect.any(String),
    });
    expect(new URL(p.body.upload_url).searchParams.get('X-Amz-SignedHeaders')).toBe('content-length;content-type;host');
    expect(new URL(p.body.upload_url).searchParams.get('X-Amz-Expires')).toBe('300');
    const presigned = await mediaRow(mediaId);
    expect(presigned).toMatchObject({ status: 'presigned', stored_at: null, session_id: sessionId, content_type: 'image/jpeg', trace_id: `media-test-${seq}` });
    expect(presigned.expires_at.toISOString()).toBe(p.body.expires_at);

    expect(await upload(p, bytes)).toBe(200);
    expect((await store.get(p.body.object_key)).equals(bytes)).toBe(true);

    const c = await post<CompleteBody>('/complete', { media_id: mediaId });
    expect(c.status).toBe(200);
    // The image now lives under its verified key; the upload key is gone.
    const verifiedKey = `verified/${p.body.object_key}`;
    expect(c.body).toEqual({ media_id: mediaId, object_key: verifiedKey, status: 'stored', size_bytes: bytes.byteLength });
    expect((await store.get(verifiedKey)).equals(bytes)).toBe(true);
    expect(await store.head(p.body.object_key)).toBeUndefined();
    const row = await mediaRow(mediaId);
    expect(row.status).toBe('stored');
    expect(row.object_key).toBe(verifiedKey);
    expect(row.size_bytes).toBe(bytes.byteLength);
    expect(row.stored_at).toBeInstanceOf(Date);

    const events = await outboxFor(mediaId);
    expect(events).toHaveLength(1);
    const envelope = events[0].envelope;
    expect(farmEventSchema.safeParse(envelope).success).toBe(true);
    expect(events[0]).toMatchObject({
      tenant_id: tenantA,
      event_type: 'media.stored',
      status: 'pending',
      event_id: uuidV5(`media.stored|${tenantA}|${mediaId}`),
    });
    expect(envelope).toMatchObject({
      event_type: 'media.stored',
      event_id: events[0].event_id,
      tenant_id: tenantA,
      device_id: station,
      farm_id: farm,
      barn_id: barn,
      session_id: sessionId,
      trace_id: `media-test-${seq}`,
      ts: row.stored_at.toISOString(),
      payload: {
        session_id: sessionId,
        media_id: mediaId,
        farm_id: farm,
        barn_id: barn,
        station_id: station,
        object_key: verifiedKey,
        content_type: 'image/jpeg',
        size_bytes: bytes.byteLength,
      },
    });

    const signalled = sessions.signalsFor(mediaId);
    expect(signalled).toHaveLength(1);
    expect(signalled[0]).toEqual({
      tenantId: tenantA,
      sessionId,
      image: {
        mediaId,
        objectKey: verifiedKey,
        contentType: 'image/jpeg',
        sizeBytes: bytes.byteLength,
        storedAt: row.stored_at.toISOString(),
        traceId: `media-test-${seq}`,
      },
    });
  });

  it('waits for a session the bridge is still starting instead of refusing the upload', async () => {
    const id = `s-${randomUUID().slice(0, 12)}`;
    const bytes = jpegLike(7);
    setTimeout(() => sessions.open(tenantA, id, { farmId: farm, barnId: barn, stationId: station }), 300);
    const p = await presign(id, bytes);
    expect(p.status).toBe(200);
    expect(p.body.object_key).toContain(`/${id}/`);
  });

  it('takes a PNG under a .png key', async () => {
    const sessionId = newSession();
    const png = tinyPng();
    const p = await presign(sessionId, png, 'image/png');
    expect(p.status).toBe(200);
    expect(p.body.object_key).toMatch(/\.png$/);
    expect(await upload(p, png)).toBe(200);
    const c = await post<CompleteBody>('/complete', { media_id: p.body.media_id });
    expect(c.status).toBe(200);
    expect(c.body.object_key).toBe(`verified/${p.body.object_key}`);
    expect((await store.head(c.body.object_key))?.contentType).toBe('image/png');
  });

  it('keeps a verified upload as it was verified: the URL used again afterwards changes nothing inference or sync read', async () => {
    const sessionId = newSession();
    const original = jpegLike(30);
    const replacement = jpegLike(31); // same type and size: the URL's signature allows it
    expect(replacement.byteLength).toBe(original.byteLength);
    expect(replacement.equals(original)).toBe(false);
    const p = await presign(sessionId, original);
    expect(await upload(p, original)).toBe(200);
    const c = await post<CompleteBody>('/complete', { media_id: p.body.media_id });
    expect(c.status).toBe(200);

    // The store (rclone serve s3 1.75) still takes the URL after complete…
    expect(await upload(p, replacement)).toBe(200);
    // …but what the session was told about, and what media.stored names, is the verified copy.
    const [signalled] = sessions.signalsFor(p.body.media_id);
    const [event] = await outboxFor(p.body.media_id);
    expect(signalled.image.objectKey).toBe(c.body.object_key);
    expect(event.envelope.payload.object_key).toBe(c.body.object_key);
    expect(c.body.object_key).not.toBe(p.body.object_key);
    const images = objectStoreImageSource(store); // what the inference activity fetches with
    expect((await images.fetch(signalled.image.objectKey))?.equals(original)).toBe(true);

    // A repeated complete neither verifies nor copies the replacement.
    const again = await post<CompleteBody>('/complete', { media_id: p.body.media_id });
    expect(again.body).toEqual(c.body);
    expect((await images.fetch(c.body.object_key))?.equals(original)).toBe(true);
    expect(sessions.signalsFor(p.body.media_id).map((s) => s.image.objectKey)).toEqual([c.body.object_key, c.body.object_key]);
  });

  it('answers a repeated complete the same way: one outbox event, a signal each time', async () => {
    const sessionId = newSession();
    const bytes = jpegLike(2);
    const p = await presign(sessionId, bytes);
    expect(await upload(p, bytes)).toBe(200);
    const first = await post<CompleteBody>('/complete', { media_id: p.body.media_id });
    const second = await post<CompleteBody>('/complete', { media_id: p.body.media_id });
    expect(first.status).toBe(200);
    expect(second.status).toBe(200);
    expect(second.body).toEqual(first.body);
    expect(await outboxFor(p.body.media_id)).toHaveLength(1);
    const signalled = sessions.signalsFor(p.body.media_id);
    expect(signalled).toHaveLength(2);
    expect(signalled[1].image.storedAt).toBe(signalled[0].image.storedAt);
  });

  it('makes one event when two completes race', async () => {
    const sessionId = newSession();
    const bytes = jpegLike(3);
    const p = await presign(sessionId, bytes);
    expect(await upload(p, bytes)).toBe(200);
    const answers = await Promise.all([1, 2, 3].map(() => post<CompleteBody>('/complete', { media_id: p.body.media_id })));
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200]);
    expect(await outboxFor(p.body.media_id)).toHaveLength(1);
  });
});

describe('the presigned URL', () => {
  it('is refused by the store when its signature or key is tampered with', async () => {
    const sessionId = newSession();
    const bytes = jpegLike(4);
    const p = await presign(sessionId, bytes);
    const url = new URL(p.body.upload_url);
    const sig = url.searchParams.get('X-Amz-Signature')!;
    url.searchParams.set('X-Amz-Signature', (sig[0] === '0' ? '1' : '0') + sig.slice(1));
    expect((await fetch(url, { method: 'PUT', headers: p.body.headers, body: bytes })).status).toBe(403);

    const otherKey = p.body.upload_url.replace(`${p.body.media_id}.jpg`, `${randomUUID()}.jpg`);
    expect((await fetch(otherKey, { method: 'PUT', headers: p.body.headers, body: bytes })).status).toBe(403);
    expect(await store.head(p.body.object_key)).toBeUndefined();
    expect(await store.head(new URL(otherKey).pathname.split('/').slice(2).join('/'))).toBeUndefined();
  });

  it('is refused for another content type or another size than it was signed for', async () => {
    const sessionId = newSession();
    const bytes = jpegLike(5);
    const p = await presign(sessionId, bytes);
    expect(await upload(p, bytes, { 'content-type': 'image/png' })).toBe(403);
    expect(await upload(p, Buffer.concat([bytes, Buffer.from('extra')]), { 'content-type': 'image/jpeg' })).toBe(403);
    expect(await upload(p, bytes.subarray(0, 100), { 'content-type': 'image/jpeg' })).toBe(403);
    expect(await store.head(p.body.object_key)).toBeUndefined();
  });
});

describe('complete refuses', () => {
  it('an object that was never uploaded: 409 object_missing, nothing appended, no signal', async () => {
    const sessionId = newSession();
    const p = await presign(sessionId, jpegLike(6));
    const c = await post<CompleteBody>('/complete', { media_id: p.body.media_id });
    expect(c.status).toBe(409);
    expect(errorOf(c).code).toBe('object_missing');
    expect((await mediaRow(p.body.media_id)).status).toBe('presigned');
    expect(await outboxFor(p.body.media_id)).toHaveLength(0);
    expect(sessions.signalsFor(p.body.media_id)).toHaveLength(0);
    const recorded = await rejects({ tenantId: tenantA, detailLike: `%${p.body.object_key}%` });
    expect(recorded).toHaveLength(1);
    expect(recorded[0]).toMatchObject({ source: 'http', topic: 'POST /api/v1/media/images/complete', reason: 'object_missing', device_id: station });
    expect(JSON.parse(recorded[0].payload.toString())).toEqual({ media_id: p.body.media_id });
  });

  it('an object of another size (422 object_size_mismatch) or type (422 object_type_mismatch)', async () => {
    // The presigned URL cannot write these (the store checks the signed headers), so the test writes them directly.
    const bytes = jpegLike(7);
    const sized = await presign(newSession(), bytes);
    await store.put(sized.body.object_key, bytes.subarray(0, 500), 'image/jpeg');
    const c1 = await post<CompleteBody>('/complete', { media_id: sized.body.media_id });
    expect(c1.status).toBe(422);
    expect(errorOf(c1).code).toBe('object_size_mismatch');

    const typed = await presign(newSession(), bytes);
    await store.put(typed.body.object_key, bytes, 'image/png');
    const c2 = await post<CompleteBody>('/complete', { media_id: typed.body.media_id });
    expect(c2.status).toBe(422);
    expect(errorOf(c2).code).toBe('object_type_mismatch');

    for (const id of [sized.body.media_id, typed.body.media_id]) {
      expect((await mediaRow(id)).status).toBe('presigned');
      expect(await outboxFor(id)).toHaveLength(0);
      expect(sessions.signalsFor(id)).toHaveLength(0);
    }
  });

  it('once the session has closed: 409 session_not_open, nothing stored or appended', async () => {
    const sessionId = newSession();
    const bytes = jpegLike(8);
    const p = await presign(sessionId, bytes);
    expect(await upload(p, bytes)).toBe(200);
    sessions.closeSession(tenantA, sessionId);
    const c = await post<CompleteBody>('/complete', { media_id: p.body.media_id });
    expect(c.status).toBe(409);
    expect(errorOf(c).code).toBe('session_not_open');
    expect((await mediaRow(p.body.media_id)).status).toBe('presigned');
    expect(await outboxFor(p.body.media_id)).toHaveLength(0);
  });

  it('an upload of another station or another tenant', async () => {
    const bytes = jpegLike(9);
    const p = await presign(newSession(), bytes);
    expect(await upload(p, bytes)).toBe(200);
    const sameTenant = await post<CompleteBody>('/complete', { media_id: p.body.media_id }, basicAuth(creds.a2.username, creds.a2.password));
    expect(sameTenant.status).toBe(403);
    expect(errorOf(sameTenant).code).toBe('session_not_owned');
    const recorded = await rejects({ tenantId: tenantA, detailLike: `%${p.body.media_id}%` });
    expect(recorded.map((r) => [r.source, r.topic, r.reason, r.device_id])).toEqual([
      ['http', 'POST /api/v1/media/images/complete', 'session_not_owned', otherStation],
    ]);
    const otherTenant = await post<CompleteBody>('/complete', { media_id: p.body.media_id }, basicAuth(creds.b.username, creds.b.password));
    expect(otherTenant.status).toBe(404);
    expect(errorOf(otherTenant).code).toBe('media_not_found');
    expect((await mediaRow(p.body.media_id)).status).toBe('presigned');
    expect(await outboxFor(p.body.media_id)).toHaveLength(0);
    expect((await rejects({ tenantId: tenantB })).map((r) => r.reason)).toContain('media_not_found');
  });
});

describe('presign refuses', () => {
  it("a device of tenant A naming tenant B (403) or B's session (404), and records both", async () => {
    const sessionB = newSession(tenantB);
    const byTenant = await presign(sessionB, jpegLike(10), 'image/jpeg', { tenant_id: tenantB });
    expect(byTenant.status).toBe(403);
    expect(errorOf(byTenant).code).toBe('device_scope_violation');
    const bySession = await presign(sessionB, jpegLike(10));
    expect(bySession.status).toBe(404);
    expect(errorOf(bySession).code).toBe('session_not_found');
    const byStation = await presign(newSession(), jpegLike(10), 'image/jpeg', { station_id: otherStation });
    expect(byStation.status).toBe(403);

    const { rows } = await pool.query('SELECT count(*)::int AS n FROM media_objects WHERE tenant_id = $1 AND session_id = $2', [tenantA, sessionB]);
    expect(rows[0].n).toBe(0);
    const recorded = (await rejects({ tenantId: tenantA })).filter((r) => r.topic === 'POST /api/v1/media/images/presign');
    const scope = recorded.filter((r) => r.reason === 'device_scope_violation');
    expect(scope.length).toBeGreaterThanOrEqual(2);
    expect(scope.some((r) => JSON.parse(r.payload.toString()).tenant_id === tenantB)).toBe(true);
    expect(scope.every((r) => r.source === 'http' && r.device_id === station)).toBe(true);
    expect(recorded.some((r) => r.reason === 'session_not_found' && JSON.parse(r.payload.toString()).session_id === sessionB)).toBe(true);
  });

  it('a session another station of the same tenant opened (403 session_not_owned), recorded', async () => {
    const sessionId = newSession(tenantA, { farmId: farm, barnId: barn, stationId: otherStation });
    const p = await presign(sessionId, jpegLike(11));
    expect(p.status).toBe(403);
    expect(errorOf(p).code).toBe('session_not_owned');
    // Same station id, other barn: not the owner either.
    const elsewhere = newSession(tenantA, { farmId: farm, barnId: 'barn-9', stationId: station });
    const q = await presign(elsewhere, jpegLike(11));
    expect([q.status, errorOf(q).code]).toEqual([403, 'session_not_owned']);
    const recorded = (await rejects({ tenantId: tenantA })).filter((r) => r.reason === 'session_not_owned' && r.topic === 'POST /api/v1/media/images/presign');
    expect(recorded.map((r) => JSON.parse(r.payload.toString()).session_id).sort()).toEqual([sessionId, elsewhere].sort());
    expect(recorded.every((r) => r.source === 'http' && r.device_id === station)).toBe(true);
    const { rows } = await pool.query('SELECT count(*)::int AS n FROM media_objects WHERE tenant_id = $1 AND session_id = ANY($2)', [
      tenantA,
      [sessionId, elsewhere],
    ]);
    expect(rows[0].n).toBe(0);
  });

  it('a closed session (409) and an unknown one (404)', async () => {
    const closed = newSession();
    sessions.closeSession(tenantA, closed);
    const p = await presign(closed, jpegLike(12));
    expect(p.status).toBe(409);
    expect(errorOf(p).code).toBe('session_not_open');
    const unknown = await presign('s-never-created', jpegLike(12));
    expect(unknown.status).toBe(404);
    expect(errorOf(unknown).code).toBe('session_not_found');
  });

  it('a type that is not jpeg or png (415), an image over the limit (413), and malformed bodies (400)', async () => {
    const sessionId = newSession();
    const gif = await post('/presign', { session_id: sessionId, content_type: 'image/gif', size_bytes: 100 });
    expect([gif.status, errorOf(gif).code]).toEqual([415, 'unsupported_content_type']);
    const big = await post('/presign', { session_id: sessionId, content_type: 'image/jpeg', size_bytes: 10 * 1024 * 1024 + 1 });
    expect([big.status, errorOf(big).code]).toEqual([413, 'image_too_large']);
    const zero = await post('/presign', { session_id: sessionId, content_type: 'image/jpeg', size_bytes: 0 });
    expect([zero.status, errorOf(zero).code, errorOf(zero).field]).toEqual([400, 'invalid_body', 'size_bytes']);
    const unknownField = await post('/presign', { session_id: sessionId, content_type: 'image/jpeg', size_bytes: 10, bucket: 'x' });
    expect([unknownField.status, errorOf(unknownField).field]).toEqual([400, 'bucket']);
    const badSession = await post('/presign', { session_id: 'a/b', content_type: 'image/jpeg', size_bytes: 10 });
    expect([badSession.status, errorOf(badSession).field]).toEqual([400, 'session_id']);
    for (const dots of ['.', '..', '...']) {
      sessions.open(tenantA, dots, { farmId: farm, barnId: barn, stationId: station }); // even if one existed
      const walk = await post('/presign', { session_id: dots, content_type: 'image/jpeg', size_bytes: 10 });
      expect([walk.status, errorOf(walk).code, errorOf(walk).field]).toEqual([400, 'invalid_body', 'session_id']);
    }
    const notJson = await post('/presign', undefined, null, '{"session_id":');
    expect(notJson.status).toBe(401); // credentials are checked before the body is read
    const notJsonAuthed = await post('/presign', undefined, basicAuth(creds.a.username, creds.a.password), '{"session_id":');
    expect([notJsonAuthed.status, errorOf(notJsonAuthed).code]).toEqual([400, 'invalid_json']);

    const { rows } = await pool.query('SELECT count(*)::int AS n FROM media_objects WHERE tenant_id = $1 AND session_id = $2', [tenantA, sessionId]);
    expect(rows[0].n).toBe(0);
    const reasons = (await rejects({ tenantId: tenantA })).map((r) => r.reason);
    expect(reasons).toEqual(expect.arrayContaining(['unsupported_content_type', 'image_too_large', 'invalid_body', 'invalid_json']));
  });
});

describe('device authentication', () => {
  it('refuses a wrong password, an unknown user and missing credentials with 401 device_unauthenticated, and records it', async () => {
    const sessionId = newSession();
    const body = { session_id: sessionId, content_type: 'image/jpeg', size_bytes: 10 };
    const wrong = await post('/presign', body, basicAuth(creds.a.username, `${creds.a.password}x`));
    expect([wrong.status, errorOf(wrong).code]).toEqual([401, 'device_unauthenticated']);
    expect(wrong.headers.get('www-authenticate')).toMatch(/^Basic /);
    const unknown = await post('/presign', body, basicAuth(`${tenantA}/farm-1/barn-2/nobody`, creds.a.password));
    expect(unknown.status).toBe(401);
    const missing = await post('/presign', body, null);
    expect(missing.status).toBe(401);
    const bearer = await post<CompleteBody>('/complete', { media_id: randomUUID() }, 'Bearer abc');
    expect(bearer.status).toBe(401);
    // A username no broker login can have (the NUL once reached Postgres and answered 500).
    for (const name of ['\u0000', `${tenantA}\u0000x`, 'a b', '\u001b[0m']) {
      const odd = await post('/presign', body, `Basic ${Buffer.from(`${name}:${creds.a.password}`).toString('base64')}`);
      expect([odd.status, errorOf(odd).code]).toEqual([401, 'device_unauthenticated']);
    }

    const recorded = await rejects({ detailLike: `%${tenantA}%` });
    const auth = recorded.filter((r) => r.reason === 'device_unauthenticated');
    expect(auth.length).toBeGreaterThanOrEqual(2);
    expect(auth.every((r) => r.source === 'http' && r.tenant_id === null && r.payload === null)).toBe(true);
    expect(auth.some((r) => r.detail.includes(creds.a.username))).toBe(true);
    // The right password still works after the wrong ones (nothing is locked or cached wrongly).
    expect((await post('/presign', body)).status).toBe(200);
  });

  it('refuses a revoked device at once, even right after it authenticated', async () => {
    const sessionId = newSession(tenantA, { farmId: farm, barnId: barn, stationId: 'wv-revoked' });
    const auth = basicAuth(creds.revoked.username, creds.revoked.password);
    expect((await post('/presign', { session_id: sessionId, content_type: 'image/jpeg', size_bytes: 10 }, auth)).status).toBe(200);
    expect(await revokeDevice(pool, creds.revoked.username)).toBe(true);
    const after = await post('/presign', { session_id: sessionId, content_type: 'image/jpeg', size_bytes: 10 }, auth);
    expect([after.status, errorOf(after).code]).toEqual([401, 'device_unauthenticated']);
  });
});
