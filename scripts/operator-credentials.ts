/**
 * Operator credentials of the farm server's operator API (EDGE_HTTP_HOST:EDGE_HTTP_PORT: ingress
 * rejects, sync status and control, DLQ), straight in the edge database (table edge_operators):
 *
 *   npx tsx scripts/operator-credentials.ts add --name alice [--json]     prints a new token once
 *   npx tsx scripts/operator-credentials.ts add --name alice              again: a new token, the old one stops working
 *   npx tsx scripts/operator-credentials.ts list [--all] [--json]
 *   npx tsx scripts/operator-credentials.ts revoke <name>
 *
 * Use a token as `Authorization: Bearer <token>`. Only its SHA-256 is stored. Device credentials
 * (scripts/device-credentials.ts) are not accepted on the operator API, and operator tokens are
 * not accepted anywhere else. The database is EDGE_DATABASE_URL (or --url).
 */
import { Command } from 'commander';
import type { Pool } from 'pg';
import { settings } from '../config/settings';
import { createPool } from '../db/pool';
import { addOperator, listOperators, OperatorCredentialError, revokeOperator } from '../gateways/http/operator-credentials';

async function withPool<T>(url: string | undefined, work: (pool: Pool) => Promise<T>): Promise<T> {
  const pool = createPool(url ?? settings().EDGE_DATABASE_URL, { applicationName: 'farmiq-operator-credentials', max: 2 });
  try {
    return await work(pool);
  } finally {
    await pool.end();
  }
}

export function program(out: (line: string) => void = console.log, err: (line: string) => void = console.error): Command {
  const cli = new Command()
    .name('operator-credentials')
    .description('Tokens of the edge operator API (edge_operators)')
    .option('--url <url>', 'edge database URL (default: EDGE_DATABASE_URL)');
  const url = () => cli.opts<{ url?: string }>().url;

  cli
    .command('add')
    .description('create an operator, or give it a new token; prints the token once')
    .requiredOption('--name <name>', 'who or what holds the token (A-Z a-z 0-9 . _ @ -, up to 64)')
    .option('--json', 'print {"name","token"} as JSON')
    .action(async (o: { name: string; json?: boolean }) => {
      const cred = await withPool(url(), (pool) => addOperator(pool, { name: o.name }));
      if (o.json) {
        out(JSON.stringify(cred));
      } else {
        out(`name:  ${cred.name}`);
        out(`token: ${cred.token}`);
      }
      err('The token is shown only now; the edge database keeps only its hash. Send it as "Authorization: Bearer <token>".');
    });

  cli
    .command('list')
    .description('operators, with when their token was made and whether it is revoked')
    .option('--all', 'include revoked operators')
    .option('--json', 'print JSON')
    .action(async (o: { all?: boolean; json?: boolean }) => {
      const operators = await withPool(url(), (pool) => listOperators(pool, { includeRevoked: Boolean(o.all) }));
      if (o.json) {
        out(JSON.stringify(operators, null, 2));
        return;
      }
      if (operators.length === 0) {
        out('no operators');
        return;
      }
      for (const op of operators) {
        const state = op.revokedAt ? `revoked ${op.revokedAt.toISOString()}` : 'active';
        out(`${op.name}\tcreated ${op.createdAt.toISOString()}${op.rotatedAt ? `\tnew token ${op.rotatedAt.toISOString()}` : ''}\t${state}`);
      }
    });

  cli
    .command('revoke')
    .description('revoke an operator token; refused from the next request on')
    .argument('<name>')
    .action(async (name: string) => {
      const revoked = await withPool(url(), (pool) => revokeOperator(pool, name));
      if (!revoked) throw new OperatorCredentialError(`no active operator named ${JSON.stringify(name)}`);
      out(`revoked ${name}`);
    });

  return cli;
}

if (require.main === module) {
  program()
    .parseAsync()
    .catch((e: Error) => {
      console.error(`operator-credentials: ${e.message}`);
      process.exit(1);
    });
}
