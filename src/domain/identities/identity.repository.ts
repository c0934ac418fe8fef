/** Kysely access to user_identities. Only this file speaks SQL about external identities. */
import { sql } from 'kysely';
import type { Db, UserIdentityRow } from '../../db/database.ts';
import type { UserIdentity } from './identity.types.ts';

export function rowToIdentity(r: UserIdentityRow): UserIdentity {
  return { id: r.id, userId: r.user_id, issuer: r.issuer, subject: r.subject, email: r.email, createdAt: r.created_at, lastLoginAt: r.last_login_at };
}

/** Uses the unique (issuer, subject) index. */
export async function findIdentity(db: Db, issuer: string, subject: string): Promise<UserIdentityRow | undefined> {
  return db.selectFrom('user_identities').selectAll().where('issuer', '=', issuer).where('subject', '=', subject).executeTakeFirst();
}

/** Uses the user_id index. */
export async function listIdentitiesOfUser(db: Db, userId: string): Promise<UserIdentityRow[]> {
  return db.selectFrom('user_identities').selectAll().where('user_id', '=', userId).orderBy('created_at').execute();
}

export async function insertIdentity(db: Db, row: { user_id: string; issuer: string; subject: string; email: string | null }): Promise<UserIdentityRow> {
  return db.insertInto('user_identities').values(row).returningAll().executeTakeFirstOrThrow();
}

export async function touchIdentity(db: Db, id: string, email: string | null): Promise<void> {
  await db.updateTable('user_identities').set({ last_login_at: sql`now()`, email }).where('id', '=', id).execute();
}
