/** Staff-wide reads over conversations and messages (the admin). Only repositories speak SQL. */
import { sql } from 'kysely';
import type { ConversationRow, Db } from '../../db/database.ts';

function likePattern(s: string): string {
  return `%${s.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

export interface ConversationSearch {
  q: string;
  memberId: string | null;
  sort: 'activity' | 'created';
  desc: boolean;
  limit: number;
  offset: number;
}

/** Conversations of everyone; free text matches the title or a member's email. */
export async function searchConversations(db: Db, q: ConversationSearch): Promise<ConversationRow[]> {
  let query = db.selectFrom('conversations as c').selectAll('c');
  if (q.memberId) {
    const memberId = q.memberId;
    query = query.where((eb) => eb.exists(eb.selectFrom('conversation_members as m').select('m.user_id').whereRef('m.conversation_id', '=', 'c.id').where('m.user_id', '=', memberId)));
  }
  if (q.q) {
    const like = likePattern(q.q);
    const emailLike = likePattern(q.q.toLowerCase());
    query = query.where((eb) =>
      eb.or([
        eb('c.title', 'ilike', like),
        eb.exists(
          eb
            .selectFrom('conversation_members as m')
            .innerJoin('users as u', 'u.id', 'm.user_id')
            .select('m.user_id')
            .whereRef('m.conversation_id', '=', 'c.id')
            .where(sql`lower(u.email)`, 'like', emailLike),
        ),
      ]),
    );
  }
  const dir = q.desc ? 'desc' : 'asc';
  if (q.sort === 'activity') query = query.orderBy(sql`c.last_message_at ${sql.raw(dir)} nulls last`);
  else query = query.orderBy('c.created_at', dir);
  return query.orderBy('c.id', dir).limit(q.limit).offset(q.offset).execute();
}

export async function countConversations(db: Db): Promise<number> {
  const r = await db.selectFrom('conversations').select(sql<number>`count(*)::int`.as('n')).executeTakeFirstOrThrow();
  return r.n;
}

export async function countMessagesSince(db: Db, since: Date): Promise<number> {
  const r = await db.selectFrom('messages').select(sql<number>`count(*)::int`.as('n')).where('created_at', '>=', since).executeTakeFirstOrThrow();
  return r.n;
}
