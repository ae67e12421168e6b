/**
 * What the evaluator, sweep and bridge alarm tests share: a worker on the Temporal dev server
 * (namespace farmiq-edge) running the stand-in `farmAlarm` (evaluator-test-workflow.ts) on its own
 * task queue, and the real signaller counting what it sent (and failing on demand like an
 * unreachable server).
 */
import { randomUUID } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, Worker, bundleWorkflowCode } from '@temporalio/worker';
import { temporalConditionSignaller, type ConditionSignaller } from '../../alarms/evaluator';
import { defaultLadder } from '../../alarms/default-rules';
import type { AlarmRuleSpec } from '../../domain/downlink/commands';
import { temporalAddress } from '../support/stack';

export const namespace = process.env.TEMPORAL_EDGE_NAMESPACE ?? 'farmiq-edge';

export interface AlarmTestTemporal {
  client: Client;
  taskQueue: string;
  signaller(): CountingSignaller;
  stop(): Promise<void>;
}

export type CountingSignaller = ConditionSignaller & { raises: number; clears: number; down: boolean };

export async function startAlarmTestTemporal(): Promise<AlarmTestTemporal> {
  const taskQueue = `alarm-test-${randomUUID()}`;
  const connection = await Connection.connect({ address: temporalAddress, connectTimeout: '5s' });
  const client = new Client({ connection, namespace });
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  const worker = await Worker.create({
    connection: await NativeConnection.connect({ address: temporalAddress }),
    namespace,
    taskQueue,
    workflowBundle: await bundleWorkflowCode({ workflowsPath: require.resolve('./evaluator-test-workflow'), logger: new DefaultLogger('WARN') }),
  });
  const running = worker.run();
  const started = new Set<string>();
  return {
    client,
    taskQueue,
    signaller() {
      const real = temporalConditionSignaller(client, taskQueue);
      const s: CountingSignaller = {
        raises: 0,
        clears: 0,
        down: false,
        async raise(id, input) {
          if (s.down) throw new Error('14 UNAVAILABLE: connection refused');
          started.add(id);
          await real.raise(id, input);
          s.raises++;
        },
        async clear(id, c) {
          if (s.down) throw new Error('14 UNAVAILABLE: connection refused');
          await real.clear(id, c);
          s.clears++;
        },
      };
      return s;
    },
    async stop() {
      for (const id of started) {
        await client.workflow
          .getHandle(id)
          .terminate('test over')
          .catch(() => {});
      }
      worker.shutdown();
      await running;
      await connection.close();
    },
  };
}

/** A limit rule on a metric no default rule watches, so only it judges the test's readings. */
export function testLimitRule(ruleId: string, farmId: string, over: Partial<AlarmRuleSpec> = {}): AlarmRuleSpec {
  return {
    rule_id: ruleId,
    farm_id: farmId,
    kind: 'limit',
    enabled: true,
    severity: 'critical',
    metric: 'test_metric',
    bound: 'max',
    threshold: 30,
    raise_delay_seconds: 60,
    clear_delay_seconds: 60,
    hysteresis: 1,
    ladder: defaultLadder,
    ...over,
  };
}
