/** Small helpers shared by the benchmarks: percentiles, medians, machine facts, CPU per process. */
import os from 'node:os';
import { readFileSync } from 'node:fs';
import { execSync } from 'node:child_process';
import * as hdr from 'hdr-histogram-js';
import { Client } from 'pg';
import { migrate } from '../../db/migrate';

export function latencyHistogram() {
  return hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 600_000, numberOfSignificantValueDigits: 3 });
}

export function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

export function machine() {
  const version = (cmd: string) => {
    try {
      return execSync(cmd, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })
        .trim()
        .split('\n')[0];
    } catch {
      return 'unknown';
    }
  };
  return {
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model ?? 'unknown',
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    kernel: os.release(),
    node: process.version,
    postgres: version('psql --version'),
    mosquitto: version('mosquitto -h | head -1'),
    loadAverageAtStart: os.loadavg().map((l) => Number(l.toFixed(2))),
  };
}

/** CPU seconds (user + system) used so far by every process with this exact name, from /proc. */
export function processCpuSeconds(name: string): number {
  let total = 0;
  const pids = execSync(`pgrep -x ${name} || true`, { encoding: 'utf8' }).split('\n').filter(Boolean);
  for (const pid of pids) {
    try {
      // utime and stime, fields 14 and 15 of /proc/<pid>/stat, in clock ticks (100 per second here).
      const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
      total += Number(fields[11]) + Number(fields[12]);
    } catch {
      // the process ended between pgrep and the read
    }
  }
  return total / 100;
}

/** CPU seconds used so far by this process, all postgres processes and all mosquitto processes. */
export function cpuSeconds() {
  const self = process.cpuUsage();
  return { self: (self.user + self.system) / 1e6, postgres: processCpuSeconds('postgres'), mosquitto: processCpuSeconds('mosquitto') };
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

/** n, mean, p50 / p95 / p99, min and max of a sample, rounded to 0.01. */
export function distribution(values: number[]) {
  const s = [...values].sort((a, b) => a - b);
  const r = (x: number) => Math.round(x * 100) / 100;
  const mean = s.length ? s.reduce((a, b) => a + b, 0) / s.length : NaN;
  return {
    n: s.length,
    mean: r(mean),
    p50: r(percentile(s, 50)),
    p95: r(percentile(s, 95)),
    p99: r(percentile(s, 99)),
    max: r(s[s.length - 1] ?? NaN),
    min: r(s[0] ?? NaN),
  };
}

/** The same server URL with another database name (the benchmarks' own databases). */
export function withDatabase(url: string, name: string): string {
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
}

/** Drops and re-creates a benchmark's own database on the same server, migrated; returns its URL. */
export async function freshDatabase(baseUrl: string, name: string, kind: 'edge' | 'cloud' = 'edge'): Promise<string> {
  const admin = new Client({ connectionString: withDatabase(baseUrl, 'postgres') });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = withDatabase(baseUrl, name);
  await migrate(kind, url);
  return url;
}
