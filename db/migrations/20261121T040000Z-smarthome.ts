import { sql, type Kysely } from 'kysely';

// Migrations are frozen in time: they use Kysely<any> and never import application code.

export async function up(db: Kysely<any>): Promise<void> {
  // What Google needs about a device beyond the registry: names and hardware info for SYNC, and the
  // secondary-verification settings (the PIN only as an argon2id hash, never sent to Google).
  await db.schema
    .createTable('smarthome_devices')
    .addColumn('owner_id', 'uuid', (c) => c.notNull())
    .addColumn('device_id', 'text', (c) => c.notNull())
    .addColumn('challenge', 'text', (c) => c.notNull().defaultTo('auto').check(sql`challenge in ('auto', 'ack', 'pin')`))
    .addColumn('pin_hash', 'text')
    .addColumn('failed_attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('locked_until', 'timestamptz')
    .addColumn('default_names', 'jsonb', (c) => c.notNull().defaultTo(sql`'[]'::jsonb`))
    .addColumn('device_info', 'jsonb')
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('smarthome_devices_pkey', ['owner_id', 'device_id'])
    .addForeignKeyConstraint('smarthome_devices_device_fkey', ['owner_id', 'device_id'], 'devices', ['owner_id', 'id'], (fk) => fk.onDelete('cascade'))
    .execute();

  // Google account links, one per OAuth grant that reached the fulfillment. Report State and Request Sync
  // run only for users with a live link that Home Graph has not disowned (404).
  await db.schema
    .createTable('smarthome_links')
    .addColumn('grant_id', 'text', (c) => c.primaryKey())
    .addColumn('user_id', 'uuid', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('linked_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('unlinked_at', 'timestamptz')
    .addColumn('homegraph_missing_at', 'timestamptz')
    .execute();
  await sql`create index smarthome_links_user_idx on smarthome_links (user_id)`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('smarthome_links').execute();
  await db.schema.dropTable('smarthome_devices').execute();
}
