/** checkSyncConfiguration: whether the edge can sign a batch (its key is there) and where the cloud is. */
import type { SyncActivityDeps } from './deps';

export interface SyncConfigurationCheck {
  configured: boolean;
  reason?: string;
  keyId?: string;
  cloudUrl: string;
}

export async function checkSyncConfiguration({ identity, cloud }: SyncActivityDeps): Promise<SyncConfigurationCheck> {
  const id = identity.current();
  return id.configured
    ? { configured: true, keyId: id.signer.keyId, cloudUrl: cloud.baseUrl }
    : { configured: false, reason: id.reason, cloudUrl: cloud.baseUrl };
}
