/**
 * Replays recorded workflow histories against the workflow code in this checkout and says whether
 * each is deterministic: the check to run before deploying a workflow change to workers that have
 * runs in flight. The command is `farmiq replay` (cli/commands/replay.ts, docs/cli.md):
 *
 *   farmiq replay --workflow-id sync-forwarder/edge-dev-01 [--run-id R] [--namespace farmiq-edge]
 *   farmiq replay history.json […] [--kind edge|cloud]     # from `temporal workflow show --output json`
 *
 * The workflow code is bundled once and every history replayed against that bundle.
 */
import { Connection, Client } from '@temporalio/client';
import { bundleWorkflowCode, DefaultLogger, Runtime, Worker, type LogEntry, type WorkflowBundle } from '@temporalio/worker';
import { DeterminismViolationError } from '@temporalio/workflow';
import { workflowsPath, type WorkerKind } from './bundles';

/** A workflow's history as the server holds it (the latest run unless `runId`). */
export async function historyFromServer(address: string, namespace: string, workflowId: string, runId?: string): Promise<unknown> {
  const connection = await Connection.connect({ address });
  try {
    const client = new Client({ connection, namespace });
    return await client.workflow.getHandle(workflowId, runId).fetchHistory();
  } finally {
    await connection.close();
  }
}

export interface RecordedHistory {
  /** Where it came from, for the report: a file or namespace/workflow id. */
  source: string;
  /** Exported JSON or a fetched History: the replayer takes either and checks the shape itself. */
  history: unknown;
  workflowId?: string;
}

export type ReplayOutcome =
  | { source: string; deterministic: true }
  | { source: string; deterministic: false; error: string }
  /** The history could not be replayed at all (not a history, an unknown workflow type). */
  | { source: string; deterministic: null; error: string };

let runtimeInstalled = false;

/** The worker's own warnings go to stderr: stdout is the command's report (and JSON with --json). */
const stderrLogger = () =>
  new DefaultLogger('WARN', (entry: LogEntry) => {
    process.stderr.write(`${entry.level} ${entry.message}${entry.meta ? ` ${JSON.stringify(entry.meta)}` : ''}\n`);
  });

/** The workflow code of `kind`, bundled once for all the histories to replay. */
export async function replayBundle(kind: WorkerKind): Promise<WorkflowBundle> {
  if (!runtimeInstalled) {
    // The core's own logs would go straight to stdout; forwarded, they reach stderr. A replay that
    // fails is reported with its reason, so the core's warning about the failed task is left out.
    Runtime.install({ logger: stderrLogger(), telemetryOptions: { logging: { filter: { core: 'ERROR', other: 'ERROR' }, forward: {} } } });
    runtimeInstalled = true;
  }
  return bundleWorkflowCode({ workflowsPath: workflowsPath(kind), logger: stderrLogger() });
}

/** Replays one history against a bundle: deterministic, not (DeterminismViolationError), or unreplayable. */
export async function replayHistory(bundle: WorkflowBundle, h: RecordedHistory): Promise<ReplayOutcome> {
  try {
    await Worker.runReplayHistory({ workflowBundle: bundle }, h.history, h.workflowId);
    return { source: h.source, deterministic: true };
  } catch (err) {
    const error = err instanceof Error ? err.message : String(err);
    return err instanceof DeterminismViolationError ? { source: h.source, deterministic: false, error } : { source: h.source, deterministic: null, error };
  }
}
