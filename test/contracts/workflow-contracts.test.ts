/**
 * The workflow contracts (sync/sync-contract.ts, weighvision/session-contract.ts,
 * ingest/rollups-contract.ts, insights/insight-contract.ts) are what clients start and
 * signal workflows through, by name, without importing a workflow file. These checks keep each
 * contract true to the workflow the workers register: the names exist, the signatures match
 * (`npm run typecheck` fails on a mismatch below), and the message names are the ones the committed
 * histories carry.
 */
import * as edgeWorkflows from '../../workflows/edge';
import * as cloudWorkflows from '../../workflows/cloud';
import {
  configureSyncSignal,
  connectivityRestoredSignal,
  pauseSyncSignal,
  pruneSyncOutboxWorkflowType,
  resumeSyncSignal,
  syncForwarderWorkflowType,
  syncStatusQuery,
  type PruneSyncOutboxWorkflow,
  type SyncForwarderWorkflow,
} from '../../sync/sync-contract';
import { publishTelemetryRollupsWorkflowType, type PublishTelemetryRollupsWorkflow } from '../../ingest/rollups-contract';
import {
  imageStoredSignal,
  sessionEventSignal,
  sessionStateQuery,
  weighVisionSessionWorkflowType,
  type WeighVisionSessionWorkflow,
} from '../../weighvision/session-contract';
import { generateInsightWorkflowType, type GenerateInsightWorkflow } from '../../insights/insight-contract';

// Each registered workflow is assignable to the signature its contract declares, and the reverse:
// a changed input or result type in either place fails the typecheck here.
const edgeSignatures: {
  syncForwarder: SyncForwarderWorkflow;
  pruneSyncOutbox: PruneSyncOutboxWorkflow;
  publishTelemetryRollups: PublishTelemetryRollupsWorkflow;
  weighVisionSession: WeighVisionSessionWorkflow;
} = edgeWorkflows;
const cloudSignatures: { generateInsight: GenerateInsightWorkflow } = cloudWorkflows;
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const exact: [
  Same<Parameters<SyncForwarderWorkflow>, Parameters<typeof edgeWorkflows.syncForwarder>>,
  Same<Parameters<PruneSyncOutboxWorkflow>, Parameters<typeof edgeWorkflows.pruneSyncOutbox>>,
  Same<Parameters<PublishTelemetryRollupsWorkflow>, Parameters<typeof edgeWorkflows.publishTelemetryRollups>>,
  Same<Parameters<WeighVisionSessionWorkflow>, Parameters<typeof edgeWorkflows.weighVisionSession>>,
  Same<Parameters<GenerateInsightWorkflow>, Parameters<typeof cloudWorkflows.generateInsight>>,
] = [true, true, true, true, true];

describe('workflow contracts', () => {
  test('every workflow type a contract names is a workflow the worker registers', () => {
    expect(Object.keys(edgeWorkflows)).toEqual(
      expect.arrayContaining([syncForwarderWorkflowType, pruneSyncOutboxWorkflowType, publishTelemetryRollupsWorkflowType, weighVisionSessionWorkflowType]),
    );
    expect(Object.keys(cloudWorkflows)).toEqual(expect.arrayContaining([generateInsightWorkflowType]));
    expect(edgeSignatures[syncForwarderWorkflowType]).toBe(edgeWorkflows.syncForwarder);
    expect(edgeSignatures[pruneSyncOutboxWorkflowType]).toBe(edgeWorkflows.pruneSyncOutbox);
    expect(edgeSignatures[publishTelemetryRollupsWorkflowType]).toBe(edgeWorkflows.publishTelemetryRollups);
    expect(edgeSignatures[weighVisionSessionWorkflowType]).toBe(edgeWorkflows.weighVisionSession);
    expect(cloudSignatures[generateInsightWorkflowType]).toBe(cloudWorkflows.generateInsight);
    expect(exact).toEqual([true, true, true, true, true]);
  });

  test('signal and query names are the ones recorded in the committed histories', () => {
    expect([pauseSyncSignal, resumeSyncSignal, connectivityRestoredSignal, configureSyncSignal].map((s) => s.name)).toEqual([
      'pause',
      'resume',
      'connectivityRestored',
      'configure',
    ]);
    expect(syncStatusQuery.name).toBe('syncStatus');
    expect([sessionEventSignal.name, imageStoredSignal.name, sessionStateQuery.name]).toEqual(['sessionEvent', 'imageStored', 'state']);
  });
});
