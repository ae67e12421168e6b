/** Creates (if missing) and migrates the test databases once per `npm test` run. */
import { localSecretsPath } from '../config/local-secrets';
import { migrate } from '../db/migrate';
import { ensureDatabase } from './support/databases';
import { testEdgeDatabaseUrl, testCloudDatabaseUrl } from './support/stack';

export default async function globalSetup(): Promise<void> {
  for (const [db, url] of [
    ['edge', testEdgeDatabaseUrl],
    ['cloud', testCloudDatabaseUrl],
  ] as const) {
    try {
      await ensureDatabase(url);
    } catch (err) {
      // The suite logs in with this install's generated passwords, which `make services` gives the servers.
      if ((err as { code?: string }).code === '28P01') {
        throw new Error(
          `${(err as Error).message}: the tests use the passwords in ${localSecretsPath()}; run \`make services\` (or \`make test\`) on this checkout first`,
          { cause: err },
        );
      }
      throw err;
    }
    await migrate(db, url);
  }
}
