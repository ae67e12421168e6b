/**
 * The object store wrapper against the real rclone S3 server of the local stack: what a presigned
 * PUT URL allows and what the server refuses (docs/weighvision.md, "what the store enforces").
 */
import { randomUUID } from 'node:crypto';
import { s3ObjectStore, type ObjectStore } from '../../media/object-store';
import { mediaObjectKey, parseMediaObjectKey } from '../../media/object-key';
import { jpegLike } from './support';

let store: ObjectStore;
const prefix = `test-object-store-${randomUUID()}`;

beforeAll(async () => {
  store = s3ObjectStore();
  await store.ensureBucket();
  await store.ensureBucket(); // a second time is a no-op
});

afterAll(() => store.close());

async function put(url: string, body: Buffer, headers: Record<string, string>): Promise<number> {
  const res = await fetch(url, { method: 'PUT', headers, body });
  await res.arrayBuffer();
  return res.status;
}

it('puts, heads and gets an object; head of a missing key is undefined', async () => {
  const key = `${prefix}/direct.jpg`;
  const bytes = jpegLike(20);
  expect(await store.head(key)).toBeUndefined();
  await store.put(key, bytes, 'image/jpeg');
  expect(await store.head(key)).toMatchObject({ sizeBytes: bytes.byteLength, contentType: 'image/jpeg' });
  expect((await store.get(key)).equals(bytes)).toBe(true);
});

it('a presigned URL uploads exactly the signed type and size, and keeps working until it expires', async () => {
  const key = `${prefix}/presigned.jpg`;
  const bytes = jpegLike(21);
  const p = await store.presignPut(key, 'image/jpeg', bytes.byteLength, 60);
  expect(p.headers).toEqual({ 'content-type': 'image/jpeg', 'content-length': String(bytes.byteLength) });
  expect(await put(p.url, bytes, { 'content-type': 'image/jpeg' })).toBe(200);
  expect(await store.head(key)).toMatchObject({ sizeBytes: bytes.byteLength, contentType: 'image/jpeg' });
  // Reusable until expiry (S3 semantics): same type and size, other bytes, overwrite.
  const again = jpegLike(22);
  expect(await put(p.url, again, p.headers)).toBe(200);
  expect((await store.get(key)).equals(again)).toBe(true);
});

it('refuses an expired URL', async () => {
  const key = `${prefix}/expired.jpg`;
  const bytes = jpegLike(23);
  const p = await store.presignPut(key, 'image/jpeg', bytes.byteLength, 1);
  await new Promise((resolve) => setTimeout(resolve, 2500));
  const status = await put(p.url, bytes, p.headers);
  expect(status).toBeGreaterThanOrEqual(400);
  expect(status).toBeLessThan(500);
  expect(await store.head(key)).toBeUndefined();
});

it('refuses a longer expiry written into the URL, a missing content type and an unsigned PUT', async () => {
  const key = `${prefix}/tampered.jpg`;
  const bytes = jpegLike(24);
  const p = await store.presignPut(key, 'image/jpeg', bytes.byteLength, 60);
  const longer = new URL(p.url);
  longer.searchParams.set('X-Amz-Expires', '3600');
  expect(await put(longer.toString(), bytes, p.headers)).toBe(403);
  expect(await put(p.url, bytes, {})).toBe(403);
  const unsigned = `${new URL(p.url).origin}/${store.bucket}/${key}`;
  expect(await put(unsigned, bytes, p.headers)).toBeGreaterThanOrEqual(400);
  expect(await store.head(key)).toBeUndefined();
});

it('builds object keys that parse back', () => {
  const a = { tenantId: randomUUID(), farmId: 'farm-1', barnId: 'barn:2', stationId: 'wv.1', sessionId: 's_1', mediaId: randomUUID(), contentType: 'image/png' as const };
  const key = mediaObjectKey(a);
  expect(key).toBe(`${a.tenantId}/farm-1/barn:2/wv.1/s_1/${a.mediaId}.png`);
  expect(parseMediaObjectKey(key)).toEqual(a);
  expect(parseMediaObjectKey(`${a.tenantId}/farm-1/barn/wv/s/x.png`)).toBeUndefined();
  expect(() => mediaObjectKey({ ...a, sessionId: '../etc' })).toThrow();
});
