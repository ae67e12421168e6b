/**
 * `farmiq edges`: the farm servers allowed to sync to the cloud (cloud database, edges and
 * edge_tenants, written only by cloud/edges.ts), and the cloud consumers' dead letters.
 *
 * `provision` creates missing tenants, generates the edge's Ed25519 key pair, stores the public
 * key and writes the private key to --key-out (mode 0600, never overwritten): the farm server's
 * EDGE_SIGNING_KEY_FILE.
 */
import fs from 'node:fs';
import type { Command } from 'commander';
import { listDeadLetters, listEdges, provisionEdge, revokeEdge, rotateEdgeKey } from '../../cloud/edges';
import type { CliContext, CommandGroup } from '../context';
import { conflict, invalidInput, notFound } from '../errors';
import { table } from '../output';

const collect = (value: string, previous: string[]) => [...previous, value];

function refuseExistingKeyFile(file: string): void {
  if (fs.existsSync(file)) throw conflict(`${file} exists; refusing to overwrite a key file`);
}

/** The private key for the farm server: owner-only, and never over an existing file. */
function writePrivateKey(file: string, pem: string): void {
  fs.writeFileSync(file, pem, { mode: 0o600, flag: 'wx' });
  fs.chmodSync(file, 0o600); // in case the umask widened it
}

function register(program: Command, ctx: CliContext): void {
  const edges = program.command('edges').description('farm servers allowed to sync to the cloud (cloud database, edges)');

  edges
    .command('provision')
    .description('register an edge with its tenants and a new key pair; writes the private key for the farm server')
    .requiredOption('--edge-id <id>', 'the edge id the farm server sends (its EDGE_ID)')
    .requiredOption('--tenant <uuid>', 'a tenant the edge may send events for (repeatable)', collect, [])
    .option('--name <name>', 'a human name, e.g. the farm')
    .requiredOption('--key-out <path>', "where to write the private key (PEM, mode 0600): the farm server's EDGE_SIGNING_KEY_FILE")
    .action(async (o: { edgeId: string; tenant: string[]; name?: string; keyOut: string }) => {
      refuseExistingKeyFile(o.keyOut);
      const added = await ctx.cloud((pool) => provisionEdge(pool, { edgeId: o.edgeId, tenants: o.tenant, name: o.name }));
      writePrivateKey(o.keyOut, added.privateKeyPem);
      ctx.out.note(`edge ${added.edgeId} provisioned for tenant(s) ${added.tenants.join(', ')}; private key written to ${o.keyOut}`);
      ctx.out.data({ edge_id: added.edgeId, key_id: added.keyId, tenants: added.tenants, key_file: o.keyOut }, (e) => e.key_id);
    });

  edges
    .command('list')
    .description('edges with their tenants and key ids')
    .action(async () => {
      const list = await ctx.cloud((pool) => listEdges(pool));
      const rows = list.map((e) => ({
        edge_id: e.edge_id,
        name: e.name,
        key_id: e.key_id,
        tenants: e.tenants,
        created_at: e.created_at,
        revoked_at: e.revoked_at,
      }));
      ctx.out.data(rows, (r) => table(r, 'no edges'));
    });

  edges
    .command('revoke')
    .description('refuse every request of this edge from now on')
    .argument('<edgeId>')
    .action(async (edgeId: string) => {
      const revoked = await ctx.cloud((pool) => revokeEdge(pool, edgeId));
      if (!revoked) throw notFound(`no active edge ${edgeId}`);
      ctx.out.data({ edge_id: edgeId, revoked: true }, () => `edge ${edgeId} revoked`);
    });

  edges
    .command('rotate-key')
    .description('replace the edge key pair (the old key stops working at once; also lifts a revocation)')
    .argument('<edgeId>')
    .requiredOption('--key-out <path>', 'where to write the new private key (PEM, mode 0600)')
    .action(async (edgeId: string, o: { keyOut: string }) => {
      refuseExistingKeyFile(o.keyOut);
      const key = await ctx.cloud((pool) => rotateEdgeKey(pool, edgeId));
      writePrivateKey(o.keyOut, key.privateKeyPem);
      ctx.out.note(`edge ${edgeId} has a new key; private key written to ${o.keyOut}`);
      ctx.out.data({ edge_id: edgeId, key_id: key.keyId, key_file: o.keyOut }, (k) => k.key_id);
    });

  edges
    .command('dead-letters')
    .description('messages the cloud consumers gave up on, newest first')
    .option('--limit <n>', 'at most this many (1-10000)', '50')
    .option('--queue <queue>', 'only this queue')
    .action(async (o: { limit: string; queue?: string }) => {
      const limit = Number(o.limit);
      if (!Number.isInteger(limit) || limit < 1 || limit > 10_000) throw invalidInput('--limit must be 1-10000');
      const rows = await ctx.cloud((pool) => listDeadLetters(pool, { limit, queue: o.queue }));
      ctx.out.data(rows, (r) =>
        table(
          r.map((x) => ({ ...x })),
          'no dead letters',
        ),
      );
    });
}

export const group: CommandGroup = { name: 'edges', register };
