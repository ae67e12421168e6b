/**
 * The `farmiq` root command. Each command group is one file in cli/commands/ exporting `group`
 * (a CommandGroup): adding a group is adding that file, nothing else.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Command } from 'commander';
import { CliContext, type CommandGroup } from './context';

const commandsDir = path.join(__dirname, 'commands');

function isGroup(value: unknown): value is CommandGroup {
  const g = value as Partial<CommandGroup> | undefined;
  return typeof g?.name === 'string' && typeof g.register === 'function';
}

/** The groups in cli/commands/, by name (source files under tsx, compiled ones under dist/). */
export function loadGroups(dir = commandsDir): CommandGroup[] {
  const files = fs.readdirSync(dir).filter((f) => /\.(ts|js)$/.test(f) && !f.endsWith('.d.ts'));
  const groups = files.map((f) => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- groups are found on disk, so adding one is one file
    const mod = require(path.join(dir, f)) as { group?: unknown };
    if (!isGroup(mod.group)) throw new Error(`cli/commands/${f} exports no command group`);
    return mod.group;
  });
  return groups.sort((a, b) => a.name.localeCompare(b.name));
}

export function buildProgram(): { program: Command; ctx: CliContext } {
  const program = new Command()
    .name('farmiq')
    .description('FarmIQ operator command line: devices, edges, tenants, farms and flocks, sync, replay, configuration')
    .option('--json', 'print data as JSON (stable snake_case fields) and no progress bars')
    .option('--edge-url <url>', 'edge database URL (default EDGE_DATABASE_URL)')
    .option('--cloud-url <url>', 'cloud database URL, owner role (default CLOUD_DATABASE_URL)')
    .configureHelp({ showGlobalOptions: true })
    .showHelpAfterError('(add --help for usage)')
    .addHelpText('after', '\nEvery command takes --help. Errors: one line on stderr, exit status 1 (FARMIQ_DEBUG=1 shows the stack).');
  const ctx = new CliContext(program);
  for (const g of loadGroups()) g.register(program, ctx);
  return { program, ctx };
}
