/**
 * The shape cli/program.ts relies on: every file in cli/commands/ exports a `group` named after the
 * file, registering one top-level command of that name, and the groups load in name order. (The
 * imports are static so the typecheck and typed lint cover each command file.)
 */
import fs from 'node:fs';
import path from 'node:path';
import { Command } from 'commander';
import { main } from '../../cli/main';
import { CliContext } from '../../cli/context';
import { loadGroups } from '../../cli/program';
import { group as barns } from '../../cli/commands/barns';
import { group as config } from '../../cli/commands/config';
import { group as devices } from '../../cli/commands/devices';
import { group as edges } from '../../cli/commands/edges';
import { group as farms } from '../../cli/commands/farms';
import { group as flocks } from '../../cli/commands/flocks';
import { group as operators } from '../../cli/commands/operators';
import { group as replay } from '../../cli/commands/replay';
import { group as sync } from '../../cli/commands/sync';
import { group as tenants } from '../../cli/commands/tenants';
import { group as tokens } from '../../cli/commands/tokens';
import { group as users } from '../../cli/commands/users';

const known = [barns, config, devices, edges, farms, flocks, operators, replay, sync, tenants, tokens, users];

test('each command file registers one command named after the file', () => {
  for (const g of known) {
    const program = new Command();
    g.register(program, new CliContext(program));
    expect(program.commands.map((c) => c.name())).toEqual([g.name]);
  }
  const files = fs
    .readdirSync(path.join(__dirname, '..', '..', 'cli', 'commands'))
    .filter((f) => f.endsWith('.ts'))
    .map((f) => f.replace(/\.ts$/, ''))
    .sort();
  expect(loadGroups().map((g) => g.name)).toEqual(files);
  expect(files).toEqual(expect.arrayContaining(known.map((g) => g.name)));
});

test('main is importable without running a command line', () => {
  expect(typeof main).toBe('function');
});
