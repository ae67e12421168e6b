/**
 * All cloud consumer services plus the dead-letter recorder, on one AMQP connection and one pool:
 * what main.ts runs as a process and what the tests run in-process.
 */
import type { Pool } from 'pg';
import type { AmqpConnection } from '../../messaging/connection';
import type { TopologyNames } from '../../messaging/topology';
import type { NotificationDeps } from '../../notifications/send';
import type { Logger } from '../../platform/logger';
import { alarmServiceName, createAlarmService } from './alarm-service';
import { DeadLetterRecorder } from './dead-letter-recorder';
import { EventConsumer, type ConsumerService } from './event-consumer';
import { consumerServiceList } from './services';

export interface CloudConsumersOptions {
  pool: Pool;
  connection: AmqpConnection;
  names: TopologyNames;
  deliveryLimit: number;
  log: Logger;
  prefetch: number;
  batchMax: number;
  services?: readonly ConsumerService[];
  /** cloud-alarm-service's notification sender (tenant pool + delivery queue); without it escalations fail. */
  alarmNotifications?: NotificationDeps;
}

export class CloudConsumers {
  readonly consumers: EventConsumer[];
  readonly recorder: DeadLetterRecorder;

  constructor(opts: CloudConsumersOptions) {
    const alarms = opts.alarmNotifications ? createAlarmService(opts.alarmNotifications) : undefined;
    this.consumers = (opts.services ?? consumerServiceList).map(
      (service) => new EventConsumer({ ...opts, service: alarms && service.name === alarmServiceName ? alarms : service }),
    );
    this.recorder = new DeadLetterRecorder(opts);
  }

  /** Name → consuming?, for /health. */
  status(): Record<string, boolean> {
    const s: Record<string, boolean> = {};
    for (const c of [...this.consumers, this.recorder]) s[c.name] = c.isConsuming;
    return s;
  }

  start(): void {
    this.recorder.start();
    for (const c of this.consumers) c.start();
  }

  /** Stops receiving everywhere, then waits for every consumer's in-flight batches. */
  async stop(): Promise<void> {
    await Promise.all([...this.consumers, this.recorder].map((c) => c.stop()));
  }
}
