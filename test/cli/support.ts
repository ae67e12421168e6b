/**
 * Runs the real `farmiq` executable (bin/farmiq) as an operator would, against databases of its
 * own on the test cluster (farmiq_edge_cli_test, farmiq_cloud_cli_test, migrated here), so
 * `sync dlq requeue --all` and the listings see only what these tests made.
 */
import { execFile, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Pool } from 'pg';
import { ensureDatabase } from '../support/databases';
import { repoRoot, testCloudDatabaseUrl, testEdgeDatabaseUrl } from '../support/stack';

function renamed(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

export const cliEdgeUrl = renamed(testEdgeDatabaseUrl, 'farmiq_edge_cli_test');
export const cliCloudUrl = renamed(testCloudDatabaseUrl, 'farmiq_cloud_cli_test');
export const cliJwtSecret = 'farmiq-cli-test-secret-for-dashboard-tokens';
export const farmiqBin = path.join(repoRoot, 'bin', 'farmiq');

/** A FARMIQ_HOME of its own: `devices` rewrites the broker files under it, never the running broker's. */
export const cliHome = fs.mkdtempSync(path.join(os.tmpdir(), 'farmiq-cli-home-'));

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

export function farmiq(args: string[], env: Record<string, string> = {}, input?: string): Promise<Run> {
  return new Promise((resolve) => {
    const child = execFile(
      farmiqBin,
      args,
      {
        cwd: repoRoot,
        env: {
          ...process.env,
          FARMIQ_CONFIG: '',
          FARMIQ_HOME: cliHome,
          EDGE_DATABASE_URL: cliEdgeUrl,
          CLOUD_DATABASE_URL: cliCloudUrl,
          AUTH_JWT_SECRET: cliJwtSecret,
          LOG_LEVEL: 'silent',
          FARMIQ_DEBUG: '',
          ...env,
        },
      },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
    child.stdin?.end(input ?? '');
  });
}

/** `farmiq --json …`, expected to succeed: its stdout parsed. */
export async function farmiqJson<T = unknown>(...args: string[]): Promise<T> {
  const r = await farmiq(['--json', ...args]);
  if (r.code !== 0) throw new Error(`farmiq ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}

/** `farmiq --json …`, expected to fail: its exit status and the {"error":{code,message}} it printed. */
export async function farmiqError(...args: string[]): Promise<{ code: number; error: { code: string; message: string }; stdout: string }> {
  const r = await farmiq(['--json', ...args]);
  const lines = r.stderr.trim().split('\n');
  let error: { code: string; message: string };
  try {
    error = (JSON.parse(lines[lines.length - 1]) as { error: { code: string; message: string } }).error;
  } catch {
    error = { code: '(not json)', message: r.stderr };
  }
  return { code: r.code, error, stdout: r.stdout };
}

let migrated: Promise<void> | undefined;

/** Creates and migrates the CLI's two databases once per test file. */
export function cliDatabases(): Promise<void> {
  migrated ??= (async () => {
    for (const [db, url] of [
      ['edge', cliEdgeUrl],
      ['cloud', cliCloudUrl],
    ] as const) {
      await ensureDatabase(url);
      // node-pg-migrate is an ES module, which jest's sandbox cannot import: migrate in a child process.
      execFileSync(process.execPath, [require.resolve('tsx/cli'), 'db/migrate.ts', db, '--url', url], {
        cwd: repoRoot,
        env: { ...process.env, FARMIQ_CONFIG: '' },
        stdio: 'pipe',
      });
    }
  })();
  return migrated;
}

export const edgePool = () => new Pool({ connectionString: cliEdgeUrl, max: 2 });
export const cloudPool = () => new Pool({ connectionString: cliCloudUrl, max: 2 });
