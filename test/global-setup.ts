/** Creates (if missing) and migrates the test databases once per `npm test` run. */
import { migrate } from '../db/migrate';
import { ensureDatabase } from './support/databases';
import { testEdgeDatabaseUrl, testCloudDatabaseUrl } from './support/stack';

export default async function globalSetup(): Promise<void> {
  for (const [db, url] of [['edge', testEdgeDatabaseUrl], ['cloud', testCloudDatabaseUrl]] as const) {
    await ensureDatabase(url);
    await migrate(db, url);
  }
}
