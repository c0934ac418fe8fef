/**
 * Database connection: a `pg` pool when DATABASE_URL is set, otherwise embedded PGlite persisted under
 * DATA_DIR. Both speak PostgreSQL, so the same migrations and queries run on either.
 */
import { mkdirSync } from 'node:fs';
import { Kysely, PostgresDialect, sql, type LogEvent } from 'kysely';
import pg from 'pg';
import type { Config } from '../config.ts';
import type { Logger } from '../logger.ts';
import type { Database } from './database.ts';
import { withSchemaIntrospection } from './introspection.ts';

export interface DbHandle {
  readonly db: Kysely<Database>;
  readonly kind: 'postgres' | 'pglite';
  /** Cheap liveness probe for /readyz. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

// int8 (counts, sums) as JS numbers, as PGlite returns them; our values stay far below 2^53.
const pgTypes = {
  getTypeParser: (oid: number, format?: 'text' | 'binary') =>
    oid === 20 ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format as 'text'),
};

/** Open the database described by config. Creates DATABASE_SCHEMA when it does not exist. */
export async function createDb(config: Pick<Config, 'db'>, logger: Logger): Promise<DbHandle> {
  const log = logger.child({ subsystem: 'db' });
  const slowMs = 200;
  const onLog = (e: LogEvent) => {
    // Failed queries propagate to the caller, which decides whether they are errors (a unique violation
    // usually is not). Parameters are never logged: they carry user data and password hashes.
    if (e.level === 'error') {
      const err = e.error as { code?: string; message?: string };
      log.debug({ code: err?.code, message: err?.message, sql: e.query.sql, ms: e.queryDurationMillis }, 'query failed');
    }
    else if (e.queryDurationMillis > slowMs) log.warn({ sql: e.query.sql, ms: e.queryDurationMillis }, 'slow query');
  };

  if (config.db.url) {
    const schema = config.db.schema;
    const pool = new pg.Pool({
      connectionString: config.db.url,
      max: config.db.poolMax,
      types: pgTypes,
      ...(schema !== 'public' ? { options: `-c search_path=${schema}` } : {}),
    });
    pool.on('error', (err) => log.error({ err }, 'idle PostgreSQL client error'));
    const db = new Kysely<Database>({ dialect: withSchemaIntrospection(new PostgresDialect({ pool }), schema), log: onLog });
    if (schema !== 'public') await sql`create schema if not exists ${sql.id(schema)}`.execute(db);
    return {
      db,
      kind: 'postgres',
      ping: async () => void (await sql`select 1`.execute(db)),
      close: () => db.destroy(),
    };
  }

  const { PGlite } = await import('@electric-sql/pglite');
  const { PGliteDialect } = await import('kysely-pglite-dialect');
  mkdirSync(config.db.dataDir, { recursive: true });
  const client = await PGlite.create(`${config.db.dataDir}/pglite`);
  const db = new Kysely<Database>({ dialect: withSchemaIntrospection(new PGliteDialect(client), 'public'), log: onLog });
  return {
    db,
    kind: 'pglite',
    ping: async () => void (await sql`select 1`.execute(db)),
    close: () => db.destroy(),
  };
}
