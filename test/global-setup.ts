/** Creates (if missing) and migrates the test databases once per `npm test` run. */
import { Client } from 'pg';
import { migrate } from '../db/migrate';
import { testEdgeDatabaseUrl, testCloudDatabaseUrl } from './support/stack';

async function ensureDatabase(url: string): Promise<void> {
  const target = new URL(url);
  const name = target.pathname.slice(1);
  const admin = new URL(url);
  admin.pathname = '/postgres';
  const client = new Client({ connectionString: admin.toString() });
  await client.connect();
  try {
    const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (found.rowCount === 0) await client.query(`CREATE DATABASE "${name.replace(/"/g, '')}"`);
  } finally {
    await client.end();
  }
}

export default async function globalSetup(): Promise<void> {
  for (const [db, url] of [['edge', testEdgeDatabaseUrl], ['cloud', testCloudDatabaseUrl]] as const) {
    await ensureDatabase(url);
    await migrate(db, url);
  }
}
