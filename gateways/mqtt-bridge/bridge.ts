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
import { AlarmEvaluator, type ConditionSignaller, type EvaluatorOptions } from '../../alarms/evaluator';
import { acceptedReadings } from './alarms/accepted-readings';

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
  /**
   * The alarm rules' evaluator (alarms/evaluator.ts): given a signaller, every committed batch's
   * accepted readings are judged after the commit. Without one (some tests) no rule is judged.
   */
  alarms?: EvaluatorOptions & { signaller: ConditionSignaller };
}

export class MqttBridge {
  readonly pool: Pool;
  readonly pipeline: IngestPipeline;
  readonly broker: BrokerConnection;
  readonly alarms?: AlarmEvaluator;

  constructor(opts: BridgeOptions, log: Logger) {
    // UTC sessions so rollup windows fall on UTC minute/hour boundaries whatever the server's zone.
    this.pool = createPool(opts.databaseUrl, {
      applicationName: 'farmiq-mqtt-bridge',
      max: opts.commitConcurrency + (opts.alarms ? 2 : 1),
      log,
      extra: { options: '-c timezone=UTC' },
    });
    this.pipeline = new IngestPipeline(this.pool, opts, log.child({ part: 'pipeline' }));
    if (opts.sessions) {
      this.pipeline.sessions = new SessionLane(opts.sessions, (row) => this.pipeline.quarantine(row), log.child({ part: 'sessions' }));
    }
    if (opts.alarms) {
      const { signaller, ...evaluatorOptions } = opts.alarms;
      const alarms = new AlarmEvaluator(this.pool, signaller, evaluatorOptions, log.child({ part: 'alarms' }));
      this.alarms = alarms;
      this.pipeline.afterCommit = (rows) => alarms.submit(acceptedReadings(rows));
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
    // The last batches' readings are judged before the pool closes (a signal in flight finishes).
    await this.alarms?.idle();
    this.alarms?.stop();
    await new Promise((r) => setImmediate(r)); // let the last PUBACKs reach the socket
    await this.broker.stop();
    await this.pool.end();
  }
}
