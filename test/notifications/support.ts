/**
 * Local stand-ins for what notifications are delivered to — a real SMTP server (smtp-server) and an
 * HTTP receiver for the sms/push webhooks whose answers a test scripts — plus the RabbitMQ side on
 * the test vhost under a unique topology prefix.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { AmqpConnection } from '../../messaging/connection';
import { logger } from '../../platform/logger';
import { assertNotificationTopology, deleteNotificationTopology, notificationTopology, type NotificationTopology } from '../../notifications/topology';
import { testAmqpUrl, testTopologyPrefix, withTestChannel } from '../support/amqp';

export interface ReceivedMail {
  from: string;
  to: string[];
  raw: string;
}

export interface SmtpSink {
  url: string;
  mails: ReceivedMail[];
  close(): Promise<void>;
}

/** An SMTP server on a random port; RCPT TO an address containing "bounce" is refused with 550, "greylist" with 451. */
export async function startSmtpSink(): Promise<SmtpSink> {
  const mails: ReceivedMail[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['AUTH', 'STARTTLS'],
    logger: false,
    onRcptTo(address, _session, cb) {
      if (address.address.includes('bounce')) return cb(Object.assign(new Error('mailbox unavailable'), { responseCode: 550 }));
      if (address.address.includes('greylist')) return cb(Object.assign(new Error('try again later'), { responseCode: 451 }));
      cb();
    },
    onData(stream, session, cb) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        mails.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address),
          raw: Buffer.concat(chunks).toString('utf8'),
        });
        cb();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.server.address() as AddressInfo;
  return { url: `smtp://127.0.0.1:${port}`, mails, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

export interface WebhookRequest {
  path: string;
  headers: http.IncomingHttpHeaders;
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

export interface WebhookReceiver {
  url: string;
  requests: WebhookRequest[];
  /** Answer for a request; default 200. The test decides per notification (e.g. by title). */
  respond: (req: WebhookRequest, nthForThisNotification: number) => number;
  close(): Promise<void>;
}

export async function startWebhookReceiver(): Promise<WebhookReceiver> {
  const receiver: WebhookReceiver = { url: '', requests: [], respond: () => 200, close: async () => {} };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      let body: unknown;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch {
        body = undefined;
      }
      const r: WebhookRequest = { path: req.url ?? '', headers: req.headers, body };
      receiver.requests.push(r);
      const nth = receiver.requests.filter((x) => x.headers['idempotency-key'] === req.headers['idempotency-key']).length;
      const status = receiver.respond(r, nth);
      res.statusCode = status;
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ status }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  receiver.url = `http://127.0.0.1:${port}`;
  receiver.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return receiver;
}

export interface TestBroker {
  connection: AmqpConnection;
  names: NotificationTopology;
  /** Messages waiting in the delivery queue. */
  queued(): Promise<number>;
  close(): Promise<void>;
}

export async function startTestBroker(label: string): Promise<TestBroker> {
  const names = notificationTopology(testTopologyPrefix(label));
  const connection = new AmqpConnection({ url: testAmqpUrl, name: `test-${label}`, log: logger('test-amqp') });
  await connection.ready();
  // Declared up front, so a test can look into the queue before anything was published to it.
  await withTestChannel((ch) => assertNotificationTopology(ch, names, 5));
  return {
    connection,
    names,
    queued: () =>
      withTestChannel(async (ch) => {
        const q = await ch.checkQueue(names.queue);
        return q.messageCount;
      }),
    async close() {
      await connection.stop();
      await withTestChannel(async (ch) => {
        await deleteNotificationTopology(ch, names);
        await ch.deleteQueue(names.deadQueue);
        await ch.deleteExchange(names.deadExchange);
      }).catch(() => {});
    },
  };
}
