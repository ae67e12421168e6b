/**
 * Deterministic identifiers for events the edge derives itself (rollups, and later others): the
 * same business key always yields the same event_id, so a retried publication dedupes on
 * `(tenant_id, event_id)` everywhere downstream instead of producing a second event.
 *
 * node:crypto only generates random (v4) UUIDs, so name-based v5 (RFC 4122 §4.3, SHA-1) is here.
 */
import { createHash } from 'node:crypto';
import { isUuid } from './contracts/identifiers';

/** FarmIQ's namespace for name-based event ids. Never change it: every derived id would change. */
export const farmiqEventNamespace = '461f68ec-d4a7-4b95-903a-fd5df14d8bd0';

export function uuidV5(name: string, namespace: string = farmiqEventNamespace): string {
  if (!isUuid(namespace)) throw new TypeError(`namespace ${namespace} is not a UUID`);
  const hash = createHash('sha1')
    .update(Buffer.from(namespace.replace(/-/g, ''), 'hex'))
    .update(name, 'utf8')
    .digest();
  const bytes = hash.subarray(0, 16);
  bytes[6] = (bytes[6] & 0x0f) | 0x50; // version 5
  bytes[8] = (bytes[8] & 0x3f) | 0x80; // RFC 4122 variant
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
