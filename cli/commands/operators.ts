/**
 * `farmiq operators`: tokens of the farm server's operator API (EDGE_HTTP_HOST:EDGE_HTTP_PORT:
 * ingress rejects, sync status and control, DLQ, flocks), in the edge database (edge_operators,
 * written only by gateways/http/operator-credentials.ts). Send a token as
 * `Authorization: Bearer <token>`; only its SHA-256 is stored.
 */
import type { Command } from 'commander';
import { addOperator, listOperators, OperatorCredentialError, revokeOperator } from '../../gateways/http/operator-credentials';
import type { CliContext, CommandGroup } from '../context';
import { invalidInput, notFound } from '../errors';
import { table } from '../output';

function register(program: Command, ctx: CliContext): void {
  const operators = program.command('operators').description('tokens of the edge operator API (edge database, edge_operators)');

  operators
    .command('add')
    .description('create an operator, or give it a new token (the old one stops working); prints the token once')
    .requiredOption('--name <name>', 'who or what holds the token (A-Z a-z 0-9 . _ @ -, up to 64)')
    .action(async (o: { name: string }) => {
      const cred = await ctx
        .edge((pool) => addOperator(pool, { name: o.name }))
        .catch((e: unknown) => {
          throw e instanceof OperatorCredentialError ? invalidInput(e.message) : e;
        });
      ctx.out.data({ name: cred.name, token: cred.token }, (c) => `name:  ${c.name}\ntoken: ${c.token}`);
      ctx.out.note('The token is shown only now; the edge database keeps only its hash. Send it as "Authorization: Bearer <token>".');
    });

  operators
    .command('list')
    .description('operators, with when their token was made and whether it is revoked')
    .option('--all', 'include revoked operators')
    .action(async (o: { all?: boolean }) => {
      const list = await ctx.edge((pool) => listOperators(pool, { includeRevoked: Boolean(o.all) }));
      const rows = list.map((op) => ({ name: op.name, created_at: op.createdAt, rotated_at: op.rotatedAt, revoked_at: op.revokedAt }));
      ctx.out.data(rows, (r) => table(r, 'no operators'));
    });

  operators
    .command('revoke')
    .description('revoke an operator token; refused from the next request on')
    .argument('<name>')
    .action(async (name: string) => {
      const revoked = await ctx.edge((pool) => revokeOperator(pool, name));
      if (!revoked) throw notFound(`no active operator named ${JSON.stringify(name)}`);
      ctx.out.data({ name, revoked: true }, () => `revoked ${name}`);
    });
}

export const group: CommandGroup = { name: 'operators', register };
