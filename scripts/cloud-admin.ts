/**
 * Cloud administration: the edges (farm servers) allowed to sync, and the dead letters.
 *
 *   npx tsx scripts/cloud-admin.ts edge add --edge-id E --tenant T [--tenant T2] [--name N] --key-out edge.pem
 *   npx tsx scripts/cloud-admin.ts edge rotate-key E --key-out edge.pem
 *   npx tsx scripts/cloud-admin.ts edge revoke E
 *   npx tsx scripts/cloud-admin.ts edge list [--json]
 *   npx tsx scripts/cloud-admin.ts dead-letters list [--limit 50] [--queue Q] [--json]
 *
 * `edge add` creates missing tenants, generates the edge's Ed25519 key pair, stores the public key
 * and writes the private key to --key-out (mode 0600, never overwritten); copy that file to the
 * farm server. Settings: CLOUD_DATABASE_URL (or --url).
 */
import fs from 'node:fs';
import { Command } from 'commander';
import { Pool } from 'pg';
import { settings } from '../config/settings';
import { listDeadLetters, listEdges, provisionEdge, revokeEdge, rotateEdgeKey } from '../cloud/edges';

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

async function withPool<T>(url: string | undefined, fn: (pool: Pool) => Promise<T>): Promise<T> {
  const pool = new Pool({ connectionString: url ?? settings().CLOUD_DATABASE_URL, max: 2, connectionTimeoutMillis: 5000 });
  try {
    return await fn(pool);
  } finally {
    await pool.end();
  }
}

/** Writes the private key for the farm server: owner-only, and never over an existing file. */
function writePrivateKey(file: string, pem: string): void {
  fs.writeFileSync(file, pem, { mode: 0o600, flag: 'wx' });
  fs.chmodSync(file, 0o600); // in case the umask widened it
}

/** What the listings hold: printed as-is, dates as ISO, arrays comma-joined, null as '-'. */
type TableCell = string | number | boolean | Date | readonly string[] | null | undefined;

function table(rows: Record<string, TableCell>[]): void {
  if (rows.length === 0) {
    console.log('(none)');
    return;
  }
  const cols = Object.keys(rows[0]);
  const text = (v: TableCell) => (v instanceof Date ? v.toISOString() : Array.isArray(v) ? v.join(',') : v === null || v === undefined ? '-' : String(v));
  const widths = cols.map((c) => Math.max(c.length, ...rows.map((r) => text(r[c]).length)));
  console.log(cols.map((c, i) => c.padEnd(widths[i])).join('  '));
  for (const r of rows) console.log(cols.map((c, i) => text(r[c]).padEnd(widths[i])).join('  '));
}

export function buildProgram(): Command {
  const program = new Command()
    .name('cloud-admin')
    .description('FarmIQ cloud administration')
    .option('--url <url>', 'cloud database URL (default CLOUD_DATABASE_URL)');
  const url = () => program.opts<{ url?: string }>().url;

  const edge = program.command('edge').description('edges (farm servers) allowed to sync events');
  edge
    .command('add')
    .description('register an edge with its tenants and a new key pair')
    .requiredOption('--edge-id <id>', 'the edge id the farm server sends (EDGE_ID)')
    .requiredOption('--tenant <uuid>', 'a tenant the edge may send events for (repeatable)', collect, [])
    .option('--name <name>', 'a human name, e.g. the farm')
    .requiredOption('--key-out <path>', 'where to write the private key (PEM, mode 0600)')
    .action(async (o: { edgeId: string; tenant: string[]; name?: string; keyOut: string }) => {
      if (fs.existsSync(o.keyOut)) throw new Error(`${o.keyOut} exists; refusing to overwrite a key file`);
      const added = await withPool(url(), (pool) => provisionEdge(pool, { edgeId: o.edgeId, tenants: o.tenant, name: o.name }));
      writePrivateKey(o.keyOut, added.privateKeyPem);
      console.error(`edge ${added.edgeId} added for tenant(s) ${added.tenants.join(', ')}; private key written to ${o.keyOut}`);
      console.log(added.keyId);
    });

  edge
    .command('rotate-key <edgeId>')
    .description('replace the edge key pair (the old key stops working at once)')
    .requiredOption('--key-out <path>', 'where to write the new private key (PEM, mode 0600)')
    .action(async (edgeId: string, o: { keyOut: string }) => {
      if (fs.existsSync(o.keyOut)) throw new Error(`${o.keyOut} exists; refusing to overwrite a key file`);
      const key = await withPool(url(), (pool) => rotateEdgeKey(pool, edgeId));
      writePrivateKey(o.keyOut, key.privateKeyPem);
      console.error(`edge ${edgeId} has a new key; private key written to ${o.keyOut}`);
      console.log(key.keyId);
    });

  edge
    .command('revoke <edgeId>')
    .description('refuse every request of this edge from now on')
    .action(async (edgeId: string) => {
      const revoked = await withPool(url(), (pool) => revokeEdge(pool, edgeId));
      if (!revoked) throw new Error(`no active edge ${edgeId}`);
      console.error(`edge ${edgeId} revoked`);
    });

  edge
    .command('list')
    .option('--json', 'print JSON')
    .action(async (o: { json?: boolean }) => {
      const edges = await withPool(url(), (pool) => listEdges(pool));
      if (o.json) console.log(JSON.stringify(edges, null, 2));
      else
        table(
          edges.map((e) => ({ edge_id: e.edge_id, key_id: e.key_id, name: e.name, tenants: e.tenants, created_at: e.created_at, revoked_at: e.revoked_at })),
        );
    });

  const dead = program.command('dead-letters').description('messages the consumers gave up on');
  dead
    .command('list')
    .option('--limit <n>', 'newest first, at most this many', (v) => Number.parseInt(v, 10), 50)
    .option('--queue <queue>', 'only this queue')
    .option('--json', 'print JSON')
    .action(async (o: { limit: number; queue?: string; json?: boolean }) => {
      if (!Number.isInteger(o.limit) || o.limit < 1 || o.limit > 10_000) throw new Error('--limit must be 1..10000');
      const rows = await withPool(url(), (pool) => listDeadLetters(pool, { limit: o.limit, queue: o.queue }));
      if (o.json) console.log(JSON.stringify(rows, null, 2));
      else table(rows.map((r) => ({ ...r })));
    });

  return program;
}

if (require.main === module) {
  buildProgram()
    .parseAsync()
    .catch((err: Error) => {
      console.error(err.message);
      process.exit(1);
    });
}
