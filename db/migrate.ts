/**
 * Applies the versioned SQL migrations of one database (edge or cloud) with node-pg-migrate.
 * Safe to run any number of times: applied migrations are recorded in pgmigrations and skipped,
 * and a session advisory lock keeps two processes from migrating at once.
 *
 *   npm run migrate -- edge|cloud|all [--url postgres://...]
 */
import path from 'node:path';
import { Command } from 'commander';
import { settings } from '../config/settings';

export type DatabaseName = 'edge' | 'cloud';

export async function migrate(database: DatabaseName, databaseUrl: string, log: (msg: string) => void = () => {}): Promise<string[]> {
  // node-pg-migrate is published as an ES module only.
  const { runner } = await import('node-pg-migrate');
  const applied = await runner({
    databaseUrl,
    dir: path.join(__dirname, 'migrations', database),
    migrationsTable: 'pgmigrations',
    direction: 'up',
    count: Infinity,
    checkOrder: true,
    singleTransaction: true,
    verbose: false,
    log,
  });
  return applied.map((m) => m.name);
}

async function main(): Promise<void> {
  const program = new Command()
    .name('migrate')
    .argument('<database>', 'edge, cloud or all')
    .option('--url <url>', 'database URL (default: EDGE_DATABASE_URL / CLOUD_DATABASE_URL)')
    .parse();
  const which = program.args[0];
  if (which !== 'all' && which !== 'edge' && which !== 'cloud') throw new Error(`unknown database ${which}: use edge, cloud or all`);
  const url = program.opts<{ url?: string }>().url;
  const targets: DatabaseName[] = which === 'all' ? ['edge', 'cloud'] : [which];
  const s = settings();
  for (const t of targets) {
    const applied = await migrate(t, url ?? (t === 'edge' ? s.EDGE_DATABASE_URL : s.CLOUD_DATABASE_URL));
    console.log(`${t}: ${applied.length ? `applied ${applied.join(', ')}` : 'up to date'}`);
  }
}

if (require.main === module) {
  main().catch((err) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
