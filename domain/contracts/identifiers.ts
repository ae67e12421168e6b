/**
 * The one pattern for identifiers that become MQTT topic segments, object-store key parts or
 * workflow id parts (device, farm, barn, session, metric). No separators, no wildcards, and never
 * made only of dots, so `.` and `..` cannot walk a key or a path. Plain (no zod) so the workflow
 * bundle and the topic parser can use it.
 */
export const identifierPattern = /^(?!\.+$)[A-Za-z0-9._:-]{1,64}$/;

export function isIdentifier(value: unknown): value is string {
  return typeof value === 'string' && identifierPattern.test(value);
}

/** A UUID in its 8-4-4-4-12 hex form, either case; version and variant are not checked. */
const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const lowerCaseUuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export function isUuid(value: string): boolean {
  return uuidPattern.test(value);
}

/** A UUID in lower case only: the form object keys hold (weighvision/media/object-key.ts). */
export function isLowerCaseUuid(value: string): boolean {
  return lowerCaseUuidPattern.test(value);
}
