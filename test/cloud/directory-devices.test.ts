/**
 * The cloud's device list and the farm server's provisioning agree: the same device kinds, and the
 * command the directory API returns (cloud/device-directory.ts provisioningCommand) is one the
 * farm server's `farmiq devices add` parses to the same device.
 */
import { Command } from 'commander';
import { deviceKinds as cloudKinds, provisioningCommand, revocationCommand } from '../../cloud/device-directory';
import { group as devicesGroup } from '../../cli/commands/devices';
import type { CliContext } from '../../cli/context';
import { defaultUsername, deviceKinds as farmServerKinds } from '../../gateways/mqtt-bridge/broker/credentials';

const device = {
  tenantId: '0f5e2a44-8d0b-4c55-9d3e-0a6f0c1b2d3e',
  farmId: 'farm-1',
  barnId: 'house:2',
  deviceId: 'temp.01',
  kind: 'mortality-counter' as const,
};

/** The parsed options of `farmiq devices add …` (the action is replaced; nothing runs). */
function parseAdd(argv: string[]): Record<string, unknown> {
  const program = new Command().exitOverride();
  devicesGroup.register(program, {} as CliContext);
  const add = program.commands.find((c) => c.name() === 'devices')?.commands.find((c) => c.name() === 'add');
  if (!add) throw new Error('no `devices add` command');
  let parsed: Record<string, unknown> = {};
  add.action((opts: Record<string, unknown>) => {
    parsed = opts;
  });
  program.parse(argv, { from: 'user' });
  return parsed;
}

test('the cloud lists the device kinds the farm server provisions', () => {
  expect([...cloudKinds].sort()).toEqual([...farmServerKinds].sort());
});

test('the provisioning command is `farmiq devices add` for exactly this device', () => {
  const command = provisioningCommand(device);
  const [bin, ...argv] = command.split(' ');
  expect(bin).toBe('farmiq');
  expect(parseAdd(argv)).toMatchObject({ tenant: device.tenantId, farm: device.farmId, barn: device.barnId, device: device.deviceId, kind: device.kind });
});

test('the revocation command names the device’s default MQTT username', () => {
  expect(revocationCommand(device)).toBe(`farmiq devices revoke ${defaultUsername(device)}`);
});
