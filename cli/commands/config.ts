/**
 * `farmiq config check`: reads the configuration the way every FarmIQ process does at start-up
 * (config/settings.ts, FARMIQ_CONFIG): exit 0 with a one-line summary, or 1 with the error that
 * names each offending setting (never a value). farmiq-s3.service runs it before rclone, which
 * reads the secrets without checking them; run it after editing /etc/farmiq/edge.env.
 */
import type { Command } from 'commander';
import { isProductionMode } from '../../config/settings';
import type { CliContext, CommandGroup } from '../context';
import { CliError } from '../errors';

function register(program: Command, ctx: CliContext): void {
  const config = program.command('config').description('the configuration every process reads (config/settings.ts)');

  config
    .command('check')
    .description('check the configuration (FARMIQ_CONFIG and the environment) as a process would at start-up')
    .action(() => {
      let role: string;
      try {
        role = ctx.settings().FARMIQ_ROLE;
      } catch (err) {
        throw new CliError('invalid_input', (err as Error).message, 1, { cause: err });
      }
      const production = isProductionMode(process.env);
      ctx.out.data(
        { ok: true, production, role, config_file: process.env.FARMIQ_CONFIG || null },
        (r) => `configuration ok: ${r.production ? `production mode, FARMIQ_ROLE=${r.role}` : 'development mode (secrets are not checked)'}`,
      );
    });
}

export const group: CommandGroup = { name: 'config', register };
