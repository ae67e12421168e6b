/**
 * The worker processes against the real local Temporal dev server (namespaces farmiq-edge and
 * farmiq-cloud) and the test databases: the rollup schedule is ensured idempotently; the edge
 * worker starts, reports healthy, runs a scheduled rollup publication end to end and exits 0 on
 * SIGTERM; the cloud worker starts with its (still empty) workflow index and stops the same way.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import { randomUUID } from 'node:crypto';
import { Client, Connection, ScheduleOverlapPolicy } from '@temporalio/client';
import { ensureTelemetryRollupSchedule } from '../../temporal/schedules';
import { telemetryRollupsScheduleId } from '../../domain/temporal/workflow-ids';
import { repoRoot, temporalAddress, testEdgeDatabaseUrl } from '../support/stack';
import { until } from '../support/until';
import type { PublishTelemetryRollupsResult } from '../../ingest/rollups-contract';

const namespace = process.env.TEMPORAL_EDGE_NAMESPACE ?? 'farmiq-edge';
const cloudNamespace = process.env.TEMPORAL_CLOUD_NAMESPACE ?? 'farmiq-cloud';
let connection: Connection;
let client: Client;

beforeAll(async () => {
  try {
    connection = await Connection.connect({ address: temporalAddress, connectTimeout: '5s' });
    await connection.workflowService.describeNamespace({ namespace });
  } catch (err) {
    throw new Error(
      `Temporal dev server with namespace ${namespace} not reachable at ${temporalAddress} (start it with \`make up\`): ${(err as Error).message}`,
      { cause: err },
    );
  }
  client = new Client({ connection, namespace });
});

afterAll(async () => {
  await connection?.close();
});

async function deleteSchedule(id: string): Promise<void> {
  await client.schedule
    .getHandle(id)
    .delete()
    .catch(() => undefined);
}

describe('ensureTelemetryRollupSchedule', () => {
  it('creates the schedule once, then updates it in place and keeps an operator pause', async () => {
    const edgeId = `edge-test-${randomUUID().slice(0, 8)}`;
    const id = telemetryRollupsScheduleId(edgeId);
    try {
      expect(await ensureTelemetryRollupSchedule(client, { edgeId, taskQueue: 'q-a', graceSeconds: 15 })).toBe('created');
      let d = await client.schedule.getHandle(id).describe();
      expect(d.policies.overlap).toBe(ScheduleOverlapPolicy.SKIP);
      expect(d.spec.intervals).toHaveLength(1);
      expect(d.spec.intervals?.[0].every).toBe(60_000);
      expect(d.action).toMatchObject({
        type: 'startWorkflow',
        workflowType: 'publishTelemetryRollups',
        taskQueue: 'q-a',
        workflowId: `telemetry-rollups/${edgeId}`,
      });
      expect(d.action.type === 'startWorkflow' && d.action.args).toEqual([{ graceSeconds: 15 }]);

      await client.schedule.getHandle(id).pause('maintenance');
      expect(await ensureTelemetryRollupSchedule(client, { edgeId, taskQueue: 'q-b', graceSeconds: 30 })).toBe('updated');
      d = await client.schedule.getHandle(id).describe();
      expect(d.action).toMatchObject({ taskQueue: 'q-b' });
      expect(d.action.type === 'startWorkflow' && d.action.args).toEqual([{ graceSeconds: 30 }]);
      expect(d.state.paused).toBe(true);
      expect(d.state.note).toBe('maintenance');
    } finally {
      await deleteSchedule(id);
    }
  });
});

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

interface WorkerProcess {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

/** Runs a worker's main.ts the way `npm run edge:worker` does (through tsx), with its own settings. */
function startProcess(script: string, env: Record<string, string>): WorkerProcess {
  let output = '';
  const child = spawn(process.execPath, [require.resolve('tsx/cli'), script], {
    cwd: repoRoot,
    env: {
      ...process.env,
      FARMIQ_CONFIG: '',
      TEMPORAL_ADDRESS: temporalAddress,
      SHUTDOWN_GRACE_SECONDS: '10',
      DEPENDENCY_WAIT_SECONDS: '30',
      LOG_LEVEL: 'info',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
    // Its own process group, so a test that fails can kill tsx and the node process it runs.
    detached: true,
  });
  child.stdout.on('data', (b: Buffer) => (output += b.toString()));
  child.stderr.on('data', (b: Buffer) => (output += b.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, output: () => output, exited };
}

function killGroup(proc: WorkerProcess): void {
  if (proc.child.exitCode === null && proc.child.pid) {
    try {
      process.kill(-proc.child.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

async function healthyChecks(port: number): Promise<Record<string, { ok: boolean; detail?: string }>> {
  return until('/health 200', 90_000, async () => {
    const res = await fetch(`http://127.0.0.1:${port}/health`);
    return res.status === 200 ? ((await res.json()) as { checks: Record<string, { ok: boolean; detail?: string }> }).checks : undefined;
  });
}

describe('the edge worker process', () => {
  it('starts, is healthy, runs the scheduled rollup workflow, and exits 0 on SIGTERM', async () => {
    const edgeId = `edge-test-${randomUUID().slice(0, 8)}`;
    const scheduleId = telemetryRollupsScheduleId(edgeId);
    const healthPort = await freePort();
    const proc = startProcess('workers/edge/main.ts', {
      EDGE_ID: edgeId,
      EDGE_TASK_QUEUE: `edge-test-${randomUUID()}`,
      EDGE_WORKER_HEALTH_PORT: String(healthPort),
      EDGE_DATABASE_URL: testEdgeDatabaseUrl,
      TEMPORAL_EDGE_NAMESPACE: namespace,
    });

    try {
      expect(await healthyChecks(healthPort)).toEqual({ database: { ok: true }, temporal: { ok: true }, worker: { ok: true, detail: 'RUNNING' } });

      const schedule = client.schedule.getHandle(scheduleId);
      expect((await schedule.describe()).policies.overlap).toBe(ScheduleOverlapPolicy.SKIP);

      // Take the scheduled action now rather than waiting for the next minute, and follow the run.
      await schedule.trigger();
      const workflowId = await until('a scheduled run', 30_000, async () => {
        const recent = (await schedule.describe()).info.recentActions;
        return recent.length > 0 ? recent[recent.length - 1].action.workflow.workflowId : undefined;
      });
      const result: PublishTelemetryRollupsResult = await client.workflow.getHandle(workflowId).result();
      expect(result).toMatchObject({ batches: expect.any(Number), stoppedEarly: false });

      proc.child.kill('SIGTERM');
      expect(await proc.exited).toBe(0);
      expect(proc.output()).toContain('"step":"temporal worker","msg":"stopped"');
    } catch (err) {
      throw new Error(`${(err as Error).message}\n--- worker output ---\n${proc.output().slice(-4000)}`, { cause: err });
    } finally {
      killGroup(proc);
      await deleteSchedule(scheduleId);
    }
  });
});

describe('the cloud worker process', () => {
  it('starts with the empty cloud workflow index, is healthy, and exits 0 on SIGTERM', async () => {
    const healthPort = await freePort();
    const proc = startProcess('workers/cloud/main.ts', {
      CLOUD_TASK_QUEUE: `cloud-test-${randomUUID()}`,
      CLOUD_WORKER_HEALTH_PORT: String(healthPort),
      TEMPORAL_CLOUD_NAMESPACE: cloudNamespace,
    });
    try {
      expect(await healthyChecks(healthPort)).toEqual({ temporal: { ok: true }, worker: { ok: true, detail: 'RUNNING' } });
      proc.child.kill('SIGTERM');
      expect(await proc.exited).toBe(0);
      expect(proc.output()).toContain('"step":"temporal worker","msg":"stopped"');
    } catch (err) {
      throw new Error(`${(err as Error).message}\n--- worker output ---\n${proc.output().slice(-4000)}`, { cause: err });
    } finally {
      killGroup(proc);
    }
  });
});
