/**
 * The edge's S3-compatible image store (rclone serve s3 locally, any S3 in production): presigned
 * PUT URLs for stations, HEAD for the complete check, a server-side COPY to the verified key and a
 * DELETE of the upload, GET for the inference activity, PUT for tests and benchmarks. A thin layer
 * over @aws-sdk/client-s3; nothing here knows about sessions.
 *
 * Two endpoints: the server talks to the store at `endpoint` (S3_ENDPOINT, e.g. 127.0.0.1), and
 * presigned URLs carry `publicEndpoint` (S3_PUBLIC_ENDPOINT, the farm server's barn-LAN address),
 * because SigV4 signs the Host a station will send.
 */
import {
  CopyObjectCommand,
  CreateBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { Settings } from '../../config/settings';

export interface ObjectStoreConfig {
  /** Where this process reaches the store. */
  endpoint: string;
  /** Where stations reach it: the origin presigned URLs carry (and sign). Default: endpoint. */
  publicEndpoint?: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
  bucket: string;
}

export interface PresignedPut {
  url: string;
  method: 'PUT';
  /** Headers the uploader must send exactly as given: they are part of the signature. */
  headers: Record<string, string>;
  expiresAt: Date;
}

export interface StoredObjectHead {
  sizeBytes: number;
  contentType: string | undefined;
  etag: string | undefined;
}

export interface ObjectStore {
  readonly bucket: string;
  /**
   * A SigV4 URL that allows one PUT of `key` for `expiresSeconds`, with Content-Type and
   * Content-Length in the signed headers (so a store that checks them refuses another type or size).
   */
  presignPut(key: string, contentType: string, sizeBytes: number, expiresSeconds: number): Promise<PresignedPut>;
  /** The object's size and type, or undefined when there is no such object. */
  head(key: string): Promise<StoredObjectHead | undefined>;
  /** Server-side copy (type and bytes); false when there is no such source object. */
  copy(fromKey: string, toKey: string): Promise<boolean>;
  /** Removes the object; removing a missing one is not an error. */
  delete(key: string): Promise<void>;
  get(key: string): Promise<Buffer>;
  put(key: string, bytes: Buffer, contentType: string): Promise<void>;
  /** Creates the bucket unless it exists. */
  ensureBucket(): Promise<void>;
  close(): void;
}

/** The store of the S3_* settings (the process's main reads them and passes them in). */
export function objectStoreConfigFromSettings(
  s: Pick<Settings, 'S3_ENDPOINT' | 'S3_PUBLIC_ENDPOINT' | 'S3_REGION' | 'S3_ACCESS_KEY' | 'S3_SECRET_KEY' | 'S3_BUCKET'>,
): ObjectStoreConfig {
  return {
    endpoint: s.S3_ENDPOINT,
    publicEndpoint: s.S3_PUBLIC_ENDPOINT || s.S3_ENDPOINT,
    region: s.S3_REGION,
    accessKeyId: s.S3_ACCESS_KEY,
    secretAccessKey: s.S3_SECRET_KEY,
    bucket: s.S3_BUCKET,
  };
}

/** The store's answer for a missing object or bucket. */
export function isNotFound(err: unknown): boolean {
  if (err instanceof S3ServiceException) {
    return err.$metadata.httpStatusCode === 404 || err.name === 'NotFound' || err.name === 'NoSuchKey' || err.name === 'NoSuchBucket';
  }
  return false;
}

export function s3ObjectStore(config: ObjectStoreConfig): ObjectStore {
  const clientFor = (endpoint: string) =>
    new S3Client({
      endpoint,
      region: config.region,
      credentials: { accessKeyId: config.accessKeyId, secretAccessKey: config.secretAccessKey },
      // rclone (and MinIO) serve buckets as paths, not as subdomains.
      forcePathStyle: true,
      // Checksums on by default since SDK 3.729 add headers a presigned URL would have to carry;
      // stations PUT plain bytes, and S3-compatible servers vary in what they accept.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    });
  const client = clientFor(config.endpoint);
  // Only signs (no request is sent through it): the URL a station uses names the public host.
  const publicEndpoint = config.publicEndpoint ?? config.endpoint;
  const signer = publicEndpoint === config.endpoint ? client : clientFor(publicEndpoint);
  const bucket = config.bucket;

  return {
    bucket,

    async presignPut(key, contentType, sizeBytes, expiresSeconds) {
      const command = new PutObjectCommand({ Bucket: bucket, Key: key, ContentType: contentType, ContentLength: sizeBytes });
      // The presigner leaves content-type unsigned unless told otherwise.
      const url = await getSignedUrl(signer, command, {
        expiresIn: expiresSeconds,
        signableHeaders: new Set(['content-type', 'content-length']),
      });
      return {
        url,
        method: 'PUT',
        headers: { 'content-type': contentType, 'content-length': String(sizeBytes) },
        expiresAt: new Date(Date.now() + expiresSeconds * 1000),
      };
    },

    async head(key) {
      try {
        const out = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
        return { sizeBytes: Number(out.ContentLength ?? 0), contentType: out.ContentType, etag: out.ETag };
      } catch (err) {
        if (isNotFound(err)) return undefined;
        throw err;
      }
    },

    async copy(fromKey, toKey) {
      try {
        // CopySource is "<bucket>/<key>", URL-encoded; key segments are identifiers, UUIDs and '/'.
        await client.send(new CopyObjectCommand({ Bucket: bucket, Key: toKey, CopySource: encodeURI(`${bucket}/${fromKey}`), MetadataDirective: 'COPY' }));
        return true;
      } catch (err) {
        if (isNotFound(err)) return false;
        throw err;
      }
    },

    async delete(key) {
      await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
    },

    async get(key) {
      const out = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      if (!out.Body) throw new Error(`object ${key} has no body`);
      return Buffer.from(await out.Body.transformToByteArray());
    },

    async put(key, bytes, contentType) {
      await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: bytes, ContentType: contentType, ContentLength: bytes.byteLength }));
    },

    async ensureBucket() {
      try {
        await client.send(new HeadBucketCommand({ Bucket: bucket }));
      } catch (err) {
        if (!isNotFound(err)) throw err;
        await client.send(new CreateBucketCommand({ Bucket: bucket }));
      }
    },

    close() {
      client.destroy();
      if (signer !== client) signer.destroy();
    },
  };
}
