import { sql, type Kysely } from 'kysely';

// Migrations are frozen in time: they use Kysely<any> and never import application code.
// Indexes for the staff views of conversations: newest activity or creation first, and today's messages.

export async function up(db: Kysely<any>): Promise<void> {
  await sql`create index conversations_last_message_at_idx on conversations (last_message_at desc nulls last, id)`.execute(db);
  await sql`create index conversations_created_at_idx on conversations (created_at, id)`.execute(db);
  await sql`create index messages_created_at_idx on messages (created_at)`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const name of ['messages_created_at_idx', 'conversations_created_at_idx', 'conversations_last_message_at_idx']) {
    await sql`drop index ${sql.id(name)}`.execute(db);
  }
}
