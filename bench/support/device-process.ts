/**
 * Runs one of the benchmarks' device processes (publisher.ts, hostile-publisher.ts) as a real
 * client of the broker, logged in as a provisioned device, and returns the JSON line it prints last.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import type { ProvisionedDevice } from '../../gateways/mqtt-bridge/broker/credentials';
import { repoRoot } from '../../test/support/stack';

export function runDeviceProcess<T>(script: string, brokerUrl: string, d: ProvisionedDevice, options: Record<string, string | number>): Promise<T> {
  const args = [
    '--url',
    brokerUrl,
    '--tenant',
    d.tenantId,
    '--farm',
    d.farmId,
    '--barn',
    d.barnId,
    '--device',
    d.deviceId,
    '--username',
    d.username,
    '--password',
    d.password,
  ];
  for (const [name, value] of Object.entries(options)) args.push(`--${name}`, String(value));
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(repoRoot, script), ...args], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr.on('data', (b: Buffer) => (out += b.toString()));
  return new Promise((resolve, reject) =>
    child.once('exit', (code) => (code === 0 ? resolve(JSON.parse(out.trim().split('\n').pop()!) as T) : reject(new Error(`${script}: ${out}`)))),
  );
}
