/** Kysely access to the users table. Only this file speaks SQL about users. */
import { sql } from 'kysely';
import type { Db, NewUserRow, UserRow, UserRowUpdate } from '../../db/database.ts';
import type { User } from './user.types.ts';

export function rowToUser(r: UserRow): User {
  return {
    id: r.id,
    email: r.email,
    phoneNumber: r.phone_number,
    firstName: r.first_name,
    lastName: r.last_name,
    displayName: r.display_name,
    avatarUrl: r.avatar_url,
    isActive: r.is_active,
    isStaff: r.is_staff,
    isSuperuser: r.is_superuser,
    lastLogin: r.last_login,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

export async function findUserById(db: Db, id: string): Promise<UserRow | undefined> {
  return db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function findUsersByIds(db: Db, ids: readonly string[]): Promise<UserRow[]> {
  if (ids.length === 0) return [];
  return db.selectFrom('users').selectAll().where('id', 'in', ids).execute();
}

export async function findUserByEmail(db: Db, email: string): Promise<UserRow | undefined> {
  return db
    .selectFrom('users')
    .selectAll()
    .where(sql<string>`lower(email)`, '=', email.toLowerCase())
    .executeTakeFirst();
}

export async function insertUser(db: Db, row: NewUserRow): Promise<UserRow> {
  return db.insertInto('users').values(row).returningAll().executeTakeFirstOrThrow();
}

export async function updateUser(db: Db, id: string, patch: UserRowUpdate): Promise<UserRow | undefined> {
  return db
    .updateTable('users')
    .set({ ...patch, updated_at: sql`now()` })
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirst();
}

export async function touchLastLogin(db: Db, id: string): Promise<void> {
  await db.updateTable('users').set({ last_login: sql`now()` }).where('id', '=', id).execute();
}

/** A page of users ordered by creation (newest first), optionally one exact email or id, with the total. */
export async function listUsers(db: Db, f: { email?: string; id?: string; offset: number; limit: number }): Promise<{ count: number; rows: UserRow[] }> {
  let base = db.selectFrom('users');
  if (f.email !== undefined) base = base.where(sql<string>`lower(email)`, '=', f.email.toLowerCase());
  if (f.id !== undefined) base = base.where('id', '=', f.id);
  const [countRow, rows] = await Promise.all([
    base.select(sql<number>`count(*)`.as('n')).executeTakeFirstOrThrow(),
    base.selectAll().orderBy('created_at', 'desc').orderBy('id').offset(f.offset).limit(f.limit).execute(),
  ]);
  return { count: Number(countRow.n), rows };
}

export interface UserListQuery {
  q: string;
  active: boolean | null;
  staff: boolean | null;
  sort: 'email' | 'created' | 'last_login';
  desc: boolean;
  limit: number;
  offset: number;
}

/** Escape LIKE wildcards in user input. */
function likePattern(s: string): string {
  return `%${s.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/**
 * Search and page users (staff lists). Free text matches email, names and phone number; sorting is on
 * indexed columns (lower(email), created_at, last_login) with the id as tie-breaker.
 */
export async function searchUsers(db: Db, q: UserListQuery): Promise<UserRow[]> {
  let query = db.selectFrom('users').selectAll();
  if (q.active !== null) query = query.where('is_active', '=', q.active);
  if (q.staff !== null) query = query.where('is_staff', '=', q.staff);
  if (q.q) {
    const like = likePattern(q.q);
    const digits = q.q.replace(/[\s.\-()]/g, '');
    query = query.where((eb) =>
      eb.or([
        eb(sql`lower(email)`, 'like', likePattern(q.q.toLowerCase())),
        eb('first_name', 'ilike', like),
        eb('last_name', 'ilike', like),
        eb('display_name', 'ilike', like),
        ...(digits ? [eb('phone_number', 'like', likePattern(digits))] : []),
      ]),
    );
  }
  const dir = q.desc ? 'desc' : 'asc';
  if (q.sort === 'email') query = query.orderBy(sql`lower(email)`, dir);
  else if (q.sort === 'last_login') query = query.orderBy(sql`last_login ${sql.raw(dir)} nulls last`);
  else query = query.orderBy('created_at', dir);
  return query.orderBy('id', dir).limit(q.limit).offset(q.offset).execute();
}

export async function countUsers(db: Db): Promise<number> {
  const r = await db.selectFrom('users').select(sql<number>`count(*)::int`.as('n')).executeTakeFirstOrThrow();
  return r.n;
}
