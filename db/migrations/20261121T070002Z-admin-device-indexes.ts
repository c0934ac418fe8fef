import { sql, type Kysely } from 'kysely';

// Migrations are frozen in time: they use Kysely<any> and never import application code.
// Indexes for the staff lists that look across owners: command messages newest first, by device or topic;
// devices by creation time or type.

export async function up(db: Kysely<any>): Promise<void> {
  await sql`create index device_messages_seq_idx on device_messages (seq)`.execute(db);
  await sql`create index device_messages_device_seq_idx on device_messages (device_id, seq)`.execute(db);
  await sql`create index device_messages_topic_seq_idx on device_messages (topic, seq)`.execute(db);
  await sql`create index devices_created_at_idx on devices (created_at)`.execute(db);
  await sql`create index devices_type_idx on devices (type)`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const name of ['devices_type_idx', 'devices_created_at_idx', 'device_messages_topic_seq_idx', 'device_messages_device_seq_idx', 'device_messages_seq_idx']) {
    await sql`drop index ${sql.id(name)}`.execute(db);
  }
}
