/**
 * Applies the timestamped migrations in db/migrations/ (forward only). Safe to run from several nodes at
 * once: Kysely's Migrator holds a database lock while it works.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Kysely } from 'kysely';
import { FileMigrationProvider, Migrator } from 'kysely/migration';
import type { Logger } from '../logger.ts';

export const MIGRATIONS_DIR = fileURLToPath(new URL('../../db/migrations', import.meta.url));

/** Bring the schema to the latest migration. Throws (after logging) when a migration fails. */
export async function migrateToLatest(db: Kysely<any>, logger: Logger, schema = 'public'): Promise<string[]> {
  const migrator = new Migrator({
    db,
    provider: new FileMigrationProvider({ fs, path, migrationFolder: MIGRATIONS_DIR }),
    ...(schema !== 'public' ? { migrationTableSchema: schema } : {}),
  });
  const { error, results } = await migrator.migrateToLatest();
  const applied: string[] = [];
  for (const r of results ?? []) {
    if (r.status === 'Success') {
      applied.push(r.migrationName);
      logger.info({ migration: r.migrationName }, 'migration applied');
    } else if (r.status === 'Error') {
      logger.error({ migration: r.migrationName }, 'migration failed');
    }
  }
  if (error) throw error instanceof Error ? error : new Error(String(error));
  return applied;
}
