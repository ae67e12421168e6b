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
