/**
 * One authenticated device gone bad, for the hostile soak: a separate process that publishes
 * `--count` hostile messages (every kind of test/support/hostile-messages.ts in turn, with varying
 * values) on its own authorised topics at `--rate` per second, QoS 1.
 *
 *   tsx bench/support/hostile-publisher.ts --url mqtt://… --tenant <uuid> --device d --username u --password p --count 12000 --rate 200
 * Prints one JSON line when done: { published, seconds, byKind, byReason }.
 */
import { randomUUID } from 'node:crypto';
import { Command } from 'commander';
import mqtt from 'mqtt';
import { hostileKinds, hostileMessage } from '../../test/support/hostile-messages';

const opts = new Command()
  .requiredOption('--url <url>')
  .requiredOption('--tenant <uuid>')
  .requiredOption('--device <id>')
  .requiredOption('--username <u>')
  .requiredOption('--password <p>')
  .option('--farm <id>', 'farm id', 'farm-1')
  .option('--barn <id>', 'barn id', 'barn-1')
  .option('--count <n>', 'hostile messages to publish', Number, 12_000)
  .option('--rate <n>', 'messages per second', Number, 200)
  .parse()
  .opts();

async function main(): Promise<void> {
  const client = await mqtt.connectAsync(opts.url, {
    clientId: opts.username,
    username: opts.username,
    password: opts.password,
    protocolVersion: 5,
    clean: true,
    reconnectPeriod: 0,
  });
  const address = { tenantId: opts.tenant, farmId: opts.farm, barnId: opts.barn, deviceId: opts.device };
  const byKind: Record<string, number> = {};
  const byReason: Record<string, number> = {};
  const started = Date.now();
  const pending: Promise<unknown>[] = [];
  for (let i = 0; i < opts.count; i++) {
    const due = started + (i * 1000) / opts.rate;
    const wait = due - Date.now();
    if (wait > 2) await new Promise((r) => setTimeout(r, wait));
    // Kinds in turn; the knob walks each kind's variants (i / kinds is the round number).
    const m = hostileMessage(address, i, Math.floor(i / hostileKinds.length), randomUUID());
    byKind[m.kind] = (byKind[m.kind] ?? 0) + 1;
    const reason = typeof m.reason === 'string' ? m.reason : m.reason ? `~${m.reason.source}` : 'any';
    byReason[reason] = (byReason[reason] ?? 0) + 1;
    pending.push(client.publishAsync(m.topic, m.payload, { qos: 1 }));
    if (pending.length >= 500) await Promise.all(pending.splice(0));
  }
  await Promise.all(pending);
  const seconds = (Date.now() - started) / 1000;
  await client.endAsync();
  console.log(JSON.stringify({ published: opts.count, seconds, byKind, byReason }));
}

main().catch((err) => {
  console.error(JSON.stringify({ error: (err as Error).message }));
  process.exit(1);
});
