/**
 * Where the workflow code of each worker comes from. Production runs a bundle prebuilt by
 * `temporal/build-bundle.ts` (no webpack at start-up, and the exact code that was tested ships);
 * a development checkout without one bundles from source when the worker starts.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { WorkerOptions } from '@temporalio/worker';
import type { Logger } from '../platform/logger';
import workflowContracts from './workflow-contracts.json';

export type WorkerKind = 'edge' | 'cloud';

/** The repository root, whether running from source (tsx) or from tsc output under dist/. */
function repoRoot(): string {
  const up = path.resolve(__dirname, '..');
  return path.basename(up) === 'dist' ? path.dirname(up) : up;
}

/** The workflow index a worker registers: workflows/edge.ts or workflows/cloud.ts. */
export function workflowsPath(kind: WorkerKind): string {
  return require.resolve(`../workflows/${kind}`);
}

export function bundlePath(kind: WorkerKind): string {
  return path.join(repoRoot(), 'dist', 'workflows', `${kind}-bundle.js`);
}

type WorkflowCode = Pick<WorkerOptions, 'workflowBundle' | 'workflowsPath'>;

export function workflowCode(kind: WorkerKind, log: Logger): WorkflowCode {
  const codePath = bundlePath(kind);
  if (fs.existsSync(codePath)) {
    const builtAt = fs.statSync(codePath).mtime;
    const newer = newerSources(builtAt);
    if (newer.length === 0) {
      log.info({ bundle: codePath, builtAt }, 'using prebuilt workflow bundle');
      return { workflowBundle: { codePath } };
    }
    // Running a stale bundle would serve old workflow code (or none of a new workflow type) to
    // running workflows; in a checkout the sources are the truth.
    log.warn(
      { bundle: codePath, builtAt, newerSources: newer },
      'prebuilt workflow bundle is older than the workflow sources; bundling from source (rebuild with `npm run temporal:bundle`)',
    );
    return { workflowsPath: workflowsPath(kind) };
  }
  log.info({ workflowsPath: workflowsPath(kind), missingBundle: codePath }, 'no prebuilt workflow bundle; bundling workflows from source');
  return { workflowsPath: workflowsPath(kind) };
}

/**
 * What a workflow bundle is built from, relative to the repository root: the workflows and every
 * pure module they import as values: domain/ and the contracts in the contexts' homes listed in
 * workflow-contracts.json (the list .dependency-cruiser.cjs treats as pure). A change to any of them
 * makes a bundle stale.
 */
export function bundleSources(): string[] {
  const root = repoRoot();
  const trees = ['workflows', 'domain'].flatMap((top) => {
    const dir = path.join(root, top);
    if (!fs.existsSync(dir)) return [];
    return fs
      .readdirSync(dir, { recursive: true, encoding: 'utf8' })
      .filter((f) => f.endsWith('.ts'))
      .map((f) => path.join(top, f));
  });
  const contracts = workflowContracts.filter((f) => fs.existsSync(path.join(root, f)));
  return [...trees, ...contracts];
}

/** Bundle sources changed after the bundle was built (only in a checkout with sources). */
function newerSources(builtAt: Date): string[] {
  return bundleSources().filter((f) => fs.statSync(path.join(repoRoot(), f)).mtime > builtAt);
}
