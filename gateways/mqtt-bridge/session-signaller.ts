/**
 * Turns an accepted WeighVision device event into a signal on its session's workflow (DESIGN §3):
 * signalWithStart, so whichever event of a session arrives first starts the workflow, and every
 * later one (a reading before `created` included) lands in the same run. The promise resolves once
 * the Temporal server has stored the signal; only then does the bridge send the PUBACK.
 *
 * A session whose workflow has already closed refuses a restart (REJECT_DUPLICATE): the event is
 * late, or a redelivery of one the session had, and the bridge quarantines it as session_closed
 * instead of opening a second session under the same id.
 */
import { WorkflowExecutionAlreadyStartedError, WorkflowIdReusePolicy, type Client } from '@temporalio/client';
import type { WeighVisionEvent } from '../../domain/contracts';
import type { DeviceTopic } from '../../domain/contracts/topics';
import { farmiqBarn, farmiqFarm, farmiqStation, farmiqStatus, farmiqTenant } from '../../temporal/search-attributes';
import { weighVisionSessionWorkflowId } from '../../temporal/workflow-ids';
import { sessionEventSignal, type SessionConfig, type SessionDeviceEvent } from '../../workflows/weighvision-definitions';
import type { weighVisionSession } from '../../workflows/weighvision-session';

export type WeighVisionTopic = Extract<DeviceTopic, { family: 'weighvision' }>;
export type SignalOutcome = 'signalled' | 'session_closed';

export interface SessionSignaller {
  signal(topic: WeighVisionTopic, event: WeighVisionEvent): Promise<SignalOutcome>;
}

export interface TemporalSessionSignallerOptions {
  taskQueue: string;
  config: SessionConfig;
}

export function temporalSessionSignaller(client: Client, { taskQueue, config }: TemporalSessionSignallerOptions): SessionSignaller {
  return {
    async signal(topic, event) {
      const address = { tenantId: topic.tenantId, sessionId: topic.sessionId, farmId: topic.farmId, barnId: topic.barnId, stationId: topic.deviceId };
      // The topic (checked by the broker's ACL) is the authority on where the event happened.
      const stamped = { ...event, farm_id: topic.farmId, barn_id: topic.barnId, session_id: topic.sessionId } as SessionDeviceEvent;
      try {
        await client.workflow.signalWithStart<typeof weighVisionSession, [SessionDeviceEvent]>('weighVisionSession', {
          workflowId: weighVisionSessionWorkflowId(address.tenantId, address.sessionId),
          taskQueue,
          args: [{ ...address, config }],
          signal: sessionEventSignal,
          signalArgs: [stamped],
          workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
          typedSearchAttributes: [
            { key: farmiqTenant, value: address.tenantId },
            { key: farmiqFarm, value: address.farmId },
            { key: farmiqBarn, value: address.barnId },
            { key: farmiqStation, value: address.stationId },
            { key: farmiqStatus, value: 'created' },
          ],
          staticSummary: `WeighVision session ${address.sessionId} — station ${address.stationId}, ${address.farmId}/${address.barnId}`,
        });
        return 'signalled';
      } catch (err) {
        if (err instanceof WorkflowExecutionAlreadyStartedError) return 'session_closed';
        throw err;
      }
    },
  };
}
