/** The simulator's settings: defaults from the edge's own, overrides, and a refusal that names the setting. */
import path from 'node:path';
import { repoRoot } from '../../config/local-secrets';
import { loadSettings } from '../../config/settings';
import { simulatorSettings } from '../../simulator';

const edge = { FARMIQ_HOME: '/srv/farmiq', MQTT_URL: 'mqtt://10.0.0.5:1883', EDGE_STATION_HTTP_HOST: '0.0.0.0', EDGE_STATION_HTTP_PORT: '9081' };
const load = (env: Record<string, string> = {}) => simulatorSettings(loadSettings({ ...edge, ...env }, { localSecrets: false }));

describe('simulator settings', () => {
  it('default to the demo farm, the state under FARMIQ_HOME and the edge station listener', () => {
    expect(load()).toEqual({
      farmFile: path.join(repoRoot, 'demo/farm.json'),
      stateFile: '/srv/farmiq/simulator/state.json',
      seed: 1,
      healthPort: 8106,
      // A wildcard bind is reached on loopback.
      stationUrl: 'http://127.0.0.1:9081',
      mqttUrl: 'mqtt://10.0.0.5:1883',
    });
  });

  it('take overrides', () => {
    const s = load({
      SIMULATOR_FARM_FILE: '/etc/farm.json',
      SIMULATOR_STATE_FILE: '/tmp/state.json',
      SIMULATOR_SEED: '42',
      SIMULATOR_HEALTH_PORT: '9106',
      SIMULATOR_STATION_URL: 'http://farm-server.lan:8081',
    });
    expect([s.farmFile, s.stateFile, s.seed, s.healthPort, s.stationUrl]).toEqual([
      '/etc/farm.json',
      '/tmp/state.json',
      42,
      9106,
      'http://farm-server.lan:8081',
    ]);
  });

  it('refuse a bad value naming it', () => {
    expect(() => load({ SIMULATOR_SEED: '-1' })).toThrow(/SIMULATOR_SEED/);
    expect(() => load({ SIMULATOR_STATION_URL: 'not a url' })).toThrow(/SIMULATOR_STATION_URL/);
  });
});
