/**
 * The object store wrapper against the real rclone S3 server of the local stack: what a presigned
 * PUT URL allows and what the server refuses (docs/weighvision.md, "what the store enforces"),
 * the endpoint presigned URLs carry (S3_PUBLIC_ENDPOINT), and the server-side copy complete uses.
 */
import { randomUUID } from 'node:crypto';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { resetSettingsForTests, settings } from '../../config/settings';
import { objectStoreConfigFromSettings, s3ObjectStore, type ObjectStore } from '../../weighvision/media/object-store';
import { mediaObjectKey, parseMediaObjectKey, parseStoredObjectKey, verifiedObjectKey } from '../../weighvision/media/object-key';
import { jpegLike } from './support';

let store: ObjectStore;
const prefix = `test-object-store-${randomUUID()}`;

beforeAll(async () => {
  store = s3ObjectStore(objectStoreConfigFromSettings(settings()));
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

/** The address of a new JPEG in farm-1/barn-1/wv-1/s-1 of a new tenant. */
const jpegAddress = () => ({
  tenantId: randomUUID(),
  farmId: 'farm-1',
  barnId: 'barn-1',
  stationId: 'wv-1',
  sessionId: 's-1',
  mediaId: randomUUID(),
  contentType: 'image/jpeg' as const,
});

it('builds object keys that parse back', () => {
  const a = {
    tenantId: randomUUID(),
    farmId: 'farm-1',
    barnId: 'barn:2',
    stationId: 'wv.1',
    sessionId: 's_1',
    mediaId: randomUUID(),
    contentType: 'image/png' as const,
  };
  const key = mediaObjectKey(a);
  expect(key).toBe(`${a.tenantId}/farm-1/barn:2/wv.1/s_1/${a.mediaId}.png`);
  expect(parseMediaObjectKey(key)).toEqual(a);
  expect(parseMediaObjectKey(`${a.tenantId}/farm-1/barn/wv/s/x.png`)).toBeUndefined();
  expect(() => mediaObjectKey({ ...a, sessionId: '../etc' })).toThrow();
});

it('builds no key from an id made only of dots, and parses none back', () => {
  const a = jpegAddress();
  for (const dots of ['.', '..', '...']) {
    for (const field of ['farmId', 'barnId', 'stationId', 'sessionId'] as const) {
      expect(() => mediaObjectKey({ ...a, [field]: dots })).toThrow();
    }
    expect(parseMediaObjectKey(`${a.tenantId}/farm-1/barn-1/wv-1/${dots}/${a.mediaId}.jpg`)).toBeUndefined();
  }
  // Ids that merely contain dots stay valid (station "wv.1", session "2026.11.27").
  expect(mediaObjectKey({ ...a, stationId: 'wv.1', sessionId: '2026.11.27' })).toContain('/wv.1/2026.11.27/');
});

it('derives the verified key of an upload key, which no upload key can be', () => {
  const a = jpegAddress();
  const upload = mediaObjectKey(a);
  const verified = verifiedObjectKey(upload);
  expect(verified).toBe(`verified/${upload}`);
  expect(parseMediaObjectKey(verified)).toBeUndefined(); // the presign route builds only upload keys
  expect(parseStoredObjectKey(verified)).toEqual({ ...a, verified: true });
  expect(parseStoredObjectKey(upload)).toEqual({ ...a, verified: false });
  expect(() => verifiedObjectKey(verified)).toThrow();
  expect(() => verifiedObjectKey('../x.jpg')).toThrow();
});

it('copies an object server-side with its type, deletes it, and says when there is nothing to copy', async () => {
  const from = `${prefix}/barn:2/wv.1/copy-source.jpg`;
  const to = `verified/${from}`;
  const bytes = jpegLike(25);
  await store.put(from, bytes, 'image/jpeg');
  expect(await store.copy(from, to)).toBe(true);
  expect(await store.head(to)).toMatchObject({ sizeBytes: bytes.byteLength, contentType: 'image/jpeg' });
  expect((await store.get(to)).equals(bytes)).toBe(true);
  await store.delete(from);
  expect(await store.head(from)).toBeUndefined();
  await store.delete(from); // deleting a missing object is not an error
  expect(await store.copy(from, `${to}.again`)).toBe(false);
  expect((await store.get(to)).equals(bytes)).toBe(true);
});

/**
 * What rclone serve s3 1.75 does with conditional requests (measured; the reason complete copies
 * a verified upload to a key no URL can write instead of relying on them): a PUT with
 * If-None-Match: * or a wrong If-Match overwrites; a GET with a stale If-Match answers 200 with the
 * new bytes. Only If-None-Match on GET (304) is honoured.
 */
it('documents that rclone ignores conditional writes and If-Match', async () => {
  const c = objectStoreConfigFromSettings(settings());
  const s3 = new S3Client({
    endpoint: c.endpoint,
    region: c.region,
    credentials: { accessKeyId: c.accessKeyId, secretAccessKey: c.secretAccessKey },
    forcePathStyle: true,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  try {
    const key = `${prefix}/conditional.jpg`;
    const first = await s3.send(new PutObjectCommand({ Bucket: c.bucket, Key: key, Body: jpegLike(26), ContentType: 'image/jpeg' }));
    await s3.send(new PutObjectCommand({ Bucket: c.bucket, Key: key, Body: jpegLike(27), ContentType: 'image/jpeg', IfNoneMatch: '*' }));
    await s3.send(new PutObjectCommand({ Bucket: c.bucket, Key: key, Body: jpegLike(28), ContentType: 'image/jpeg', IfMatch: first.ETag }));
    const stale = await s3.send(new GetObjectCommand({ Bucket: c.bucket, Key: key, IfMatch: first.ETag }));
    expect(Buffer.from(await stale.Body!.transformToByteArray()).equals(jpegLike(28))).toBe(true);
    expect(stale.ETag).not.toBe(first.ETag); // the ETag does follow the content (MD5)
  } finally {
    s3.destroy();
  }
});

describe('presigned URLs carry the public endpoint', () => {
  // The same rclone under another name: 127.0.0.1 and localhost reach it, with different Host headers.
  const endpoint = new URL(objectStoreConfigFromSettings(settings()).endpoint);
  const alias = new URL(endpoint.href);
  alias.hostname = endpoint.hostname === 'localhost' ? '127.0.0.1' : 'localhost';
  if (!['127.0.0.1', 'localhost'].includes(endpoint.hostname)) {
    throw new Error(`these tests reach the store under a second name; S3_ENDPOINT ${endpoint.href} is not on 127.0.0.1 or localhost`);
  }
  const publicEndpoint = alias.origin;

  it('defaults to S3_ENDPOINT and takes S3_PUBLIC_ENDPOINT when set', () => {
    const saved = process.env.S3_PUBLIC_ENDPOINT;
    try {
      delete process.env.S3_PUBLIC_ENDPOINT;
      resetSettingsForTests();
      expect(objectStoreConfigFromSettings(settings()).publicEndpoint).toBe(objectStoreConfigFromSettings(settings()).endpoint);
      process.env.S3_PUBLIC_ENDPOINT = 'http://192.168.10.5:9000';
      resetSettingsForTests();
      expect(objectStoreConfigFromSettings(settings())).toMatchObject({
        endpoint: endpoint.href.replace(/\/$/, ''),
        publicEndpoint: 'http://192.168.10.5:9000',
      });
      process.env.S3_PUBLIC_ENDPOINT = 'not a url';
      resetSettingsForTests();
      expect(() => objectStoreConfigFromSettings(settings())).toThrow(/S3_PUBLIC_ENDPOINT/);
    } finally {
      if (saved === undefined) delete process.env.S3_PUBLIC_ENDPOINT;
      else process.env.S3_PUBLIC_ENDPOINT = saved;
      resetSettingsForTests();
    }
  });

  it('signs the public host: the URL uploads through it, and is refused at the server-side address', async () => {
    const lan = s3ObjectStore({ ...objectStoreConfigFromSettings(settings()), publicEndpoint });
    try {
      const key = `${prefix}/public.jpg`;
      const bytes = jpegLike(29);
      const p = await lan.presignPut(key, 'image/jpeg', bytes.byteLength, 60);
      const url = new URL(p.url);
      expect(url.origin).toBe(publicEndpoint);
      expect(url.searchParams.get('X-Amz-SignedHeaders')).toBe('content-length;content-type;host');
      // The same URL sent to the server-side address: another Host, so the signature does not match.
      const elsewhere = new URL(p.url);
      elsewhere.host = endpoint.host;
      expect(await put(elsewhere.toString(), bytes, p.headers)).toBe(403);
      expect(await store.head(key)).toBeUndefined();
      // Through the public name it verifies; the server still reads the object at its own endpoint.
      expect(await put(p.url, bytes, p.headers)).toBe(200);
      expect((await lan.get(key)).equals(bytes)).toBe(true);
      expect((await store.get(key)).equals(bytes)).toBe(true);
    } finally {
      lan.close();
    }
  });
});
