/**
 * Conversations: create (1:1 deduplicated), read, list, rename, members in and out, and the chat inbox.
 * Every call takes the acting user; a non-member gets NotFound for the conversation, never a hint it
 * exists. Events and wake-ups go out after the transaction committed.
 */
import { ForbiddenError, NotFoundError, ValidationError } from '../../errors.ts';
import type { Actor } from '../users/user.types.ts';
import * as repo from './conversation.repository.ts';
import {
  createConversationSchema,
  idSchema,
  isId,
  pageQuerySchema,
  parseInput,
  participantsSchema,
  renameConversationSchema,
  type CreateConversationInput,
  type PageQuery,
} from './messaging.schemas.ts';
import { loadConversation, loadConversations, requireMember, wake, type MessagingDeps } from './messaging.shared.ts';
import type { Conversation, InboxEntry, Page } from './messaging.types.ts';

/**
 * `moderator: true` lets staff act on a conversation they are not a member of (the admin): membership and
 * owner checks are skipped, every other rule (owner hand-over, deletion of an empty conversation, events,
 * wake-ups) stays the same.
 */
export interface ModerationOptions {
  moderator?: boolean;
}

/** True for a staff moderator action; ForbiddenError `staff_only` when a non-staff actor asks for one. */
function assertModerator(actor: Actor, opts: ModerationOptions): boolean {
  if (!opts.moderator) return false;
  if (!actor.user.isStaff) throw new ForbiddenError('Only staff can moderate conversations', 'staff_only');
  return true;
}

export function createConversationService(deps: MessagingDeps) {
  const { db, events, pubsub, logger } = deps;
  const memberIds = (c: Conversation) => c.members.map((m) => m.userId);

  /** Throws ValidationError naming each participant that is not an active user. */
  async function assertUsersExist(ids: readonly string[], field: string): Promise<void> {
    const found = new Set(await repo.findActiveUserIds(db, ids));
    const missing = ids.map((id, i) => ({ id, i })).filter((x) => !found.has(x.id));
    if (missing.length > 0) {
      throw new ValidationError(
        'Some participants do not exist',
        missing.map((m) => ({ path: `${field}.${m.i}`, message: 'no such user', code: 'unknown_user' })),
      );
    }
  }

  function inboxEntry(c: Conversation, userId: string): InboxEntry {
    const me = c.members.find((m) => m.userId === userId);
    const readSeq = me?.readSeq ?? 0;
    return { conversation: c, deliveredSeq: me?.deliveredSeq ?? 0, readSeq, unreadCount: Math.max(0, c.lastSeq - readSeq) };
  }

  async function myPage(actor: Actor, page: Partial<PageQuery>): Promise<Page<Conversation>> {
    const p = parseInput(pageQuerySchema, page);
    const { count, rows } = await repo.listForUser(db, actor.user.id, (p.page - 1) * p.pageSize, p.pageSize);
    return { count, items: await loadConversations(db, rows) };
  }

  /**
   * Remove a member. Anyone may remove themselves (leave); removing someone else needs the owner role
   * (ForbiddenError otherwise). When the owner leaves, the longest-standing member becomes owner; when
   * the last member leaves, the conversation and its messages are deleted. Returns whether it was deleted.
   */
  async function removeParticipant(actor: Actor, conversationId: string, userId: string, opts: ModerationOptions = {}): Promise<{ deleted: boolean }> {
    const me = actor.user.id;
    const moderator = assertModerator(actor, opts);
    if (moderator) {
      if (!isId(conversationId)) throw new NotFoundError('Conversation');
    } else {
      const mine = await requireMember(db, conversationId, me);
      if (userId !== me && mine.role !== 'owner') throw new ForbiddenError('Only the conversation owner can remove other members', 'not_conversation_owner');
    }
    if (userId !== me && !idSchema.safeParse(userId).success) throw new NotFoundError('Participant');
    const result = await db.transaction().execute(async (trx) => {
      const [row] = await repo.lockConversations(trx, [conversationId]);
      if (!row) throw new NotFoundError('Conversation');
      const members = await repo.findMembers(trx, [conversationId]);
      const actorRow = members.find((m) => m.user_id === me);
      if (!moderator && !actorRow) throw new NotFoundError('Conversation');
      if (!moderator && userId !== me && actorRow!.role !== 'owner') throw new ForbiddenError('Only the conversation owner can remove other members', 'not_conversation_owner');
      const target = members.find((m) => m.user_id === userId);
      if (!target) throw new NotFoundError('Participant');
      await repo.deleteMember(trx, conversationId, userId);
      const remaining = members.filter((m) => m.user_id !== userId);
      if (remaining.length === 0) {
        await repo.deleteConversation(trx, conversationId);
        return { deleted: true, remaining: [] as string[] };
      }
      if (target.role === 'owner' && !remaining.some((m) => m.role === 'owner')) await repo.setRole(trx, conversationId, remaining[0]!.user_id, 'owner');
      // A 1:1 conversation someone left no longer stands for the pair; a new one can be started.
      await repo.updateConversation(trx, conversationId, row.direct_key ? { directKey: null } : {});
      return { deleted: false, remaining: remaining.map((m) => m.user_id) };
    });
    await events.emit('conversation.member_removed', { conversationId, userId, removedBy: me, memberIds: result.remaining, deleted: result.deleted });
    wake(pubsub, logger, [...result.remaining, userId], { conversation_id: conversationId, kind: 'conversation' });
    return { deleted: result.deleted };
  }

  return {
    /**
     * Create a conversation with `participants` (the creator is always added, as owner). Two distinct
     * users and no title make a 1:1 conversation: an existing one for the pair is returned
     * (`created: false`) instead of a duplicate. Throws ValidationError for unknown users.
     */
    async create(actor: Actor, input: CreateConversationInput): Promise<{ conversation: Conversation; created: boolean }> {
      const data = parseInput(createConversationSchema, input);
      const me = actor.user.id;
      const others = [...new Set(data.participants)].filter((id) => id !== me);
      await assertUsersExist(others, 'participants');
      const title = data.title ? data.title : null;
      const directKey = others.length === 1 && !title ? [me, others[0]!].sort().join(':') : null;
      if (directKey) {
        const existing = await repo.findByDirectKey(db, directKey);
        if (existing) return { conversation: (await loadConversations(db, [existing]))[0]!, created: false };
      }
      const id = await db.transaction().execute(async (trx) => {
        const row = await repo.insertConversation(trx, { title, createdBy: me, directKey });
        if (!row) return null;
        await repo.insertMembers(trx, row.id, [{ userId: me, role: 'owner' }, ...others.map((userId) => ({ userId, role: 'member' as const }))]);
        return row.id;
      });
      if (!id) {
        // Lost a race with a concurrent create of the same pair.
        const existing = await repo.findByDirectKey(db, directKey!);
        if (!existing) throw new Error('direct conversation vanished');
        return { conversation: (await loadConversations(db, [existing]))[0]!, created: false };
      }
      const conversation = await loadConversation(db, id);
      await events.emit('conversation.created', { conversation, memberIds: memberIds(conversation) });
      wake(pubsub, logger, memberIds(conversation), { conversation_id: id, kind: 'conversation' });
      return { conversation, created: true };
    },

    /** One conversation of the actor. Throws NotFound for non-members. */
    async get(actor: Actor, conversationId: string): Promise<Conversation> {
      await requireMember(db, conversationId, actor.user.id);
      return loadConversation(db, conversationId);
    },

    /** The actor's conversations, most recent activity first. */
    list: myPage,

    /** The chat inbox: the actor's conversations with the last message, unread count and watermarks. */
    async inbox(actor: Actor, page: Partial<PageQuery>): Promise<Page<InboxEntry>> {
      const p = await myPage(actor, page);
      return { count: p.count, items: p.items.map((c) => inboxEntry(c, actor.user.id)) };
    },

    /** One inbox entry. Throws NotFound for non-members. */
    async inboxEntry(actor: Actor, conversationId: string): Promise<InboxEntry> {
      await requireMember(db, conversationId, actor.user.id);
      return inboxEntry(await loadConversation(db, conversationId), actor.user.id);
    },

    /** Set or clear the title (any member). */
    async rename(actor: Actor, conversationId: string, title: string | null): Promise<Conversation> {
      const data = parseInput(renameConversationSchema, { title });
      await requireMember(db, conversationId, actor.user.id);
      await db.transaction().execute(async (trx) => {
        await repo.lockConversations(trx, [conversationId]);
        await requireMember(trx, conversationId, actor.user.id);
        await repo.updateConversation(trx, conversationId, { title: data.title ? data.title : null });
      });
      const conversation = await loadConversation(db, conversationId);
      await events.emit('conversation.updated', { conversation, memberIds: memberIds(conversation) });
      wake(pubsub, logger, memberIds(conversation), { conversation_id: conversationId, kind: 'conversation' });
      return conversation;
    },

    /**
     * Add users (any member may). Adding to a 1:1 conversation turns it into a group. Already-present
     * users are ignored. Throws ValidationError for unknown users, NotFound for non-members.
     */
    async addParticipants(actor: Actor, conversationId: string, userIds: string[], opts: ModerationOptions = {}): Promise<Conversation> {
      const ids = [...new Set(parseInput(participantsSchema, userIds))];
      const moderator = assertModerator(actor, opts);
      if (moderator && !isId(conversationId)) throw new NotFoundError('Conversation');
      if (!moderator) await requireMember(db, conversationId, actor.user.id);
      await assertUsersExist(ids, 'participants');
      const added = await db.transaction().execute(async (trx) => {
        const [row] = await repo.lockConversations(trx, [conversationId]);
        if (!row) throw new NotFoundError('Conversation');
        if (!moderator) await requireMember(trx, conversationId, actor.user.id);
        const present = new Set((await repo.findMembers(trx, [conversationId])).map((m) => m.user_id));
        const fresh = ids.filter((id) => !present.has(id));
        if (fresh.length === 0) return fresh;
        await repo.insertMembers(trx, conversationId, fresh.map((userId) => ({ userId, role: 'member' as const })));
        await repo.updateConversation(trx, conversationId, row.direct_key ? { directKey: null } : {});
        return fresh;
      });
      const conversation = await loadConversation(db, conversationId);
      if (added.length > 0) {
        await events.emit('conversation.member_added', { conversation, addedUserIds: added, memberIds: memberIds(conversation) });
        wake(pubsub, logger, memberIds(conversation), { conversation_id: conversationId, kind: 'conversation' });
      }
      return conversation;
    },

    removeParticipant,

    /** Leave a conversation (deleted with its messages when nobody is left). */
    async leave(actor: Actor, conversationId: string): Promise<{ deleted: boolean }> {
      return removeParticipant(actor, conversationId, actor.user.id);
    },

    /** Ids of the user's conversations (socket rooms to join). */
    async conversationIdsOf(userId: string): Promise<string[]> {
      return repo.conversationIdsOf(db, userId);
    },

    /** The subset of `others` that share at least one conversation with `userId`. */
    async partnersAmong(userId: string, others: readonly string[]): Promise<Set<string>> {
      return repo.partnersAmong(db, userId, others.filter(isId));
    },

    /** True when the two users share a conversation (may see each other's profile). */
    async shareConversation(a: string, b: string): Promise<boolean> {
      return repo.shareConversation(db, a, b);
    },
  };
}

export type ConversationService = ReturnType<typeof createConversationService>;
