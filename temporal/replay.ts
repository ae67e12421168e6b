/**
 * Replays one workflow's recorded history against the workflow code in this checkout and says
 * whether it is deterministic: the check to run before deploying a workflow change to workers
 * that have runs in flight (`tctl workflow replay`'s successor for FarmIQ).
 *
 *   npm run replay -- --workflow-id sync-forwarder/edge-dev-01 [--run-id R] [--namespace farmiq-edge]
 *   npm run replay -- --file history.json --kind edge     # from `temporal workflow show --output json`
 *
 * Exits 0 when the history replays, 2 on non-determinism, 1 on any other error.
 */
import fs from 'node:fs';
import { Command } from 'commander';
import { Connection, Client } from '@temporalio/client';
import { DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import { DeterminismViolationError } from '@temporalio/workflow';
import { settings } from '../config/settings';
import { workflowsPath, type WorkerKind } from './bundles';

async function historyFromServer(address: string, namespace: string, workflowId: string, runId?: string) {
  const connection = await Connection.connect({ address });
  try {
    const client = new Client({ connection, namespace });
    return await client.workflow.getHandle(workflowId, runId).fetchHistory();
  } finally {
    await connection.close();
  }
}

async function main(): Promise<number> {
  const s = settings();
  const opts = new Command()
    .name('replay')
    .description('replay a workflow history against the current workflow code')
    .option('--workflow-id <id>', 'fetch the history of this workflow from the Temporal server')
    .option('--run-id <id>', 'a specific run (default: the latest)')
    .option('--namespace <ns>', 'namespace to fetch from', s.TEMPORAL_EDGE_NAMESPACE)
    .option('--address <host:port>', 'Temporal server', s.TEMPORAL_ADDRESS)
    .option('--file <path>', 'a history exported with `temporal workflow show --output json`')
    .option('--kind <edge|cloud>', 'which workflow code to replay against (default: from the namespace)')
    .parse()
    .opts<{ workflowId?: string; runId?: string; namespace: string; address: string; file?: string; kind?: WorkerKind }>();

  if (!opts.workflowId === !opts.file) throw new Error('give exactly one of --workflow-id or --file');
  const kind: WorkerKind = opts.kind ?? (opts.namespace === s.TEMPORAL_CLOUD_NAMESPACE ? 'cloud' : 'edge');
  // Exported JSON or a fetched History: runReplayHistory takes either and checks the shape itself.
  const history: unknown = opts.file
    ? JSON.parse(fs.readFileSync(opts.file, 'utf8'))
    : await historyFromServer(opts.address, opts.namespace, opts.workflowId!, opts.runId);
  const source = opts.file ?? `${opts.namespace}/${opts.workflowId}${opts.runId ? `/${opts.runId}` : ''}`;

  Runtime.install({ logger: new DefaultLogger('WARN') });
  try {
    await Worker.runReplayHistory({ workflowsPath: workflowsPath(kind) }, history, opts.workflowId);
  } catch (err) {
    if (err instanceof DeterminismViolationError) {
      console.error(`NOT deterministic: ${source} does not replay against the current ${kind} workflows.\n${err.message}`);
      console.error('Guard the change with patched() (see docs/temporal.md) so running workflows keep their old path.');
      return 2;
    }
    throw err;
  }
  console.log(`deterministic: ${source} replays against the current ${kind} workflows`);
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  },
);
