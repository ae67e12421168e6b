/**
 * EDGE_FARM_TIME_ZONE decides which local day a death or a cull belongs to on the farm server
 * (flocks/head-count.ts farmDayOf), so a misspelt zone must stop the process at start rather than
 * silently count days in UTC.
 */
import { ConfigError, loadSettings } from '../../config/settings';

describe('EDGE_FARM_TIME_ZONE', () => {
  it('defaults to UTC and takes an IANA zone', () => {
    expect(loadSettings({}, { localSecrets: false }).EDGE_FARM_TIME_ZONE).toBe('UTC');
    expect(loadSettings({ EDGE_FARM_TIME_ZONE: 'Asia/Bangkok' }, { localSecrets: false }).EDGE_FARM_TIME_ZONE).toBe('Asia/Bangkok');
  });

  it('refuses a name that is no time zone, naming the setting', () => {
    let thrown: unknown;
    try {
      loadSettings({ EDGE_FARM_TIME_ZONE: 'Mars/Olympus' }, { localSecrets: false });
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(ConfigError);
    expect((thrown as Error).message).toContain('EDGE_FARM_TIME_ZONE');
  });
});
