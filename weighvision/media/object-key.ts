/**
 * Where an image lives in the bucket.
 *
 * - Upload key `<tenant>/<farm>/<barn>/<station>/<session>/<media_id>.<jpg|png>`: what a presigned
 *   PUT URL writes. A URL stays usable until it expires, so whoever holds it can write this key again.
 * - Verified key `verified/<upload key>`: the copy `complete` makes server-side once it has checked
 *   the upload. No URL is ever presigned for it (a tenant is a UUID, never `verified`), so nothing a
 *   station holds can replace it; inference and media.stored use it.
 *
 * Every segment is an identifier (domain/contracts/identifiers.ts: A-Z a-z 0-9 . _ : -, not only
 * dots) or a UUID, so a key never holds a '/' of its own, never walks with `.`/`..`, and parses back
 * unambiguously; an operator listing the bucket reads the farm's layout.
 */
import { isIdentifier, isLowerCaseUuid } from '../../domain/contracts/identifiers';

export const imageContentTypes = ['image/jpeg', 'image/png'] as const;
export type ImageContentType = (typeof imageContentTypes)[number];

const extensionOf: Record<ImageContentType, string> = { 'image/jpeg': 'jpg', 'image/png': 'png' };

export function isImageContentType(value: string): value is ImageContentType {
  return (imageContentTypes as readonly string[]).includes(value);
}

export interface MediaObjectAddress {
  tenantId: string;
  farmId: string;
  barnId: string;
  stationId: string;
  sessionId: string;
  mediaId: string;
  contentType: ImageContentType;
}

export function mediaObjectKey(a: MediaObjectAddress): string {
  const parts = [a.farmId, a.barnId, a.stationId, a.sessionId];
  if (!isLowerCaseUuid(a.tenantId.toLowerCase()) || !isLowerCaseUuid(a.mediaId.toLowerCase()) || !parts.every(isIdentifier)) {
    throw new Error(`cannot build an object key from ${JSON.stringify(a)}`);
  }
  return [a.tenantId.toLowerCase(), ...parts, `${a.mediaId.toLowerCase()}.${extensionOf[a.contentType]}`].join('/');
}

/** The address a key was built from, or undefined when it is not a media object key. */
export function parseMediaObjectKey(key: string): MediaObjectAddress | undefined {
  const parts = key.split('/');
  if (parts.length !== 6) return undefined;
  const [tenantId, farmId, barnId, stationId, sessionId, file] = parts;
  const m = /^([0-9a-f-]{36})\.(jpg|png)$/.exec(file);
  if (!m || !isLowerCaseUuid(tenantId) || !isLowerCaseUuid(m[1]) || ![farmId, barnId, stationId, sessionId].every(isIdentifier)) return undefined;
  return { tenantId, farmId, barnId, stationId, sessionId, mediaId: m[1], contentType: m[2] === 'jpg' ? 'image/jpeg' : 'image/png' };
}

const verifiedPrefix = 'verified/';

/** The key of the verified copy of an upload (see above); throws for anything but an upload key. */
export function verifiedObjectKey(uploadKey: string): string {
  if (!parseMediaObjectKey(uploadKey)) throw new Error(`${JSON.stringify(uploadKey)} is not an upload key`);
  return `${verifiedPrefix}${uploadKey}`;
}

/** The address of an upload key or of a verified key, and which of the two it is. */
export function parseStoredObjectKey(key: string): (MediaObjectAddress & { verified: boolean }) | undefined {
  const verified = key.startsWith(verifiedPrefix);
  const address = parseMediaObjectKey(verified ? key.slice(verifiedPrefix.length) : key);
  return address && { ...address, verified };
}
