import { ConfigError, loadConfig } from '../config';
import { openDb } from './client';
import { migrate } from './migrate';

/**
 * `npm run db:migrate`: applies the committed migrations to DATABASE_URL, or to the embedded
 * PGlite under DATA_DIR when unset (stop a running embedded server first: PGlite admits one process).
 * The server migrates at start too; this is for deploys that migrate before starting new code.
 */
async function main(): Promise<void> {
  const config = loadConfig();
  const handle = await openDb({ databaseUrl: config.DATABASE_URL, dataDir: config.DATA_DIR, maxConnections: 1 });
  try {
    await migrate(handle);
  } finally {
    await handle.close();
  }
  process.stdout.write(`Migrations applied to ${config.DATABASE_URL ? 'DATABASE_URL' : `the embedded database in ${config.DATA_DIR}`}.\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(err instanceof ConfigError ? `${err.message}\n` : `Migration failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
