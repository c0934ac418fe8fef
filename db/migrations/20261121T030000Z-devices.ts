import { sql, type Kysely } from 'kysely';

// Migrations are frozen in time: they use Kysely<any> and never import application code.

export async function up(db: Kysely<any>): Promise<void> {
  // A device belongs to one user; its id is chosen by the owner (or generated), unique per owner and
  // immutable: it is the id Google sees and the `deviceId` devices poll for.
  await db.schema
    .createTable('devices')
    .addColumn('owner_id', 'uuid', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('id', 'text', (c) => c.notNull())
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('traits', 'jsonb', (c) => c.notNull().defaultTo(sql`'[]'::jsonb`))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('nicknames', 'jsonb', (c) => c.notNull().defaultTo(sql`'[]'::jsonb`))
    .addColumn('room', 'text')
    .addColumn('attributes', 'jsonb', (c) => c.notNull().defaultTo(sql`'{}'::jsonb`))
    .addColumn('state', 'jsonb', (c) => c.notNull().defaultTo(sql`'{}'::jsonb`))
    .addColumn('online', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('last_seen_at', 'timestamptz')
    .addColumn('will_report_state', 'boolean', (c) => c.notNull().defaultTo(true))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('devices_pkey', ['owner_id', 'id'])
    .execute();

  // Command messages for devices. `seq` gives a total order (several commands created in one
  // transaction share created_at).
  await db.schema
    .createTable('device_messages')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('seq', 'bigint', (c) => c.notNull().generatedAlwaysAsIdentity())
    .addColumn('owner_id', 'uuid', (c) => c.notNull())
    .addColumn('device_id', 'text', (c) => c.notNull())
    .addColumn('topic', 'text', (c) => c.notNull())
    .addColumn('text', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('payload', 'jsonb', (c) => c.notNull().defaultTo(sql`'{}'::jsonb`))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('read_at', 'timestamptz')
    .addColumn('expires_at', 'timestamptz', (c) => c.notNull())
    .addForeignKeyConstraint('device_messages_device_fkey', ['owner_id', 'device_id'], 'devices', ['owner_id', 'id'], (fk) => fk.onDelete('cascade'))
    .execute();
  // Polling: the owner's unread messages in order (optionally one device's).
  await sql`create index device_messages_unread_idx on device_messages (owner_id, seq) where read_at is null`.execute(db);
  // Also serves the cascade when a device is deleted, hence not partial.
  await sql`create index device_messages_device_idx on device_messages (owner_id, device_id, seq)`.execute(db);
  // Cleanup: read messages and expired ones past the retention period.
  await sql`create index device_messages_read_at_idx on device_messages (read_at) where read_at is not null`.execute(db);
  await sql`create index device_messages_expires_at_idx on device_messages (expires_at)`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('device_messages').execute();
  await db.schema.dropTable('devices').execute();
}
