/** Kysely access to conversations and their members. Only this file speaks SQL about them. */
import { sql } from 'kysely';
import type { ConversationRow, Db, MemberRow } from '../../db/database.ts';
import type { Member, MemberRole } from './messaging.types.ts';

export function rowToMember(r: Pick<MemberRow, 'user_id' | 'role' | 'joined_at' | 'delivered_seq' | 'read_seq'>): Member {
  return {
    userId: r.user_id,
    role: r.role,
    joinedAt: r.joined_at,
    deliveredSeq: Number(r.delivered_seq),
    readSeq: Number(r.read_seq),
  };
}

export async function insertConversation(
  db: Db,
  row: { title: string | null; createdBy: string; directKey: string | null },
): Promise<ConversationRow | undefined> {
  let q = db.insertInto('conversations').values({ title: row.title, created_by: row.createdBy, direct_key: row.directKey });
  // A concurrent create of the same 1:1 pair: the loser reads the winner's row.
  if (row.directKey) q = q.onConflict((oc) => oc.column('direct_key').where('direct_key', 'is not', null).doNothing());
  return q.returningAll().executeTakeFirst();
}

export async function findConversation(db: Db, id: string): Promise<ConversationRow | undefined> {
  return db.selectFrom('conversations').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function findByDirectKey(db: Db, key: string): Promise<ConversationRow | undefined> {
  return db.selectFrom('conversations').selectAll().where('direct_key', '=', key).executeTakeFirst();
}

export async function findConversations(db: Db, ids: readonly string[]): Promise<ConversationRow[]> {
  if (ids.length === 0) return [];
  return db.selectFrom('conversations').selectAll().where('id', 'in', ids).execute();
}

/** Lock conversations in id order (the order every writer uses, so concurrent writers cannot deadlock). */
export async function lockConversations(db: Db, ids: readonly string[]): Promise<ConversationRow[]> {
  if (ids.length === 0) return [];
  return db.selectFrom('conversations').selectAll().where('id', 'in', ids).orderBy('id').forUpdate().execute();
}

export async function updateConversation(db: Db, id: string, patch: { title?: string | null; directKey?: null }): Promise<ConversationRow | undefined> {
  return db
    .updateTable('conversations')
    .set({
      ...(patch.title !== undefined ? { title: patch.title } : {}),
      ...(patch.directKey !== undefined ? { direct_key: patch.directKey } : {}),
      updated_at: sql`now()`,
    })
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirst();
}

export async function deleteConversation(db: Db, id: string): Promise<void> {
  await db.deleteFrom('conversations').where('id', '=', id).execute();
}

/** Advance last_seq/last_change_seq of many conversations in one statement (values computed by the caller). */
export async function setCounters(db: Db, rows: ReadonlyArray<{ id: string; lastSeq: number; lastChangeSeq: number }>): Promise<void> {
  if (rows.length === 0) return;
  const values = sql.join(rows.map((r) => sql`(${r.id}::uuid, ${r.lastSeq}::bigint, ${r.lastChangeSeq}::bigint)`));
  await sql`
    update conversations c set last_seq = v.last_seq, last_change_seq = v.last_change_seq,
      last_message_at = now(), updated_at = now()
    from (values ${values}) as v(id, last_seq, last_change_seq)
    where c.id = v.id`.execute(db);
}

/** Take the next change position of a conversation (row-locks it until commit). */
export async function nextChangeSeq(db: Db, id: string): Promise<number | undefined> {
  const r = await db
    .updateTable('conversations')
    .set({ last_change_seq: sql`last_change_seq + 1` })
    .where('id', '=', id)
    .returning('last_change_seq')
    .executeTakeFirst();
  return r ? Number(r.last_change_seq) : undefined;
}

export async function insertMembers(db: Db, conversationId: string, members: ReadonlyArray<{ userId: string; role: MemberRole }>): Promise<void> {
  if (members.length === 0) return;
  await db
    .insertInto('conversation_members')
    .values(members.map((m) => ({ conversation_id: conversationId, user_id: m.userId, role: m.role })))
    .onConflict((oc) => oc.columns(['conversation_id', 'user_id']).doNothing())
    .execute();
}

export async function deleteMember(db: Db, conversationId: string, userId: string): Promise<boolean> {
  const r = await db.deleteFrom('conversation_members').where('conversation_id', '=', conversationId).where('user_id', '=', userId).executeTakeFirst();
  return Number(r.numDeletedRows) > 0;
}

export async function setRole(db: Db, conversationId: string, userId: string, role: MemberRole): Promise<void> {
  await db.updateTable('conversation_members').set({ role }).where('conversation_id', '=', conversationId).where('user_id', '=', userId).execute();
}

export async function findMember(db: Db, conversationId: string, userId: string): Promise<MemberRow | undefined> {
  return db.selectFrom('conversation_members').selectAll().where('conversation_id', '=', conversationId).where('user_id', '=', userId).executeTakeFirst();
}

/**
 * `userId`'s membership of a conversation together with the conversation's last seq, in one query (the
 * hot read path needs both and nothing else of the conversation).
 */
export async function findMemberLastSeq(db: Db, conversationId: string, userId: string): Promise<{ lastSeq: number } | undefined> {
  const row = await db
    .selectFrom('conversation_members as cm')
    .innerJoin('conversations as c', 'c.id', 'cm.conversation_id')
    .select('c.last_seq')
    .where('cm.conversation_id', '=', conversationId)
    .where('cm.user_id', '=', userId)
    .executeTakeFirst();
  return row ? { lastSeq: Number(row.last_seq) } : undefined;
}

/** Members of many conversations, one query, in join order. */
export async function findMembers(db: Db, conversationIds: readonly string[]): Promise<MemberRow[]> {
  if (conversationIds.length === 0) return [];
  return db
    .selectFrom('conversation_members')
    .selectAll()
    .where('conversation_id', 'in', conversationIds)
    .orderBy('conversation_id')
    .orderBy('joined_at')
    .orderBy('user_id')
    .execute();
}

/** Members of one conversation, locked in user order (receipts serialise per conversation this way). */
export async function lockMembers(db: Db, conversationId: string): Promise<MemberRow[]> {
  return db.selectFrom('conversation_members').selectAll().where('conversation_id', '=', conversationId).orderBy('user_id').forUpdate().execute();
}

/** Set a member's watermarks (callers pass values that only move forward). */
export async function setWatermarks(db: Db, conversationId: string, userId: string, deliveredSeq: number, readSeq: number): Promise<void> {
  await db
    .updateTable('conversation_members')
    .set({ delivered_seq: deliveredSeq, read_seq: readSeq })
    .where('conversation_id', '=', conversationId)
    .where('user_id', '=', userId)
    .execute();
}

/** A sender has read and received everything up to their own message: move both watermarks, many at once. */
export async function advanceSenderWatermarks(db: Db, rows: ReadonlyArray<{ conversationId: string; userId: string; seq: number }>): Promise<void> {
  if (rows.length === 0) return;
  // Lock the member rows in (conversation, user) order first: receipts lock a conversation's members in user
  // order, and an UPDATE … FROM VALUES locks in whatever order its plan visits them, which deadlocks against
  // a receipt when a batch carries two senders of one conversation.
  const keys = [...new Map(rows.map((r) => [`${r.conversationId} ${r.userId}`, r])).values()].sort((a, b) =>
    a.conversationId === b.conversationId ? (a.userId < b.userId ? -1 : 1) : a.conversationId < b.conversationId ? -1 : 1,
  );
  if (keys.length > 1) {
    const pairs = sql.join(keys.map((r) => sql`(${r.conversationId}::uuid, ${r.userId}::uuid)`));
    await sql`
      select 1 from conversation_members
      where (conversation_id, user_id) in (${pairs})
      order by conversation_id, user_id
      for update`.execute(db);
  }
  const values = sql.join(rows.map((r) => sql`(${r.conversationId}::uuid, ${r.userId}::uuid, ${r.seq}::bigint)`));
  await sql`
    update conversation_members cm
    set read_seq = greatest(cm.read_seq, v.seq), delivered_seq = greatest(cm.delivered_seq, v.seq)
    from (values ${values}) as v(conversation_id, user_id, seq)
    where cm.conversation_id = v.conversation_id and cm.user_id = v.user_id`.execute(db);
}

/** The user's conversations, most recent activity first, with the total. */
export async function listForUser(db: Db, userId: string, offset: number, limit: number): Promise<{ count: number; rows: Array<ConversationRow & { my_delivered_seq: number; my_read_seq: number }> }> {
  const base = db
    .selectFrom('conversation_members as me')
    .innerJoin('conversations as c', 'c.id', 'me.conversation_id')
    .where('me.user_id', '=', userId);
  const [countRow, rows] = await Promise.all([
    base.select(sql<number>`count(*)`.as('n')).executeTakeFirstOrThrow(),
    base
      .selectAll('c')
      .select(['me.delivered_seq as my_delivered_seq', 'me.read_seq as my_read_seq'])
      .orderBy(sql`coalesce(c.last_message_at, c.created_at)`, 'desc')
      .orderBy('c.id')
      .offset(offset)
      .limit(limit)
      .execute(),
  ]);
  return { count: Number(countRow.n), rows };
}

/** Every conversation of a user with its change position (for multi-conversation catch-up). */
export async function changePositionsForUser(db: Db, userId: string): Promise<Array<{ id: string; last_change_seq: number; activity: Date }>> {
  return db
    .selectFrom('conversation_members as me')
    .innerJoin('conversations as c', 'c.id', 'me.conversation_id')
    .where('me.user_id', '=', userId)
    .select(['c.id', 'c.last_change_seq', sql<Date>`coalesce(c.last_message_at, c.created_at)`.as('activity')])
    .execute();
}

/** Users that exist and are active, among `ids`. */
export async function findActiveUserIds(db: Db, ids: readonly string[]): Promise<string[]> {
  if (ids.length === 0) return [];
  const rows = await db.selectFrom('users').select('id').where('id', 'in', ids).where('is_active', '=', true).execute();
  return rows.map((r) => r.id);
}

/** True when the two users share at least one conversation. */
export async function shareConversation(db: Db, a: string, b: string): Promise<boolean> {
  const r = await db
    .selectFrom('conversation_members as x')
    .innerJoin('conversation_members as y', 'y.conversation_id', 'x.conversation_id')
    .select('x.conversation_id')
    .where('x.user_id', '=', a)
    .where('y.user_id', '=', b)
    .limit(1)
    .executeTakeFirst();
  return !!r;
}

/** Ids of every conversation the user belongs to. */
export async function conversationIdsOf(db: Db, userId: string): Promise<string[]> {
  const rows = await db.selectFrom('conversation_members').select('conversation_id').where('user_id', '=', userId).execute();
  return rows.map((r) => r.conversation_id);
}

/** The subset of `others` sharing at least one conversation with `userId` (one query). */
export async function partnersAmong(db: Db, userId: string, others: readonly string[]): Promise<Set<string>> {
  if (others.length === 0) return new Set();
  const rows = await db
    .selectFrom('conversation_members as x')
    .innerJoin('conversation_members as y', 'y.conversation_id', 'x.conversation_id')
    .select('y.user_id')
    .distinct()
    .where('x.user_id', '=', userId)
    .where('y.user_id', 'in', others)
    .execute();
  return new Set(rows.map((r) => r.user_id));
}
