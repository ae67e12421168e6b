/**
 * The signaller's answer when the server refuses a session start as a duplicate. Two events racing
 * to open one session can get that refusal while the first start is still being created: the
 * session is running and takes the event as a plain signal. Only a closed session (the signal then
 * finds no running workflow) makes the event late. A client double stands in for the server so
 * both answers are certain; the race itself runs against the real server in
 * test/workflows/weighvision-session.test.ts.
 */
import { WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { WeighVisionEvent } from '../../domain/contracts';
import { farmiqBarn, farmiqFarm, farmiqStation } from '../../domain/temporal/search-attributes';
import { temporalSessionSignaller, type WeighVisionTopic } from '../../gateways/mqtt-bridge/weighvision/session-signaller';

const topic = {
  family: 'weighvision',
  tenantId: '5a0b3c1e-7d2f-4e8a-9b6c-1f2e3d4c5b6a',
  farmId: 'farm-1',
  barnId: 'barn-1',
  deviceId: 'wv-1',
  sessionId: 'S-1',
} as unknown as WeighVisionTopic;
const event = { event_type: 'weighvision.weight.recorded', payload: { weight_kg: 101.5, stable: true } } as unknown as WeighVisionEvent;

function serverThatRefusesTheStart(signal: () => Promise<void>, owner = { farmId: 'farm-1', barnId: 'barn-1', stationId: 'wv-1' }) {
  const signals: unknown[] = [];
  const attrs = new Map<unknown, string>([
    [farmiqFarm, owner.farmId],
    [farmiqBarn, owner.barnId],
    [farmiqStation, owner.stationId],
  ]);
  const client = {
    workflow: {
      signalWithStart: () => Promise.reject(new WorkflowExecutionAlreadyStartedError('already started', 'wv-session', 'weighVisionSession')),
      getHandle: () => ({
        signal: async (_def: unknown, arg: unknown) => {
          await signal();
          signals.push(arg);
        },
        describe: () => Promise.resolve({ typedSearchAttributes: { get: (key: unknown) => attrs.get(key) } }),
      }),
    },
  } as unknown as Client;
  const signaller = temporalSessionSignaller(client, { taskQueue: 'q', config: { finalizeTimeoutSeconds: 600, imageWaitSeconds: 60, disagreementRatio: 0.1 } });
  return { signaller, signals };
}

describe('a refused session start', () => {
  it('is sent as a plain signal when the session is running, and the event is signalled', async () => {
    const { signaller, signals } = serverThatRefusesTheStart(() => Promise.resolve());
    expect(await signaller.signal(topic, event)).toBe('signalled');
    expect(signals).toHaveLength(1);
    expect(signals[0]).toMatchObject({ session_id: 'S-1', farm_id: 'farm-1', barn_id: 'barn-1' });
  });

  it('is session_closed when the session has ended (the signal finds no running workflow)', async () => {
    const { signaller, signals } = serverThatRefusesTheStart(() =>
      Promise.reject(new WorkflowNotFoundError('workflow execution already completed', 'wv-session', undefined)),
    );
    expect(await signaller.signal(topic, event)).toBe('session_closed');
    expect(signals).toHaveLength(0);
  });

  it('is session_not_owned when the running session was opened by another station', async () => {
    const { signaller } = serverThatRefusesTheStart(() => Promise.resolve(), { farmId: 'farm-1', barnId: 'barn-1', stationId: 'wv-2' });
    expect(await signaller.signal(topic, event)).toBe('session_not_owned');
  });
});
