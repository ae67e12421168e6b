/** moveSyncBatchToDlq: a batch whose last attempt failed goes to the dead letter queue, with its last error. */
import { log } from '@temporalio/activity';
import { toStorableText } from '../../domain/contracts/storable';
import { narrowRefusals } from '../../db/narrow';
import * as outbox from '../../sync/outbox';
import { refusalsAreFinal } from '../failures';
import type { SyncActivityDeps } from './deps';
import { quarantineHeld, shortfall } from './held-rows';

export async function moveSyncBatchToDlq(
  { pool }: SyncActivityDeps,
  input: { batchId: string; ids: string[]; lastError: string },
): Promise<{ moved: number; quarantined?: number }> {
  return refusalsAreFinal('moveSyncBatchToDlq', async () => {
    const lastError = toStorableText(input.lastError.slice(0, 4000));
    const n = await narrowRefusals(input.ids, (part) => outbox.moveToDlq(pool, input.batchId, part, lastError));
    const quarantined = await quarantineHeld(pool, 'moveSyncBatchToDlq', input.batchId, n.refused, 'the edge database refused to move this event to the DLQ');
    shortfall('moveToDlq', input.batchId, input.ids.length, n.changed + quarantined);
    log.error('sync batch moved to the dead letter queue after its last attempt', { batchId: input.batchId, moved: n.changed, quarantined, lastError });
    return quarantined > 0 ? { moved: n.changed, quarantined } : { moved: n.changed };
  });
}
