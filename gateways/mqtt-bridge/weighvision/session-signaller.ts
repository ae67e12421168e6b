/**
 * Turns an accepted WeighVision device event into a signal on its session's workflow (DESIGN §3):
 * signalWithStart, so whichever event of a session arrives first starts the workflow, and every
 * later one (a reading before `created` included) lands in the same run. The promise resolves once
 * the Temporal server has stored the signal; only then does the bridge send the PUBACK.
 *
 * A session whose workflow has already closed refuses a restart (REJECT_DUPLICATE): the event is
 * late, or a redelivery of one the session had, and the bridge quarantines it as session_closed
 * instead of opening a second session under the same id. A refused start whose workflow is still
 * running (two events racing to open it) is sent as a plain signal instead.
 *
 * A session belongs to its station: the device (with its farm and barn) of the authenticated topic
 * of the event that started the workflow. That is the workflow's input address and its FarmiqFarm /
 * FarmiqBarn / FarmiqStation search attributes, both fixed at start — a `created` that arrives
 * after the station's first reading changes nothing, and when two devices race to open one session
 * id, the one whose signalWithStart the server took first is the owner. An event of that session
 * from any other address is `session_not_owned`: the workflow ignores it (it checks every event
 * against its address), and the bridge quarantines it. The owner is read with describe() once per
 * session and remembered for as long as a session can live, so a foreign event of a known session
 * is refused without reaching Temporal at all; one whose session this process has not seen yet
 * reaches the workflow's history as a signal the workflow ignores.
 */
import { WorkflowExecutionAlreadyStartedError, WorkflowIdReusePolicy, WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { WeighVisionEvent } from '../../../domain/contracts';
import { isIdentifier } from '../../../domain/contracts/identifiers';
import type { DeviceTopic } from '../../../domain/contracts/topics';
import {
  sessionEventSignal,
  weighVisionSessionWorkflowType,
  type SessionConfig,
  type SessionDeviceEvent,
  type WeighVisionSessionWorkflow,
} from '../../../weighvision/session-contract';
import { farmiqBarn, farmiqFarm, farmiqStation, farmiqStatus, farmiqTenant } from '../../../domain/temporal/search-attributes';
import { weighVisionSessionWorkflowId } from '../../../domain/temporal/workflow-ids';

export type WeighVisionTopic = Extract<DeviceTopic, { family: 'weighvision' }>;
/**
 * - signalled: the session has the event.
 * - session_closed: the session has ended; the event changed nothing.
 * - session_not_owned: another station opened this session; the event changed nothing.
 * - invalid_address: the topic's tenant or session id is not an identifier (domain/contracts/identifiers.ts); nothing was sent.
 */
export type SignalOutcome = 'signalled' | 'session_closed' | 'session_not_owned' | 'invalid_address';

export interface SessionSignaller {
  signal(topic: WeighVisionTopic, event: WeighVisionEvent): Promise<SignalOutcome>;
}

export interface TemporalSessionSignallerOptions {
  taskQueue: string;
  config: SessionConfig;
  /** Sessions whose owner is remembered at once (default 10,000); the oldest are forgotten first. */
  ownerCacheSize?: number;
}

/** Where a session happens, as its owner's topic said. */
export interface SessionOwner {
  farmId: string;
  barnId: string;
  stationId: string;
}

function isSessionOwner(owner: SessionOwner, topic: WeighVisionTopic): boolean {
  return owner.farmId === topic.farmId && owner.barnId === topic.barnId && owner.stationId === topic.deviceId;
}

export function temporalSessionSignaller(client: Client, { taskQueue, config, ownerCacheSize = 10_000 }: TemporalSessionSignallerOptions): SessionSignaller {
  // A session's owner never changes while its id exists; past the longest a session can run it
  // has closed (and its id refuses a restart), so the entry is of no more use.
  const ownerTtlMs = (config.finalizeTimeoutSeconds + config.imageWaitSeconds) * 1000;
  const owners = new Map<string, { owner: SessionOwner; until: number }>();

  function knownOwner(workflowId: string): SessionOwner | undefined {
    const hit = owners.get(workflowId);
    if (!hit) return undefined;
    if (hit.until > Date.now()) return hit.owner;
    owners.delete(workflowId);
    return undefined;
  }

  function remember(workflowId: string, owner: SessionOwner): void {
    if (owners.size >= ownerCacheSize) {
      const oldest = owners.keys().next().value;
      if (oldest !== undefined) owners.delete(oldest);
    }
    owners.set(workflowId, { owner, until: Date.now() + ownerTtlMs });
  }

  /** The owner the session's workflow was started with (its search attributes), if it says. */
  async function ownerOf(workflowId: string): Promise<SessionOwner | undefined> {
    const attrs = (await client.workflow.getHandle(workflowId).describe()).typedSearchAttributes;
    const [farmId, barnId, stationId] = [attrs.get(farmiqFarm), attrs.get(farmiqBarn), attrs.get(farmiqStation)];
    return farmId !== undefined && barnId !== undefined && stationId !== undefined ? { farmId, barnId, stationId } : undefined;
  }

  /**
   * Two events racing to open one session: the server can refuse the second start as a duplicate
   * while the first start is still being created. Only a closed session makes an event late; a
   * running one takes it as a plain signal. False when the session has closed.
   */
  async function joinRunning(workflowId: string, event: SessionDeviceEvent): Promise<boolean> {
    try {
      await client.workflow.getHandle(workflowId).signal(sessionEventSignal, event);
      return true;
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) return false;
      throw err;
    }
  }

  return {
    async signal(topic, event) {
      // The workflow id is built from these: only ids of the one shared pattern.
      if (!isIdentifier(topic.tenantId) || !isIdentifier(topic.sessionId)) return 'invalid_address';
      const address = { tenantId: topic.tenantId, sessionId: topic.sessionId, farmId: topic.farmId, barnId: topic.barnId, stationId: topic.deviceId };
      const workflowId = weighVisionSessionWorkflowId(address.tenantId, address.sessionId);
      const known = knownOwner(workflowId);
      if (known && !isSessionOwner(known, topic)) return 'session_not_owned';
      // The topic (checked by the broker's ACL) is the authority on where the event happened.
      const stamped = { ...event, farm_id: topic.farmId, barn_id: topic.barnId, session_id: topic.sessionId } as SessionDeviceEvent;
      try {
        await client.workflow.signalWithStart<WeighVisionSessionWorkflow, [SessionDeviceEvent]>(weighVisionSessionWorkflowType, {
          workflowId,
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
      } catch (err) {
        if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
        if (!(await joinRunning(workflowId, stamped))) return 'session_closed';
      }
      if (known) return 'signalled';
      // First event of this session seen here: this signal started the workflow, or joined one that
      // another event (perhaps another device's) started. The start decided the owner; ask it.
      const owner = await ownerOf(workflowId);
      if (!owner) return 'signalled'; // not started by this signaller; the workflow still checks
      remember(workflowId, owner);
      return isSessionOwner(owner, topic) ? 'signalled' : 'session_not_owned';
    },
  };
}
