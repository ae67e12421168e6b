/** mosquitto_passwd hashes verified in Node, against hashes made by the installed mosquitto_passwd. */
import { hashPassword } from '../../gateways/mqtt-bridge/broker/credentials';
import { parseBasicAuth, verifyMosquittoPassword } from '../../gateways/http/device-auth';

it('verifies the $7$ (PBKDF2-SHA512) hashes the registry stores', async () => {
  const hash = await hashPassword('station-1', 'correct horse');
  expect(hash).toMatch(/^\$7\$\d+\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/);
  expect(verifyMosquittoPassword('correct horse', hash)).toBe(true);
  expect(verifyMosquittoPassword('correct horsE', hash)).toBe(false);
  expect(verifyMosquittoPassword('', hash)).toBe(false);
  // Another iteration count or salt is another hash.
  const [, , iterations, salt, digest] = hash.split('$');
  expect(verifyMosquittoPassword('correct horse', `$7$${Number(iterations) + 1}$${salt}$${digest}`)).toBe(false);
});

it('verifies the legacy $6$ (salted SHA-512) format and rejects anything else', () => {
  // mosquitto_passwd -H sha512 -b file u secret-pass
  const legacy = '$6$IYeWB5R29G7HWTps$DXJl+opUJY9y5DzMZrYn3R6cIGB4A6WlV00z3inaossAysPCPXhohIMbGF7EyZXjP1z/GkX++TsKWqq0YOxxXQ==';
  expect(verifyMosquittoPassword('secret-pass', legacy)).toBe(true);
  expect(verifyMosquittoPassword('secret-pasS', legacy)).toBe(false);
  expect(verifyMosquittoPassword('secret-pass', 'secret-pass')).toBe(false);
  expect(verifyMosquittoPassword('x', '$7$0$AAAA$AAAA')).toBe(false);
  expect(verifyMosquittoPassword('x', '$7$101$not base64!$AAAA')).toBe(false);
  expect(verifyMosquittoPassword('x', '$2b$10$abc')).toBe(false);
});

it('reads HTTP Basic credentials, passwords with colons included', () => {
  const header = `Basic ${Buffer.from('t/f/b/d:pa:ss').toString('base64')}`;
  expect(parseBasicAuth(header)).toEqual({ username: 't/f/b/d', password: 'pa:ss' });
  expect(parseBasicAuth('Bearer x')).toBeUndefined();
  expect(parseBasicAuth(`Basic ${Buffer.from('nocolon').toString('base64')}`)).toBeUndefined();
  expect(parseBasicAuth(undefined)).toBeUndefined();
});
