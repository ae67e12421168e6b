/**
 * The edge ingress bridge assembled: broker connection → ingest pipeline → edge Postgres, and
 * → session lane → WeighVision session workflows.
 * Kept separate from main.ts so tests can run a real bridge in-process or as a child process.
 */
import type { Pool } from 'pg';
import { createPool } from '../../db/pool';
import { BrokerConnection } from './broker-connection';
import { IngestPipeline, type PipelineOptions } from './ingest-pipeline';
import { SessionLane } from './weighvision/session-lane';
import type { SessionSignaller } from './weighvision/session-signaller';
import type { Logger } from '../../platform/logger';

/** Telemetry and device events (feed.dispensed), committed to edge Postgres in micro-batches. */
export const ingestSubscriptions = ['iot/telemetry/#', 'iot/event/#'] as const;
/** WeighVision session events, signalled to their session workflows (session-lane.ts). */
export const sessionSubscriptions = ['iot/weighvision/#'] as const;

export interface BridgeOptions extends PipelineOptions {
  databaseUrl: string;
  mqttUrl: string;
  clientId: string;
  username: string;
  password: string;
  receiveMaximum: number;
  edgeId: string;
  /**
   * The session workflows' signaller. Without one (a bridge with no Temporal, as in some tests)
   * the bridge leaves WeighVision topics unsubscribed rather than half-handled.
   */
  sessions?: SessionSignaller;
}

export class MqttBridge {
  readonly pool: Pool;
  readonly pipeline: IngestPipeline;
  readonly broker: BrokerConnection;

  constructor(opts: BridgeOptions, log: Logger) {
    // UTC sessions so rollup windows fall on UTC minute/hour boundaries whatever the server's zone.
    this.pool = createPool(opts.databaseUrl, {
      applicationName: 'farmiq-mqtt-bridge',
      max: opts.commitConcurrency + 1,
      log,
      extra: { options: '-c timezone=UTC' },
    });
    this.pipeline = new IngestPipeline(this.pool, opts, log.child({ part: 'pipeline' }));
    if (opts.sessions) {
      this.pipeline.sessions = new SessionLane(opts.sessions, (row) => this.pipeline.quarantine(row), log.child({ part: 'sessions' }));
    }
    const subscriptions = opts.sessions ? [...ingestSubscriptions, ...sessionSubscriptions] : ingestSubscriptions;
    this.broker = new BrokerConnection(
      { ...opts, url: opts.mqttUrl, subscriptions },
      (topic, payload) => this.pipeline.submit(topic, payload),
      log.child({ part: 'broker' }),
    );
  }

  async checkDatabase(): Promise<void> {
    await this.pool.query('SELECT 1 FROM sync_outbox LIMIT 0');
  }

  async start(): Promise<void> {
    await this.broker.start();
  }

  /** Graceful: commit what is in hand, send those PUBACKs, then leave the session for next time. */
  async stop(): Promise<void> {
    await this.pipeline.drain();
    await new Promise((r) => setImmediate(r)); // let the last PUBACKs reach the socket
    await this.broker.stop();
    await this.pool.end();
  }
}
