/**
 * Records a finished workflow's history as a replay fixture, in the JSON shape
 * `temporal workflow show --output json` writes, when FARMIQ_RECORD_HISTORIES names a directory:
 *
 *   FARMIQ_RECORD_HISTORIES=test/workflows/histories npx jest test/integration/weighvision-e2e.test.ts
 *
 * Off by default: the committed fixtures are histories of earlier runs, replayed against the
 * current code by test/workflows/replay.test.ts.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { WorkflowHandle } from '@temporalio/client';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';

export async function recordHistory(handle: WorkflowHandle, name: string): Promise<void> {
  const dir = process.env.FARMIQ_RECORD_HISTORIES;
  if (!dir) return;
  const history = await handle.fetchHistory();
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, `${name}.json`), `${JSON.stringify(JSON.parse(historyToJSON(history)), null, 2)}\n`);
}
