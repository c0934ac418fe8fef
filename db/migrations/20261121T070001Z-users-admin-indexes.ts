import { sql, type Kysely } from 'kysely';

// Migrations are frozen in time: they use Kysely<any> and never import application code.
// Indexes for the staff user list's sort orders (lower(email) is already indexed by users_email_lower_key).

export async function up(db: Kysely<any>): Promise<void> {
  await sql`create index users_created_at_idx on users (created_at, id)`.execute(db);
  await sql`create index users_last_login_idx on users (last_login, id)`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop index users_last_login_idx`.execute(db);
  await sql`drop index users_created_at_idx`.execute(db);
}
