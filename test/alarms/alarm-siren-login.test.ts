/**
 * The edge worker's broker login for the sirens (alarms/local-channels/mqtt-siren.ts,
 * gateways/mqtt-bridge/broker/render.ts): its own username, a password derived from the bridge's
 * (stable, and not the bridge's), written into the password file with an ACL that lets it write
 * the siren topics and nothing else; the bridge may read them (a relay on the farm server).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Pool } from 'pg';
import { alarmPublisherLogin, sirenTopic } from '../../alarms/local-channels/mqtt-siren';
import { writeBrokerAuthFiles } from '../../gateways/mqtt-bridge/broker/render';
import { edgeTestDatabaseUrl, openSyncTestDatabase } from '../activities/sync-db';

let pool: Pool;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'farmiq-alarm-login-'));

beforeAll(async () => {
  pool = await openSyncTestDatabase('alarm-login-test', edgeTestDatabaseUrl('alarm_cmd'));
});
afterAll(async () => {
  await pool?.end();
  fs.rmSync(dir, { recursive: true, force: true });
});

test('the siren login: derived password, its own passwd line, write on the siren topics only', async () => {
  const s = { MQTT_ALARM_USERNAME: 'farmiq-alarms', MQTT_BRIDGE_PASSWORD: 'bridge-secret-of-this-farm' };
  const login = alarmPublisherLogin(s);
  expect(login.username).toBe('farmiq-alarms');
  expect(login.password).not.toContain(s.MQTT_BRIDGE_PASSWORD);
  expect(login.password.length).toBeGreaterThanOrEqual(40);
  expect(alarmPublisherLogin(s)).toEqual(login);
  expect(alarmPublisherLogin({ ...s, MQTT_BRIDGE_PASSWORD: 'another-farm' }).password).not.toBe(login.password);

  const files = { passwordFile: path.join(dir, 'passwd'), aclFile: path.join(dir, 'acl') };
  await writeBrokerAuthFiles(pool, { ...files, bridgeUsername: 'farmiq-bridge', bridgePassword: s.MQTT_BRIDGE_PASSWORD, alarmPublisher: login });
  expect(fs.readFileSync(files.passwordFile, 'utf8')).toMatch(/^farmiq-alarms:\$7\$/m);
  const acl = fs.readFileSync(files.aclFile, 'utf8');
  const section = acl.slice(acl.indexOf('user farmiq-alarms')).split('\n').filter(Boolean);
  expect(section).toEqual(['user farmiq-alarms', 'topic write farmiq/+/+/+/alarm/siren']);
  const bridge = acl.slice(acl.indexOf('user farmiq-bridge'), acl.indexOf('# Devices publish'));
  expect(bridge).toContain('topic read farmiq/+/+/+/alarm/siren');
  expect(sirenTopic({ tenantId: 'AB6C1A8E-0000-4000-8000-000000000001', farmId: 'farm-1' })).toBe(
    'farmiq/ab6c1a8e-0000-4000-8000-000000000001/farm-1/_farm/alarm/siren',
  );

  await expect(writeBrokerAuthFiles(pool, { ...files, bridgeUsername: 'farmiq-alarms', bridgePassword: 'x', alarmPublisher: login })).rejects.toThrow(
    /clashes/,
  );
});
