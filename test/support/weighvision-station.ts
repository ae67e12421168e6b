/**
 * A simulated WeighVision station, doing what the real iot-weighvision-agent does (spec §3): it
 * publishes session.created / weight.recorded / session.finalized with QoS 1 as the device it is
 * provisioned as, and uploads each image through the edge media store (presign → PUT → complete)
 * with its HTTP Basic credentials. Used by the end-to-end test and `npm run bench -- weighvision`.
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { weighVisionTopic, type DeviceAddress, type SessionStep } from '../../domain/contracts/topics';
import { retryUntil } from '../../platform/backoff';

export interface StationImage {
  bytes: Buffer;
  contentType: 'image/jpeg' | 'image/png';
}

export interface FixtureImage extends StationImage {
  file: string;
  trueWeightKg: number;
  trueFlags: string[];
}

/** The generated images of test/fixtures/weighvision (ml/generate.py --fixtures), with their truth. */
export function fixtureImages(): FixtureImage[] {
  const dir = path.join(__dirname, '..', 'fixtures', 'weighvision');
  const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8')) as {
    images: { file: string; content_type: 'image/jpeg' | 'image/png'; true_weight_kg: number; true_flags: string[] }[];
  };
  return manifest.images.map((m) => ({
    file: m.file,
    bytes: fs.readFileSync(path.join(dir, m.file)),
    contentType: m.content_type,
    trueWeightKg: m.true_weight_kg,
    trueFlags: m.true_flags,
  }));
}

export interface StationOptions {
  mqttUrl: string;
  /** The media store's base URL (the edge HTTP API). */
  httpBase: string;
  address: DeviceAddress;
  credentials: { username: string; password: string };
}

/** A media route's answer: its fields on success, `error` when it refused (gateways/http/weighvision/media-router.ts). */
export interface MediaAnswer<Body> {
  status: number;
  body: Body & { error?: { code: string; message: string } };
}

export type PresignAnswer = MediaAnswer<{
  media_id: string;
  object_key: string;
  upload_url: string;
  method: 'PUT';
  headers: Record<string, string>;
  expires_at: string;
}>;
export type CompleteAnswer = MediaAnswer<{ media_id: string; object_key: string; status: 'stored'; size_bytes: number }>;

interface MediaRoutes {
  presign: PresignAnswer;
  complete: CompleteAnswer;
}

/** The steps a station takes, for callers that time them (the benchmark). */
export type StationStep = 'created' | 'reading' | 'upload' | 'presign' | 'put' | 'complete' | 'finalized';
export type StepTimer = <T>(step: StationStep, work: () => Promise<T>) => Promise<T>;
const untimed: StepTimer = (_step, work) => work();

export class SimulatedStation {
  private client?: MqttClient;
  private readonly authorization: string;

  constructor(readonly opts: StationOptions) {
    this.authorization = `Basic ${Buffer.from(`${opts.credentials.username}:${opts.credentials.password}`).toString('base64')}`;
  }

  async connect(): Promise<void> {
    this.client = await mqtt.connectAsync(this.opts.mqttUrl, {
      clientId: `station-${this.opts.address.deviceId}-${randomUUID().slice(0, 6)}`,
      username: this.opts.credentials.username,
      password: this.opts.credentials.password,
      protocolVersion: 5,
      reconnectPeriod: 0,
    });
  }

  async close(): Promise<void> {
    await this.client?.endAsync();
  }

  /** Publishes one session event with QoS 1; resolves on the broker's PUBACK. */
  async publish(sessionId: string, step: SessionStep, payload: Record<string, unknown>, eventId: string = randomUUID()): Promise<string> {
    const type = step === 'created' ? 'weighvision.session.created' : step === 'finalized' ? 'weighvision.session.finalized' : 'weighvision.weight.recorded';
    const a = this.opts.address;
    const envelope = {
      schema_version: '1.0',
      event_id: eventId,
      trace_id: `trace-${sessionId}`,
      event_type: type,
      tenant_id: a.tenantId,
      device_id: a.deviceId,
      ts: new Date().toISOString(),
      payload,
    };
    await this.client!.publishAsync(weighVisionTopic(a, sessionId, step), JSON.stringify(envelope), { qos: 1 });
    return eventId;
  }

  async post<Route extends keyof MediaRoutes>(route: Route, body: unknown): Promise<MediaRoutes[Route]> {
    const res = await fetch(`${this.opts.httpBase}/api/v1/media/images/${route}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: this.authorization },
      body: JSON.stringify(body),
    });
    // The route's JSON, taken as the shape it documents; the tests assert on what matters.
    return { status: res.status, body: await res.json() } as MediaRoutes[Route];
  }

  /**
   * Asks for an upload URL. The station's PUBACK for `created` comes from the broker, possibly
   * before the bridge has started the session's workflow, so like a real station it retries a
   * `404 session_not_found` for a few seconds.
   */
  async presign(sessionId: string, image: StationImage, extra: object = {}, retryNotFoundMs = 5000): Promise<PresignAnswer> {
    const deadline = Date.now() + retryNotFoundMs;
    return retryUntil(() => this.post('presign', { session_id: sessionId, content_type: image.contentType, size_bytes: image.bytes.byteLength, ...extra }), {
      backoff: { firstMs: 20, maxMs: 500 },
      done: (answer) => answer.status !== 404 || answer.body.error?.code !== 'session_not_found' || Date.now() > deadline,
    });
  }

  /** PUTs the bytes to a presigned URL exactly as the answer says; returns the store's HTTP status. */
  async put(url: string, headers: Record<string, string>, bytes: Buffer): Promise<number> {
    const res = await fetch(url, { method: 'PUT', headers, body: bytes });
    await res.arrayBuffer();
    return res.status;
  }

  /**
   * The PUT as a station makes it: a store that failed on its own side (5xx; rclone now and then
   * answers 500 when uploads into one new prefix race) is tried again, twice; a 4xx is final.
   */
  async putImage(url: string, headers: Record<string, string>, bytes: Buffer): Promise<number> {
    let status = await this.put(url, headers, bytes);
    for (let attempt = 1; status >= 500 && attempt < 3; attempt++) {
      await new Promise((r) => setTimeout(r, 100 * attempt));
      status = await this.put(url, headers, bytes);
    }
    return status;
  }

  /** presign → PUT → complete; throws with the step and status when one is refused. */
  async upload(sessionId: string, image: StationImage, time: StepTimer = untimed): Promise<string> {
    const p = await time('presign', () => this.presign(sessionId, image));
    if (p.status !== 200) throw new Error(`presign answered ${p.status}: ${JSON.stringify(p.body)}`);
    const put = await time('put', () => this.putImage(p.body.upload_url, p.body.headers, image.bytes));
    if (put !== 200) throw new Error(`PUT answered ${put}`);
    const c = await time('complete', () => this.post('complete', { media_id: p.body.media_id }));
    if (c.status !== 200) throw new Error(`complete answered ${c.status}: ${JSON.stringify(c.body)}`);
    return p.body.media_id;
  }

  /**
   * A whole session as a station runs it: created, readings, the images uploaded at once,
   * finalized. Returns the media ids and the moment just before `finalized` was published.
   */
  async weigh(
    sessionId: string,
    readings: { kg: number; stable?: boolean }[],
    images: StationImage[],
    time: StepTimer = untimed,
  ): Promise<{ mediaIds: string[]; finalizedAt: number }> {
    await time('created', () => this.publish(sessionId, 'created', { batch_id: randomUUID() }));
    for (const r of readings) {
      await time('reading', () =>
        this.publish(sessionId, 'weight.recorded', r.stable === undefined ? { weight_kg: r.kg } : { weight_kg: r.kg, stable: r.stable }),
      );
    }
    const mediaIds = await Promise.all(images.map((img) => time('upload', () => this.upload(sessionId, img, time))));
    const finalizedAt = Date.now();
    await time('finalized', () => this.publish(sessionId, 'finalized', { image_count: images.length }));
    return { mediaIds, finalizedAt };
  }
}
