/**
 * cachedSessionDirectory: open sessions are remembered for the TTL (one describe() for a
 * station's six calls), sessions not there yet and closed ones are asked again, and a signal that
 * finds the session closed forgets it at once.
 */
import { cachedSessionDirectory, SessionDirectoryError, type SessionDirectory, type SessionInfo } from '../../weighvision/media/session-directory';
import type { StoredImage } from '../../weighvision/session-contract';

class CountingDirectory implements SessionDirectory {
  lookups = 0;
  sessions = new Map<string, SessionInfo>();
  closed = new Set<string>();
  async lookup(_tenantId: string, sessionId: string) {
    this.lookups += 1;
    return this.sessions.get(sessionId);
  }
  async imageStored(_tenantId: string, sessionId: string, _image: StoredImage) {
    if (this.closed.has(sessionId)) throw new SessionDirectoryError('session_not_open', `session ${sessionId} is closed`);
  }
  async close() {}
}

const at = { farmId: 'f', barnId: 'b', stationId: 's' };
const image: StoredImage = { mediaId: 'm', objectKey: 'k', contentType: 'image/jpeg', sizeBytes: 1, storedAt: '2026-01-01T00:00:00Z' };

test('an open session is looked up once within the TTL, and again after it', async () => {
  const inner = new CountingDirectory();
  inner.sessions.set('S1', { open: true, ...at });
  let now = 1_000;
  const spy = jest.spyOn(Date, 'now').mockImplementation(() => now);
  try {
    const cached = cachedSessionDirectory(inner, 5000);
    for (let i = 0; i < 6; i++) expect(await cached.lookup('T', 'S1')).toEqual({ open: true, ...at });
    expect(inner.lookups).toBe(1);
    now += 5001;
    await cached.lookup('T', 'S1');
    expect(inner.lookups).toBe(2);
  } finally {
    spy.mockRestore();
  }
});

test('a session not there yet, or closed, is not remembered', async () => {
  const inner = new CountingDirectory();
  const cached = cachedSessionDirectory(inner, 5000);
  expect(await cached.lookup('T', 'S2')).toBeUndefined();
  inner.sessions.set('S2', { open: true, ...at });
  expect(await cached.lookup('T', 'S2')).toEqual({ open: true, ...at });
  inner.sessions.set('S3', { open: false, ...at });
  await cached.lookup('T', 'S3');
  await cached.lookup('T', 'S3');
  expect(inner.lookups).toBe(4);
});

test('a signal that finds the session closed forgets it', async () => {
  const inner = new CountingDirectory();
  inner.sessions.set('S4', { open: true, ...at });
  const cached = cachedSessionDirectory(inner, 60_000);
  await cached.lookup('T', 'S4');
  inner.closed.add('S4');
  inner.sessions.set('S4', { open: false, ...at });
  await expect(cached.imageStored('T', 'S4', image)).rejects.toMatchObject({ code: 'session_not_open' });
  expect(await cached.lookup('T', 'S4')).toEqual({ open: false, ...at });
  expect(inner.lookups).toBe(2);
});

test('concurrent questions about one session make one lookup', async () => {
  const inner = new CountingDirectory();
  inner.sessions.set('S5', { open: true, ...at });
  const cached = cachedSessionDirectory(inner, 5000);
  const answers = await Promise.all([cached.lookup('T', 'S5'), cached.lookup('T', 'S5'), cached.lookup('t', 'S5')]);
  expect(answers).toEqual([
    { open: true, ...at },
    { open: true, ...at },
    { open: true, ...at },
  ]);
  expect(inner.lookups).toBe(1);
});
