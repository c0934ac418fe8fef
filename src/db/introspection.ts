/**
 * A catalog introspector limited to one schema. Kysely's PostgreSQL introspector lists the tables and
 * columns of every schema in the database, with privilege checks per column; on a database shared by
 * several deployments or test runs, a schema dropped or altered meanwhile by another process makes that
 * listing fail ("schema … does not exist", "column … does not exist"). The migrator only needs to know
 * whether its own tables exist, so it is given this narrower view, which reads pg_catalog directly.
 */
import { sql, type DatabaseIntrospector, type Dialect, type Kysely, type SchemaMetadata, type TableMetadata } from 'kysely';

export class SchemaIntrospector implements DatabaseIntrospector {
  readonly #db: Kysely<any>;
  readonly #schema: string;

  constructor(db: Kysely<any>, schema: string) {
    this.#db = db;
    this.#schema = schema;
  }

  async getSchemas(): Promise<SchemaMetadata[]> {
    const { rows } = await sql<{ name: string }>`select nspname as name from pg_catalog.pg_namespace where nspname = ${this.#schema}`.execute(this.#db);
    return rows;
  }

  /** Tables and views of the schema, without columns (nothing here needs them). */
  async getTables(): Promise<TableMetadata[]> {
    const { rows } = await sql<{ name: string; kind: string }>`
      select c.relname as name, c.relkind as kind
      from pg_catalog.pg_class c join pg_catalog.pg_namespace n on n.oid = c.relnamespace
      where n.nspname = ${this.#schema} and c.relkind in ('r', 'p', 'v', 'm', 'f')`.execute(this.#db);
    return rows.map((r) => ({ name: r.name, schema: this.#schema, isView: r.kind === 'v' || r.kind === 'm', isForeign: r.kind === 'f', columns: [] }));
  }
}

/** `dialect`, with introspection limited to `schema`. Everything else is the dialect's own. */
export function withSchemaIntrospection(dialect: Dialect, schema: string): Dialect {
  return {
    createAdapter: () => dialect.createAdapter(),
    createDriver: () => dialect.createDriver(),
    createQueryCompiler: () => dialect.createQueryCompiler(),
    createIntrospector: (db) => new SchemaIntrospector(db, schema),
  };
}
