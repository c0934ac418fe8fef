/** `npm run migrate`: apply pending migrations to the configured database (PGlite or PostgreSQL). */
import { loadConfig } from '../src/config.ts';
import { createDb } from '../src/db/client.ts';
import { migrateToLatest } from '../src/db/migrate.ts';
import { createLogger } from '../src/logger.ts';

const config = loadConfig();
const logger = createLogger(config);
const db = await createDb(config, logger);
let exitCode = 0;
try {
  const applied = await migrateToLatest(db.db, logger, config.db.schema);
  logger.info({ count: applied.length }, applied.length ? 'database migrated' : 'database already up to date');
} catch (err) {
  logger.error({ err }, 'migration failed');
  exitCode = 1;
} finally {
  await db.close();
}
// Set after closing: the embedded database's runtime resets process.exitCode when it shuts down.
process.exit(exitCode);
