/** Helpers of the media tests: small real images, a fake session directory, the app on a port. */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import zlib from 'node:zlib';
import type { Express } from 'express';
import { SessionDirectoryError, type SessionDirectory, type SessionInfo } from '../../weighvision/media/session-directory';
import type { StoredImage } from '../../weighvision/session-contract';

function chunk(type: string, data: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(zlib.crc32(body));
  return Buffer.concat([len, body, crc]);
}

/** A valid PNG of width × height grey pixels. */
export function tinyPng(width = 4, height = 4, grey = 128): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 0; // greyscale
  const rows = Buffer.alloc((width + 1) * height, grey);
  for (let y = 0; y < height; y++) rows[y * (width + 1)] = 0; // filter: none
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', zlib.deflateSync(rows)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/**
 * Bytes shaped like a JPEG (SOI, a JFIF APP0, EOI) with a distinct filler, so each test uploads
 * different content. The object store does not decode images; the inference tests use real ones.
 */
export function jpegLike(seed: number, size = 1200): Buffer {
  const head = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46, 0x00, 0x01, 0x01, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00]);
  const body = Buffer.alloc(size - head.length - 2);
  for (let i = 0; i < body.length; i++) body[i] = (seed * 31 + i * 7) % 251;
  return Buffer.concat([head, body, Buffer.from([0xff, 0xd9])]);
}

interface Signalled {
  tenantId: string;
  sessionId: string;
  image: StoredImage;
}

/** Sessions kept in memory: open, close, and every imageStored signal as it came. */
export class FakeSessions implements SessionDirectory {
  readonly signals: Signalled[] = [];
  private readonly sessions = new Map<string, SessionInfo>();

  private key(tenantId: string, sessionId: string) {
    return `${tenantId.toLowerCase()}|${sessionId}`;
  }

  open(tenantId: string, sessionId: string, at: { farmId: string; barnId: string; stationId: string }): void {
    this.sessions.set(this.key(tenantId, sessionId), { open: true, ...at });
  }

  closeSession(tenantId: string, sessionId: string): void {
    const s = this.sessions.get(this.key(tenantId, sessionId));
    if (s) s.open = false;
  }

  signalsFor(mediaId: string): Signalled[] {
    return this.signals.filter((s) => s.image.mediaId === mediaId);
  }

  async lookup(tenantId: string, sessionId: string): Promise<SessionInfo | undefined> {
    const s = this.sessions.get(this.key(tenantId, sessionId));
    return s && { ...s };
  }

  async imageStored(tenantId: string, sessionId: string, image: StoredImage): Promise<void> {
    if (!this.sessions.get(this.key(tenantId, sessionId))?.open) throw new SessionDirectoryError('session_not_open', `session ${sessionId} is closed`);
    this.signals.push({ tenantId, sessionId, image });
  }

  async close(): Promise<void> {}
}

export async function listen(app: Express): Promise<{ server: http.Server; base: string }> {
  const server = http.createServer(app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return { server, base: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

export function basicAuth(username: string, password: string): string {
  return `Basic ${Buffer.from(`${username}:${password}`, 'utf8').toString('base64')}`;
}
