import { sql, type Kysely } from 'kysely';

// Migrations are frozen in time: they use Kysely<any> and never import application code.

export async function up(db: Kysely<any>): Promise<void> {
  // Registered OAuth clients. The secret is stored only as a SHA-256 digest (it is 256 random bits).
  await db.schema
    .createTable('oauth_clients')
    .addColumn('client_id', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('owner_user_id', 'uuid', (c) => c.references('users.id').onDelete('set null'))
    .addColumn('secret_hash', 'text')
    .addColumn('token_endpoint_auth_method', 'text', (c) => c.notNull())
    .addColumn('redirect_uris', 'jsonb', (c) => c.notNull().defaultTo(sql`'[]'::jsonb`))
    .addColumn('grant_types', 'jsonb', (c) => c.notNull().defaultTo(sql`'[]'::jsonb`))
    .addColumn('scope', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('default_scope', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('require_pkce', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('skip_consent', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('access_token_ttl', 'integer')
    .addColumn('refresh_token_ttl', 'integer')
    .addColumn('secret_rotated_at', 'timestamptz')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema.createIndex('oauth_clients_owner_idx').on('oauth_clients').column('owner_user_id').execute();

  // Every oidc-provider artefact (grants, codes, tokens, sessions, interactions, device codes). `id`,
  // `uid` and `user_code` are SHA-256 digests of the values the provider hands out, never the values.
  await db.schema
    .createTable('oauth_models')
    .addColumn('model', 'text', (c) => c.notNull())
    .addColumn('id', 'text', (c) => c.notNull())
    .addColumn('payload', 'jsonb', (c) => c.notNull())
    .addColumn('grant_id', 'text')
    .addColumn('account_id', 'text')
    .addColumn('client_id', 'text')
    .addColumn('uid', 'text')
    .addColumn('user_code', 'text')
    .addColumn('expires_at', 'timestamptz')
    .addColumn('consumed_at', 'timestamptz')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('oauth_models_pkey', ['model', 'id'])
    .execute();
  await sql`create index oauth_models_grant_idx on oauth_models (grant_id) where grant_id is not null`.execute(db);
  await sql`create index oauth_models_account_idx on oauth_models (model, account_id) where account_id is not null`.execute(db);
  await sql`create index oauth_models_client_idx on oauth_models (client_id) where client_id is not null`.execute(db);
  await sql`create index oauth_models_uid_idx on oauth_models (model, uid) where uid is not null`.execute(db);
  await sql`create index oauth_models_user_code_idx on oauth_models (model, user_code) where user_code is not null`.execute(db);
  await sql`create index oauth_models_expires_idx on oauth_models (expires_at) where expires_at is not null`.execute(db);

  // Refresh-token rotation grace for confidential clients: a short lock while a refresh runs, then the
  // single successor of a rotated-out token (encrypted) until the window closes or the successor is used.
  await db.schema
    .createTable('oauth_refresh_grace')
    .addColumn('token_hash', 'text', (c) => c.primaryKey())
    .addColumn('client_id', 'text', (c) => c.notNull())
    .addColumn('successor_hash', 'text')
    .addColumn('successor_enc', 'text')
    .addColumn('expires_at', 'timestamptz', (c) => c.notNull())
    .execute();
  await sql`create index oauth_refresh_grace_successor_idx on oauth_refresh_grace (successor_hash) where successor_hash is not null`.execute(db);
  await db.schema.createIndex('oauth_refresh_grace_expires_idx').on('oauth_refresh_grace').column('expires_at').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('oauth_refresh_grace').execute();
  await db.schema.dropTable('oauth_models').execute();
  await db.schema.dropTable('oauth_clients').execute();
}
