/**
 * `farmiq replay`: replays workflow histories against the workflow code of this checkout
 * (temporal/replay.ts) before a workflow change is deployed. Exit 0 when every history replays,
 * 2 when one does not (non-determinism: guard the change with patched(), docs/temporal.md), 1 on
 * any other error.
 */
import fs from 'node:fs';
import { Option, type Command } from 'commander';
import type { WorkerKind } from '../../temporal/bundles';
import type { CliContext, CommandGroup } from '../context';
import { CliError, invalidInput } from '../errors';

interface ReplayOptions {
  workflowId?: string;
  runId?: string;
  namespace?: string;
  address?: string;
  kind?: WorkerKind;
}

function readHistory(file: string): unknown {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw invalidInput(`${file}: ${(err as Error).message}`);
  }
}

function register(program: Command, ctx: CliContext): void {
  program
    .command('replay')
    .description('replay workflow histories (files, or one fetched from Temporal) against the current workflow code')
    .argument('[files...]', 'histories exported with `temporal workflow show --output json`')
    .option('--workflow-id <id>', 'fetch the history of this workflow from the Temporal server instead')
    .option('--run-id <id>', 'with --workflow-id: a specific run (default: the latest)')
    .option('--namespace <ns>', 'with --workflow-id: the namespace (default TEMPORAL_EDGE_NAMESPACE)')
    .option('--address <host:port>', 'with --workflow-id: the Temporal server (default TEMPORAL_ADDRESS)')
    .addOption(new Option('--kind <kind>', 'which workflow code to replay against (default: edge, or from the namespace)').choices(['edge', 'cloud']))
    .action(async (files: string[], o: ReplayOptions) => {
      if (!o.workflowId === (files.length === 0)) throw invalidInput('give history files or --workflow-id, not both and not neither');
      const s = ctx.settings();
      const namespace = o.namespace ?? s.TEMPORAL_EDGE_NAMESPACE;
      const kind: WorkerKind = o.kind ?? (o.workflowId && namespace === s.TEMPORAL_CLOUD_NAMESPACE ? 'cloud' : 'edge');
      // Loaded here, not at start: the Temporal worker takes a second to load, and only replay needs it.
      // eslint-disable-next-line @typescript-eslint/no-require-imports -- a lazy load, typed as the module
      const { historyFromServer, replayBundle, replayHistory } = require('../../temporal/replay') as typeof import('../../temporal/replay');
      const histories = o.workflowId
        ? [
            {
              source: `${namespace}/${o.workflowId}${o.runId ? `/${o.runId}` : ''}`,
              history: await historyFromServer(o.address ?? s.TEMPORAL_ADDRESS, namespace, o.workflowId, o.runId),
              workflowId: o.workflowId,
            },
          ]
        : files.map((f) => ({ source: f, history: readHistory(f) }));

      ctx.out.note(`bundling the ${kind} workflows…`);
      const bundle = await replayBundle(kind);
      const bar = ctx.progress('replay', histories.length);
      const results = [];
      try {
        for (const h of histories) {
          results.push(await replayHistory(bundle, h));
          bar.tick();
        }
      } finally {
        bar.stop();
      }

      const broken = results.filter((r) => r.deterministic === false);
      const failed = results.filter((r) => r.deterministic === null);
      ctx.out.data({ kind, replayed: results.length, results }, (r) =>
        r.results
          .map((x) =>
            x.deterministic === true
              ? `deterministic: ${x.source} replays against the current ${kind} workflows`
              : x.deterministic === false
                ? `NOT deterministic: ${x.source} does not replay against the current ${kind} workflows.\n${x.error}`
                : `could not replay ${x.source}: ${x.error}`,
          )
          .join('\n'),
      );
      if (broken.length > 0) {
        throw new CliError(
          'not_deterministic',
          `${broken.length} of ${results.length} histories do not replay; guard the change with patched() (docs/temporal.md) so running workflows keep their old path`,
          2,
        );
      }
      if (failed.length > 0)
        throw new CliError('failed', `${failed.length} of ${results.length} histories could not be replayed: ${failed[0].error.split('\n')[0]}`);
    });
}

export const group: CommandGroup = { name: 'replay', register };
