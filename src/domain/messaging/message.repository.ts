/** Kysely access to messages. Only this file speaks SQL about messages. */
import { sql, type Expression, type SqlBool } from 'kysely';
import type { Db, MessageRow } from '../../db/database.ts';
import type { Message, MessageStatus, MessageWindow } from './messaging.types.ts';

type MessageRowWithStatus = MessageRow & { status: MessageStatus };

export function rowToMessage(r: MessageRowWithStatus): Message {
  return {
    id: r.id,
    conversationId: r.conversation_id,
    senderId: r.sender_id,
    seq: Number(r.seq),
    changeSeq: Number(r.change_seq),
    clientMsgId: r.client_msg_id,
    body: r.body,
    createdAt: r.created_at,
    editedAt: r.edited_at,
    deletedAt: r.deleted_at,
    status: r.status,
  };
}

/**
 * Messages with their derived status: the minimum watermark over the other members of the conversation
 * (one index range on conversation_members per row; null when nobody else is a member → `sent`).
 */
export function selectMessages(db: Db) {
  return db
    .selectFrom('messages as m')
    .leftJoinLateral(
      (eb) =>
        eb
          .selectFrom('conversation_members as o')
          .select([sql<number | null>`min(o.delivered_seq)`.as('d'), sql<number | null>`min(o.read_seq)`.as('r')])
          .whereRef('o.conversation_id', '=', 'm.conversation_id')
          .where(sql<SqlBool>`o.user_id is distinct from m.sender_id`)
          .as('w'),
      (join) => join.onTrue(),
    )
    .selectAll('m')
    .select(sql<MessageStatus>`case when w.r >= m.seq then 'read' when w.d >= m.seq then 'delivered' else 'sent' end`.as('status'));
}

/** SQL condition "m's derived status is `status`" (same rule as selectMessages). */
export function statusCondition(status: MessageStatus): Expression<SqlBool> {
  if (status === 'read') return sql<SqlBool>`coalesce(w.r >= m.seq, false)`;
  if (status === 'delivered') return sql<SqlBool>`coalesce(w.d >= m.seq and not w.r >= m.seq, false)`;
  return sql<SqlBool>`not coalesce(w.d >= m.seq, false)`;
}

export async function findMessageById(db: Db, id: string): Promise<Message | undefined> {
  const r = await selectMessages(db).where('m.id', '=', id).executeTakeFirst();
  return r ? rowToMessage(r) : undefined;
}

/** Messages by their idempotency keys (conversation, sender, client_msg_id). */
export async function findByClientIds(db: Db, keys: ReadonlyArray<{ conversationId: string; senderId: string; clientMsgId: string }>): Promise<Message[]> {
  if (keys.length === 0) return [];
  const rows = await selectMessages(db)
    .where((eb) =>
      eb(
        eb.refTuple('m.conversation_id', 'm.sender_id', 'm.client_msg_id'),
        'in',
        keys.map((k) => eb.tuple(k.conversationId, k.senderId, k.clientMsgId)),
      ),
    )
    .execute();
  return rows.map(rowToMessage);
}

export interface NewMessage {
  conversationId: string;
  senderId: string;
  seq: number;
  changeSeq: number;
  clientMsgId: string | null;
  body: string;
}

/** Insert many messages in one statement; returns the rows (status left to the caller: a new message is `sent`). */
export async function insertMessages(db: Db, rows: readonly NewMessage[]): Promise<MessageRow[]> {
  if (rows.length === 0) return [];
  return db
    .insertInto('messages')
    .values(
      rows.map((r) => ({
        conversation_id: r.conversationId,
        sender_id: r.senderId,
        seq: r.seq,
        change_seq: r.changeSeq,
        client_msg_id: r.clientMsgId,
        body: r.body,
      })),
    )
    .returningAll()
    .execute();
}

/** Replace the body (edit) or drop it (delete) and move the row to a new change position. */
export async function updateMessage(db: Db, id: string, patch: { body: string | null; changeSeq: number; deleted: boolean }): Promise<void> {
  await db
    .updateTable('messages')
    .set(
      patch.deleted
        ? { body: null, change_seq: patch.changeSeq, deleted_at: sql`now()` }
        : { body: patch.body, change_seq: patch.changeSeq, edited_at: sql`now()` },
    )
    .where('id', '=', id)
    .execute();
}

/**
 * A window of one conversation's history by seq, ascending. Seqs are gap-free from 1 to `lastSeq` and rows
 * are never removed (deletion is soft), so whether more exist either way follows from the seqs themselves.
 */
export async function findWindow(
  db: Db,
  conversationId: string,
  lastSeq: number,
  q: { afterSeq?: number; beforeSeq?: number; limit: number },
): Promise<MessageWindow> {
  let query = selectMessages(db).where('m.conversation_id', '=', conversationId);
  if (q.afterSeq !== undefined) query = query.where('m.seq', '>', q.afterSeq);
  if (q.beforeSeq !== undefined) query = query.where('m.seq', '<', q.beforeSeq);
  // From the cursor forward when after_seq is given; otherwise the newest ones before before_seq (or the end).
  const forward = q.afterSeq !== undefined;
  const rows = await query.orderBy('m.seq', forward ? 'asc' : 'desc').limit(q.limit).execute();
  const items = rows.map(rowToMessage);
  if (!forward) items.reverse();
  const lo = items[0]?.seq ?? (forward ? q.afterSeq! + 1 : Math.min(q.beforeSeq ?? lastSeq + 1, lastSeq + 1));
  const hi = items.at(-1)?.seq ?? lo - 1;
  return { items, hasBefore: lo > 1, hasAfter: hi < lastSeq, firstSeq: lo, lastSeq: hi };
}

export interface MessageListFilter {
  userId: string;
  conversationId?: string;
  status?: MessageStatus;
  offset: number;
  limit: number;
}

/** Messages of the user's conversations, newest first, with the total for page numbers. */
export async function listForMember(db: Db, f: MessageListFilter): Promise<{ count: number; items: Message[] }> {
  let base = selectMessages(db).innerJoin('conversation_members as me', (j) =>
    j.onRef('me.conversation_id', '=', 'm.conversation_id').on('me.user_id', '=', f.userId),
  );
  if (f.conversationId) base = base.where('m.conversation_id', '=', f.conversationId);
  if (f.status) base = base.where(statusCondition(f.status));
  const [countRow, rows] = await Promise.all([
    base.clearSelect().select(sql<number>`count(*)`.as('n')).executeTakeFirstOrThrow(),
    base.orderBy('m.created_at', 'desc').orderBy('m.seq', 'desc').offset(f.offset).limit(f.limit).execute(),
  ]);
  return { count: Number(countRow.n), items: rows.map(rowToMessage) };
}

/** Changes of one conversation after a change position, in change order, one extra row to detect more. */
export async function findChanges(db: Db, conversationId: string, afterChangeSeq: number, limit: number): Promise<Message[]> {
  const rows = await selectMessages(db)
    .where('m.conversation_id', '=', conversationId)
    .where('m.change_seq', '>', afterChangeSeq)
    .orderBy('m.change_seq', 'asc')
    .limit(limit)
    .execute();
  return rows.map(rowToMessage);
}

/** Changes of several conversations at once (each after its own cursor, at most `limit` each), one query. */
export async function findChangesMany(db: Db, cursors: ReadonlyArray<{ conversationId: string; after: number }>, limit: number): Promise<Message[]> {
  if (cursors.length === 0) return [];
  const values = sql.join(cursors.map((c) => sql`(${c.conversationId}::uuid, ${c.after}::bigint)`));
  const rows = await sql<MessageRowWithStatus>`
    select x.* from (values ${values}) as cur(conversation_id, after_change_seq)
    cross join lateral (
      select m.*, case when w.r >= m.seq then 'read' when w.d >= m.seq then 'delivered' else 'sent' end as status
      from messages m
      left join lateral (
        select min(o.delivered_seq) as d, min(o.read_seq) as r from conversation_members o
        where o.conversation_id = m.conversation_id and o.user_id is distinct from m.sender_id
      ) w on true
      where m.conversation_id = cur.conversation_id and m.change_seq > cur.after_change_seq
      order by m.change_seq
      limit ${limit}
    ) x
    order by x.conversation_id, x.change_seq`.execute(db);
  return rows.rows.map(rowToMessage);
}

/** Per sender, the highest seq they sent in (fromSeq, toSeq] of a conversation. */
export async function sendersInRange(db: Db, conversationId: string, fromSeq: number, toSeq: number): Promise<string[]> {
  if (toSeq <= fromSeq) return [];
  const rows = await db
    .selectFrom('messages')
    .select('sender_id')
    .distinct()
    .where('conversation_id', '=', conversationId)
    .where('seq', '>', fromSeq)
    .where('seq', '<=', toSeq)
    .where('sender_id', 'is not', null)
    .execute();
  return rows.map((r) => r.sender_id!);
}

/** Of the given senders, those with at least one message in one of their (lo, hi] seq ranges. */
export async function sendersWithMessagesIn(
  db: Db,
  conversationId: string,
  ranges: ReadonlyArray<{ senderId: string; lo: number; hi: number }>,
): Promise<Set<string>> {
  const useful = ranges.filter((r) => r.hi > r.lo);
  if (useful.length === 0) return new Set();
  const rows = await db
    .selectFrom('messages')
    .select('sender_id')
    .distinct()
    .where('conversation_id', '=', conversationId)
    .where((eb) => eb.or(useful.map((r) => eb.and([eb('sender_id', '=', r.senderId), eb('seq', '>', r.lo), eb('seq', '<=', r.hi)]))))
    .execute();
  return new Set(rows.map((r) => r.sender_id!));
}

/** The last message of each conversation (seq = last_seq), one query. */
export async function findLastMessages(db: Db, conversationIds: readonly string[]): Promise<Message[]> {
  if (conversationIds.length === 0) return [];
  const rows = await selectMessages(db)
    .innerJoin('conversations as c', (j) => j.onRef('c.id', '=', 'm.conversation_id').onRef('c.last_seq', '=', 'm.seq'))
    .where('c.id', 'in', conversationIds)
    .execute();
  return rows.map(rowToMessage);
}
