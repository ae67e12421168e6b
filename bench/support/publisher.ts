/**
 * An external device fleet for benchmarks and tests: a separate process that publishes telemetry
 * readings at QoS 1 as fast as the broker accepts them, each stamped with its send time in `ts`
 * so the receiver can measure publish→commit latency.
 *
 *   tsx bench/support/publisher.ts --url mqtt://… --count 50000 --tenant <uuid> [--devices 50]
 *     [--username u --password p] [--inflight 2000] [--duplicate-every 0]
 * Prints one JSON line when done: { published, seconds, rate }.
 */
import mqtt from 'mqtt';
import { randomUUID } from 'node:crypto';
import { Command } from 'commander';
import { telemetryTopic } from '../../domain/contracts/topics';

const opts = new Command()
  .requiredOption('--url <url>')
  .requiredOption('--count <n>', 'messages to publish', Number)
  .requiredOption('--tenant <uuid>')
  .option('--farm <id>', 'farm id', 'farm-1')
  .option('--barn <id>', 'barn id', 'barn-1')
  .option('--device <id>', 'publish as this one device (the default spreads over --devices simulated ids)')
  .option('--devices <n>', 'devices to spread the readings over', Number, 50)
  .option('--username <u>')
  .option('--password <p>')
  .option('--inflight <n>', 'unacknowledged publishes allowed at once', Number, 1000)
  .option('--rate <n>', 'messages per second (0: as fast as the broker takes them)', Number, 0)
  .option('--duplicate-every <n>', 'republish every n-th message a second time (0: never)', Number, 0)
  .parse()
  .opts();

async function main(): Promise<void> {
  const client = await mqtt.connectAsync(opts.url, {
    clientId: `farmiq-bench-pub-${randomUUID().slice(0, 8)}`,
    username: opts.username,
    password: opts.password,
    protocolVersion: 5,
    clean: true,
  });
  const started = Date.now();
  let sent = 0;
  let inflight = 0;
  let next: (() => void) | undefined;
  const publishOne = (topic: string, body: string) => {
    inflight += 1;
    client.publish(topic, body, { qos: 1 }, (err) => {
      if (err) {
        console.error(JSON.stringify({ error: err.message }));
        process.exit(2);
      }
      inflight -= 1;
      sent += 1;
      const wake = next;
      next = undefined;
      wake?.();
    });
  };
  for (let i = 0; i < opts.count; i++) {
    while (inflight >= opts.inflight) await new Promise<void>((r) => (next = r));
    if (opts.rate > 0) {
      // Paced: message i is due at started + i/rate; sleep in small steps to stay on schedule.
      const due = started + (i * 1000) / opts.rate;
      const wait = due - Date.now();
      if (wait > 2) await new Promise((r) => setTimeout(r, wait));
    }
    const device: string = opts.device ?? `sensor-${i % opts.devices}`;
    const address = { tenantId: opts.tenant, farmId: opts.farm, barnId: opts.barn, deviceId: device };
    const body = JSON.stringify({
      schema_version: '1.0',
      event_id: randomUUID(),
      trace_id: `bench-${i}`,
      event_type: 'telemetry.reading',
      tenant_id: opts.tenant,
      device_id: device,
      ts: new Date().toISOString(),
      payload: { metric: 'temperature', value: 20 + (i % 100) / 10, unit: 'C' },
    });
    const topic = telemetryTopic(address, 'temperature');
    publishOne(topic, body);
    if (opts.duplicateEvery > 0 && i % opts.duplicateEvery === 0) publishOne(topic, body);
  }
  while (inflight > 0) await new Promise<void>((r) => (next = r));
  const seconds = (Date.now() - started) / 1000;
  await client.endAsync();
  console.log(JSON.stringify({ published: sent, seconds, rate: sent / seconds }));
}

main().catch((err) => {
  console.error(JSON.stringify({ error: (err as Error).message }));
  process.exit(1);
});
