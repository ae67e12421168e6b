/**
 * The alarm suite's stack (test/integration/alarms-e2e.test.ts): the sync chain of ./support.ts
 * (cloud HTTP, cloud consumers, the edge worker, each on the suite's own databases) and around it
 * what an alarm passes through, each a real process or server of its own:
 *
 *   simulator (in this process, the Simulator class) ─MQTT─▶ private Mosquitto ─▶ MQTT bridge
 *   (gateways/mqtt-bridge/main.ts: ingest + the rule evaluator) ─signalWithStart─▶ farmAlarm on
 *   the edge worker ─▶ edge alarm tables + outbox ─▶ cloud ─▶ cloud-alarm-service ─▶ notification
 *   queue ─▶ delivery worker (notifications/main.ts) ─SMTP─▶ a real SMTP server in this process
 *
 *   edge HTTP (gateways/http/edge-main.ts): the operator API the suite sets its rule through
 *   edge worker's local channels: the siren on the private Mosquitto (its own broker login that may
 *   write the siren topics only) and a LAN webhook received in this process; a siren relay reads
 *   it with its own device login (sirenDevice), the bridge running
 */
import type { Pool } from 'pg';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { addOperator } from '../../gateways/http/operator-credentials';
import { alarmPublisherLogin } from '../../alarms/local-channels/mqtt-siren';
import { provisionDevice, type DeviceCredentials } from '../../gateways/mqtt-bridge/broker/credentials';
import { alarmSirenFilter } from '../../gateways/mqtt-bridge/broker/render';
import { alarmSweepScheduleId, downlinkWorkflowId } from '../../domain/temporal/workflow-ids';
import { testAmqpUrl } from '../support/amqp';
import { startTestBroker, freePort, testBridgeCredentials, type TestBroker } from '../support/broker';
import { openApiPath } from '../../gateways/http/api/openapi';
import { ResponseChecker } from '../support/openapi';
import { FarmiqProcess } from '../support/processes';
import { temporalAddress } from '../support/stack';
import { startSmtpSink, startWebhookReceiver, type SmtpSink, type WebhookReceiver } from '../notifications/support';
import { edgeNamespace, openDatabases, SyncStack, type Databases } from './support';

/** A JSON answer as the tests read it (the routes' own tests check the shapes against the OpenAPI document). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Answer = any;

/** How long the cloud may be silent before the edge delivers locally (ALARM_CLOUD_GRACE_SECONDS), short for the offline test. */
export const cloudGraceSeconds = 15;

export class AlarmStack {
  bridge!: FarmiqProcess;
  edgeHttp!: FarmiqProcess;
  delivery!: FarmiqProcess;
  edgeHttpUrl = '';
  operatorToken = '';
  private checker?: ResponseChecker;

  private constructor(
    readonly label: string,
    readonly tenant: string,
    readonly db: Databases,
    readonly broker: TestBroker,
    readonly smtp: SmtpSink,
    readonly lanWebhook: WebhookReceiver,
    readonly stack: SyncStack,
  ) {}

  /** Databases, servers and processes, not started. */
  static async create(label: string, tenant: string): Promise<AlarmStack> {
    const db = await openDatabases(label);
    const smtp = await startSmtpSink();
    const lanWebhook = await startWebhookReceiver();
    // The edge worker's own broker login for the sirens (never the bridge's: one connection per
    // login), its password derived from the bridge's as the farm broker's password file has it.
    const sirenLogin = alarmPublisherLogin({ MQTT_ALARM_USERNAME: `farmiq-alarms-${label}`, MQTT_BRIDGE_PASSWORD: testBridgeCredentials.password });
    const siren = { ...sirenLogin, write: [alarmSirenFilter] };
    const broker = await startTestBroker({ pool: db.edge, extraUsers: [siren] });
    const stack = await SyncStack.create({
      label,
      db,
      tenants: [tenant],
      edgeEnv: {
        EDGE_TENANTS: tenant,
        MQTT_URL: broker.url,
        MQTT_ALARM_USERNAME: siren.username,
        MQTT_BRIDGE_PASSWORD: testBridgeCredentials.password,
        ALARM_LAN_WEBHOOK_URL: `${lanWebhook.url}/siren`,
        ALARM_CLOUD_GRACE_SECONDS: String(cloudGraceSeconds),
        DOWNLINK_WAIT_SECONDS: '10',
      },
    });
    const alarms = new AlarmStack(label, tenant, db, broker, smtp, lanWebhook, stack);
    const [bridgePort, operatorPort, stationPort, deliveryPort] = [await freePort(), await freePort(), await freePort(), await freePort()];
    const edge = {
      LOG_LEVEL: 'warn',
      EDGE_ID: stack.edgeId,
      EDGE_DATABASE_URL: db.edgeUrl,
      TEMPORAL_ADDRESS: temporalAddress,
      TEMPORAL_EDGE_NAMESPACE: edgeNamespace,
      EDGE_TASK_QUEUE: stack.taskQueue,
      DEPENDENCY_WAIT_SECONDS: '60',
      SHUTDOWN_GRACE_SECONDS: '15',
    };
    alarms.bridge = new FarmiqProcess({
      name: 'mqtt-bridge',
      entry: 'gateways/mqtt-bridge/main.ts',
      env: {
        ...edge,
        MQTT_URL: broker.url,
        MQTT_BRIDGE_USERNAME: broker.bridge.username,
        MQTT_BRIDGE_PASSWORD: broker.bridge.password,
        MQTT_BRIDGE_CLIENT_ID: `bridge-${label}`,
        BRIDGE_HEALTH_PORT: String(bridgePort),
        ALARM_RULES_REFRESH_SECONDS: '2',
        ALARM_RETRY_SECONDS: '2',
      },
      healthUrl: `http://127.0.0.1:${bridgePort}/health`,
      logFile: path.join(stack.dir, 'mqtt-bridge.log'),
    });
    alarms.edgeHttpUrl = `http://127.0.0.1:${operatorPort}`;
    alarms.edgeHttp = new FarmiqProcess({
      name: 'edge-http',
      entry: 'gateways/http/edge-main.ts',
      env: {
        ...edge,
        EDGE_HTTP_HOST: '127.0.0.1',
        EDGE_HTTP_PORT: String(operatorPort),
        EDGE_STATION_HTTP_HOST: '127.0.0.1',
        EDGE_STATION_HTTP_PORT: String(stationPort),
      },
      healthUrl: `${alarms.edgeHttpUrl}/health`,
      logFile: path.join(stack.dir, 'edge-http.log'),
    });
    alarms.delivery = new FarmiqProcess({
      name: 'notification-delivery',
      entry: 'notifications/main.ts',
      env: {
        LOG_LEVEL: 'warn',
        CLOUD_DATABASE_URL: db.cloudUrl,
        AMQP_URL: testAmqpUrl,
        AMQP_TOPOLOGY_PREFIX: stack.prefix,
        SMTP_URL: smtp.url,
        NOTIFICATIONS_HEALTH_PORT: String(deliveryPort),
        NOTIFICATION_DISPATCH_INTERVAL_MS: '200',
        DEPENDENCY_WAIT_SECONDS: '60',
        SHUTDOWN_GRACE_SECONDS: '15',
      },
      healthUrl: `http://127.0.0.1:${deliveryPort}/health`,
      logFile: path.join(stack.dir, 'notification-delivery.log'),
    });
    alarms.operatorToken = (await addOperator(db.edge, { name: `it-${label}-${randomBytes(4).toString('hex')}` })).token;
    return alarms;
  }

  /** The cloud first (it declares the notification queue the delivery worker reads), then the edge. */
  async startAll(): Promise<void> {
    await this.stack.startAll();
    await this.delivery.start();
    await this.bridge.start();
    await this.edgeHttp.start();
  }

  get processes(): FarmiqProcess[] {
    return [this.bridge, this.edgeHttp, this.delivery].filter(Boolean);
  }

  /** The last lines of every process's output, for a failing assertion. */
  logs(lines = 40): string {
    const mine = this.processes.map((p) => `--- ${p.opts.name} (${p.startCount} starts) ---\n${p.tail(lines)}`);
    return [this.stack.logs(lines), ...mine].join('\n');
  }

  /** A siren relay of the farm (a device of kind siren, which may subscribe to its farm's sirens) and its login. */
  async sirenDevice(farmId: string): Promise<DeviceCredentials> {
    const creds = await provisionDevice(this.db.edge, { tenantId: this.tenant, farmId, barnId: 'yard', deviceId: 'siren-relay', kind: 'siren' });
    await this.broker.reload();
    return creds;
  }

  /** A call on the edge operator API with the suite's operator token. */
  async operator(method: string, pathAndQuery: string, body?: unknown): Promise<{ status: number; body: Answer }> {
    const res = await fetch(`${this.edgeHttpUrl}${pathAndQuery}`, {
      method,
      headers: { authorization: `Bearer ${this.operatorToken}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(10_000),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined };
  }

  /**
   * A call on the cloud API (the dashboard's), with a user's access token; the answer is checked
   * against the OpenAPI document the same cloud process serves.
   */
  async cloud(method: string, pathAndQuery: string, token?: string, body?: unknown): Promise<{ status: number; body: Answer }> {
    const res = await fetch(`${this.stack.cloudUrl}${pathAndQuery}`, {
      method,
      headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(10_000),
    });
    const text = await res.text();
    const answer = { status: res.status, body: text ? JSON.parse(text) : undefined };
    this.checker ??= new ResponseChecker((await (await fetch(`${this.stack.cloudUrl}${openApiPath}`)).json()) as never);
    this.checker.check(method, pathAndQuery, answer.status, res.headers.get('content-type'), answer.body);
    return answer;
  }

  /** Every process, the alarm workflows of the tenant, the edge's downlink and sweep, the servers, the tenant's rows. */
  async cleanup(): Promise<void> {
    for (const p of this.processes) await p.kill9().catch(() => undefined);
    const temporal = this.stack.temporal;
    if (temporal) {
      await temporal.schedule
        .getHandle(alarmSweepScheduleId(this.stack.edgeId))
        .delete()
        .catch(() => undefined);
      for (const prefix of [`alarm/${this.tenant}/`, alarmSweepScheduleId(this.stack.edgeId), downlinkWorkflowId(this.stack.edgeId)]) {
        try {
          for await (const run of temporal.workflow.list({ query: `WorkflowId STARTS_WITH '${prefix}' AND ExecutionStatus = 'Running'` })) {
            await temporal.workflow
              .getHandle(run.workflowId)
              .terminate('integration test over')
              .catch(() => undefined);
          }
        } catch {
          // visibility not answering: the downlink is terminated by id below anyway
        }
      }
      await temporal.workflow
        .getHandle(downlinkWorkflowId(this.stack.edgeId))
        .terminate('integration test over')
        .catch(() => undefined);
    }
    await this.stack.cleanup();
    await this.broker.stop().catch(() => undefined);
    await this.smtp.close().catch(() => undefined);
    await this.lanWebhook.close().catch(() => undefined);
    await deleteTenantRows(this.db.edge, this.tenant);
    await deleteTenantRows(this.db.cloud, this.tenant, true);
    await this.db.close();
  }
}

/**
 * Deletes the tenant's rows from every table with a tenant_id (a few passes, so rows another
 * table's foreign key still points at go once that table is emptied), then the tenant itself.
 */
export async function deleteTenantRows(pool: Pool, tenant: string, tenantsTable = false): Promise<void> {
  const { rows } = await pool.query<{ table_name: string }>(
    `SELECT c.table_name FROM information_schema.columns c JOIN information_schema.tables t USING (table_schema, table_name)
      WHERE c.table_schema = 'public' AND c.column_name = 'tenant_id' AND t.table_type = 'BASE TABLE'`,
  );
  let left = rows.map((r) => r.table_name);
  for (let pass = 0; pass < 5 && left.length > 0; pass++) {
    const failed: string[] = [];
    for (const table of left) {
      await pool.query(`DELETE FROM "${table}" WHERE tenant_id = $1`, [tenant]).catch(() => failed.push(table));
    }
    left = failed;
  }
  if (tenantsTable) await pool.query('DELETE FROM tenants WHERE id = $1', [tenant]).catch(() => undefined);
}
