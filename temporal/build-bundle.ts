/**
 * Prebuilds the workflow bundles the workers load in production:
 *
 *   npx tsx temporal/build-bundle.ts        # writes dist/workflows/edge-bundle.js and cloud-bundle.js
 *
 * Workflow code runs in Temporal's deterministic sandbox, so it is bundled with webpack by the SDK;
 * doing that at build time keeps worker start-up fast and ships exactly the code that was tested.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import { bundlePath, workflowsPath, type WorkerKind } from './bundles';

export async function buildBundle(kind: WorkerKind): Promise<{ path: string; bytes: number }> {
  const { code } = await bundleWorkflowCode({ workflowsPath: workflowsPath(kind) });
  const out = bundlePath(kind);
  await fs.mkdir(path.dirname(out), { recursive: true });
  // Write then rename, so a worker starting meanwhile never reads half a bundle.
  await fs.writeFile(`${out}.tmp`, code);
  await fs.rename(`${out}.tmp`, out);
  return { path: out, bytes: Buffer.byteLength(code) };
}

async function main(): Promise<void> {
  for (const kind of ['edge', 'cloud'] as const) {
    const built = await buildBundle(kind);
    console.log(`${kind}: ${path.relative(process.cwd(), built.path)} (${(built.bytes / 1024).toFixed(0)} KiB)`);
  }
}

if (require.main === module) {
  main().catch((err) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
