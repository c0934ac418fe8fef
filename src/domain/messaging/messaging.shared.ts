/** Helpers shared by the conversation and message services (loading, membership, fan-out after commit). */
import type { Kysely } from 'kysely';
import type { ConversationRow, Database, Db, MemberRow } from '../../db/database.ts';
import { NotFoundError } from '../../errors.ts';
import type { EventBus } from '../../infra/events.ts';
import type { PubSub } from '../../infra/pubsub.ts';
import type { Logger } from '../../logger.ts';
import * as convRepo from './conversation.repository.ts';
import { userChannel, type UserWakeUp } from './messaging.events.ts';
import * as msgRepo from './message.repository.ts';
import { isId } from './messaging.schemas.ts';
import type { Conversation, Member, Message, MessageStatus } from './messaging.types.ts';

export interface MessagingDeps {
  db: Kysely<Database>;
  events: EventBus;
  pubsub: PubSub;
  logger: Logger;
}

/** The actor's membership row, or NotFound (a non-member cannot tell the conversation exists). */
export async function requireMember(db: Db, conversationId: string, userId: string): Promise<MemberRow> {
  if (!isId(conversationId)) throw new NotFoundError('Conversation');
  const m = await convRepo.findMember(db, conversationId, userId);
  if (!m) throw new NotFoundError('Conversation');
  return m;
}

/** A message's status for its sender given the members: the weakest watermark of everyone else. */
export function deriveStatus(seq: number, senderId: string | null, members: readonly Member[]): MessageStatus {
  const others = members.filter((m) => m.userId !== senderId);
  if (others.length === 0) return 'sent';
  if (others.every((m) => m.readSeq >= seq)) return 'read';
  if (others.every((m) => m.deliveredSeq >= seq)) return 'delivered';
  return 'sent';
}

export function toConversation(row: ConversationRow, members: Member[], lastMessage: Message | null): Conversation {
  return {
    id: row.id,
    title: row.title,
    createdBy: row.created_by,
    isDirect: row.direct_key !== null,
    lastSeq: Number(row.last_seq),
    lastChangeSeq: Number(row.last_change_seq),
    lastMessageAt: row.last_message_at,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    members,
    lastMessage,
  };
}

/** Conversations with members and last message, three queries whatever the count (order kept). */
export async function loadConversations(db: Db, rows: readonly ConversationRow[]): Promise<Conversation[]> {
  const ids = rows.map((r) => r.id);
  const [memberRows, last] = await Promise.all([convRepo.findMembers(db, ids), msgRepo.findLastMessages(db, ids.filter((_, i) => Number(rows[i]!.last_seq) > 0))]);
  const members = new Map<string, Member[]>();
  for (const m of memberRows) {
    let list = members.get(m.conversation_id);
    if (!list) members.set(m.conversation_id, (list = []));
    list.push(convRepo.rowToMember(m));
  }
  const lastBy = new Map(last.map((m) => [m.conversationId, m]));
  return rows.map((r) => toConversation(r, members.get(r.id) ?? [], lastBy.get(r.id) ?? null));
}

export async function loadConversation(db: Db, id: string): Promise<Conversation> {
  const row = await convRepo.findConversation(db, id);
  if (!row) throw new NotFoundError('Conversation');
  return (await loadConversations(db, [row]))[0]!;
}

/**
 * Wake every listed user's long-polls and sockets on every node (`user:<id>` on pub/sub). Fire and forget:
 * the data is already committed, a lost wake-up only delays a client until its next poll.
 */
export function wake(pubsub: PubSub, logger: Logger, userIds: Iterable<string>, payload: UserWakeUp): void {
  for (const id of new Set(userIds)) {
    pubsub.publish(userChannel(id), payload).catch((err: Error) => logger.warn({ err: { message: err.message } }, 'wake-up publish failed'));
  }
}
