/**
 * `farmiq tokens`: dashboard tokens (JWTs signed with AUTH_JWT_SECRET, auth/tokens.ts) for an
 * existing, enabled user, with the tenant and role stored for them.
 */
import type { Command } from 'commander';
import { issueTokenForUser } from '../../auth/admin';
import { tokenConfig } from '../../auth/tokens';
import { isUuid } from '../../domain/contracts/identifiers';
import type { CliContext, CommandGroup } from '../context';
import { invalidInput } from '../errors';

function register(program: Command, ctx: CliContext): void {
  const tokens = program.command('tokens').description('dashboard tokens (JWT)');

  tokens
    .command('issue')
    .description("a token for a user, with the user's tenant and role; prints the token")
    .requiredOption('--user <uuid>', 'user id')
    .option('--expires-in <duration>', 'seconds or e.g. 15m, 1h (default AUTH_TOKEN_TTL, at most AUTH_TOKEN_MAX_TTL)')
    .action(async (o: { user: string; expiresIn?: string }) => {
      if (!isUuid(o.user)) throw invalidInput(`--user must be a user uuid, got "${o.user}"`);
      const expiresIn = o.expiresIn && /^\d+$/.test(o.expiresIn) ? Number(o.expiresIn) : o.expiresIn;
      const { token, user } = await ctx.cloud((pool) => issueTokenForUser(pool, o.user, tokenConfig(ctx.settings()), { expiresIn }));
      ctx.out.data({ token, user_id: user.id, tenant_id: user.tenantId, role: user.role }, (t) => t.token);
    });
}

export const group: CommandGroup = { name: 'tokens', register };
