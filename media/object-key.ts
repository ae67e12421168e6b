/**
 * Where an uploaded image lives in the bucket: `<tenant>/<farm>/<barn>/<station>/<session>/<media_id>.<jpg|png>`.
 * Every segment is a topic segment (A-Z a-z 0-9 . _ : -) or a UUID, so a key never holds a '/'
 * of its own and parses back unambiguously; an operator listing the bucket reads the farm's layout.
 */
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

const segment = /^[A-Za-z0-9._:-]{1,64}$/;
const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export function mediaObjectKey(a: MediaObjectAddress): string {
  const parts = [a.farmId, a.barnId, a.stationId, a.sessionId];
  if (!uuid.test(a.tenantId.toLowerCase()) || !uuid.test(a.mediaId.toLowerCase()) || !parts.every((p) => segment.test(p))) {
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
  if (!m || !uuid.test(tenantId) || !uuid.test(m[1]) || ![farmId, barnId, stationId, sessionId].every((p) => segment.test(p))) return undefined;
  return { tenantId, farmId, barnId, stationId, sessionId, mediaId: m[1], contentType: m[2] === 'jpg' ? 'image/jpeg' : 'image/png' };
}
