/**
 * A WeighVision station's session as the real iot-weighvision-agent runs it (spec §3): created
 * (naming the flock as batch_id), the scale's readings, each photo uploaded through the edge
 * media API (presign → PUT to the presigned URL → complete) with the station's own HTTP Basic
 * credentials, then finalized with the image count.
 */
import { pause, retryUntil } from '../platform/backoff';
import type { DeviceLinks } from './device-links';
import type { FarmDescription } from './farm-description';
import { deviceKey, type FarmState } from './farm-state';
import { renderPhoto } from './images';
import { sessionMessage } from './messages';
import type { Action } from './plan';
import { Draws } from './random';

type SessionAction = Extract<Action, { kind: 'session' }>;

const errorCode = (body: Record<string, unknown>) => (body.error as { code?: string } | undefined)?.code;

/** The farm server has concluded this session already (a re-played window): nothing more to add. */
export class SessionAlreadyClosed extends Error {}

export class StationClient {
  constructor(
    private readonly links: DeviceLinks,
    private readonly state: FarmState,
    /** The edge's station listener, e.g. http://127.0.0.1:8081. */
    private readonly httpBase: string,
    private readonly seed: number,
  ) {}

  private get farm(): FarmDescription {
    return this.state.farm;
  }

  private authorization(a: SessionAction): string {
    const c = this.state.credentials[deviceKey(a.barnId, a.deviceId)];
    return `Basic ${Buffer.from(`${c.username}:${c.password}`).toString('base64')}`;
  }

  private async post(a: SessionAction, route: 'presign' | 'complete', body: object): Promise<{ status: number; body: Record<string, unknown> }> {
    const res = await fetch(`${this.httpBase}/api/v1/media/images/${route}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: this.authorization(a) },
      body: JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  }

  /** presign → PUT → complete for one photo; throws naming the step that was refused. */
  private async upload(a: SessionAction, bytes: Buffer): Promise<void> {
    // The broker's PUBACK for `created` can come before the bridge started the session: retry 404 for a while.
    const deadline = Date.now() + 10_000;
    const presign = await retryUntil(() => this.post(a, 'presign', { session_id: a.sessionId, content_type: 'image/jpeg', size_bytes: bytes.byteLength }), {
      backoff: { firstMs: 50, maxMs: 1000 },
      done: (r) => r.status !== 404 || Date.now() > deadline,
    });
    if (presign.status === 409) throw new SessionAlreadyClosed(`session ${a.sessionId} is closed on the farm server`);
    if (presign.status !== 200) throw new Error(`presign for ${a.sessionId} answered ${presign.status}: ${JSON.stringify(presign.body)}`);
    const { upload_url: url, headers, media_id: mediaId } = presign.body as { upload_url: string; headers: Record<string, string>; media_id: string };
    let put = 0;
    // The store failing on its own side (5xx) is tried again twice; a 4xx is final.
    for (let attempt = 0; attempt < 3 && (put === 0 || put >= 500); attempt++) {
      const res = await fetch(url, { method: 'PUT', headers, body: bytes });
      await res.arrayBuffer();
      put = res.status;
    }
    if (put !== 200) throw new Error(`PUT of ${a.sessionId}'s photo answered ${put}`);
    // The store answering 5xx, or not yet listing the object just PUT (409 object_missing), is asked again.
    let complete = await this.post(a, 'complete', { media_id: mediaId });
    for (let attempt = 1; attempt < 4 && (complete.status >= 500 || errorCode(complete.body) === 'object_missing'); attempt++) {
      await pause(200 * attempt);
      complete = await this.post(a, 'complete', { media_id: mediaId });
    }
    if (complete.status !== 200) throw new Error(`complete for ${a.sessionId} answered ${complete.status}: ${JSON.stringify(complete.body)}`);
  }

  private async send(a: SessionAction, step: Parameters<typeof sessionMessage>[2], index: number, payload: object): Promise<void> {
    const m = sessionMessage(this.farm, a, step, index, payload);
    await this.links.publish(a.barnId, a.deviceId, m.topic, m.body);
  }

  /** Runs the session; returns the number of photos stored, or `closed` when the farm server had concluded it before. */
  async weigh(a: SessionAction): Promise<number | 'closed'> {
    try {
      return await this.play(a);
    } catch (err) {
      if (err instanceof SessionAlreadyClosed) return 'closed';
      throw err;
    }
  }

  private async play(a: SessionAction): Promise<number> {
    const w = a.weighing;
    await this.send(a, 'created', 0, { batch_id: a.flockId });
    for (const [i, r] of w.readings.entries()) await this.send(a, 'weight.recorded', i + 1, { weight_kg: r.kg, stable: r.stable });
    for (let i = 0; i < w.images; i++) {
      const d = new Draws(this.seed, `${a.sessionId}/photo/${i}`);
      const bytes = await renderPhoto({ species: a.species, weightKg: w.weightKg, photoCase: w.photoCase, otherWeightKg: w.otherWeightKg }, d);
      await this.upload(a, bytes);
    }
    await this.send(a, 'finalized', w.readings.length + 1, { image_count: w.images });
    return w.images;
  }
}
