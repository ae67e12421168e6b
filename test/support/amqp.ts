/**
 * RabbitMQ for tests: the test vhost of the node scripts/services.sh runs (farmiq-5672@localhost, data in
 * .run/rabbitmq), a unique topology prefix per test file so parallel runs never share a queue, and
 * rabbitmqctl for the tests that restart the broker.
 *
 *   const names = topologyNames(testTopologyPrefix('relay'));   // test-relay-3f9a1c.farmiq.events …
 *   await restartRabbitApp();                                    // stop_app + start_app, waits until up
 *   await deleteTestTopology(names);                             // afterAll
 */
import { execFile, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { promisify } from 'node:util';
import amqp, { type ConfirmChannel } from 'amqplib';
import { deleteTopology, type TopologyNames } from '../../messaging/topology';
import { farmiqHome, stackSetting } from './stack';

export const testAmqpUrl = stackSetting('TEST_AMQP_URL', 'amqp://farmiq:farmiq@127.0.0.1:5672/farmiq_test');

/** The RabbitMQ node and CLI: services.sh runs the Debian scripts with HOME at .run/rabbitmq (its Erlang cookie). */
const rabbitmqctlPath = process.env.RABBITMQCTL ?? '/usr/lib/rabbitmq/bin/rabbitmqctl';
/**
 * services.sh names the node after its AMQP port (farmiq-5672@localhost) but keeps the name of a
 * node that was already running; epmd knows which FarmIQ node is up.
 */
function rabbitNodeName(): string {
  if (process.env.RABBITMQ_NODENAME) return process.env.RABBITMQ_NODENAME;
  const expected = `farmiq-${new URL(testAmqpUrl).port || '5672'}`;
  try {
    const names = [...execFileSync('epmd', ['-names'], { encoding: 'utf8' }).matchAll(/^name (\S+) at port/gm)].map((m) => m[1]);
    const found = names.find((n) => n === expected) ?? names.find((n) => n.startsWith('farmiq'));
    if (found) return `${found}@localhost`;
  } catch {
    // epmd not running: no node is up, and the error below names the expected one
  }
  return `${expected}@localhost`;
}
const rabbitNode = rabbitNodeName();
const rabbitHome = process.env.RABBITMQ_CTL_HOME ?? path.join(farmiqHome, 'rabbitmq');

const run = promisify(execFile);

export async function rabbitmqctl(...args: string[]): Promise<string> {
  const { stdout } = await run(rabbitmqctlPath, ['-n', rabbitNode, ...args], {
    env: { ...process.env, HOME: rabbitHome },
    timeout: 120_000,
  });
  return stdout;
}

/** `rabbitmqctl stop_app && start_app`: every connection drops, durable queues come back. */
export async function restartRabbitApp(): Promise<void> {
  await rabbitmqctl('stop_app');
  await rabbitmqctl('start_app');
  await rabbitmqctl('await_startup', '--timeout', '60');
}

/** A prefix for exchange and queue names no other test run uses. */
export function testTopologyPrefix(label: string): string {
  return `test-${label}-${randomBytes(4).toString('hex')}.`;
}

/** A confirm channel on the test vhost; whatever `fn` published is confirmed before the connection closes. */
export async function withTestChannel<T>(fn: (channel: ConfirmChannel) => Promise<T>): Promise<T> {
  const conn = await amqp.connect(testAmqpUrl);
  try {
    const channel = await conn.createConfirmChannel();
    const result = await fn(channel);
    // Closing the connection right after a publish can lose it: wait until the broker has it.
    await channel.waitForConfirms();
    return result;
  } finally {
    await conn.close().catch(() => {});
  }
}

export async function deleteTestTopology(names: TopologyNames): Promise<void> {
  await withTestChannel((ch) => deleteTopology(ch, names));
}
