/**
 * Staff views of conversations (the admin): search every conversation, read any conversation and page
 * its history, counts for the dashboard. Changes go through the conversation and message services with
 * `moderator: true`, so the rules and events are the same as for members.
 */
import type { Kysely } from 'kysely';
import { z } from 'zod';
import type { Database } from '../../db/database.ts';
import { NotFoundError } from '../../errors.ts';
import { loadConversation, loadConversations } from './messaging.shared.ts';
import * as msgRepo from './message.repository.ts';
import { isId } from './messaging.schemas.ts';
import type { Conversation, Message, MessageWindow } from './messaging.types.ts';
import * as repo from './moderation.repository.ts';

/** Rows per page in the staff list. */
export const MODERATION_PAGE_SIZE = 50;
/** Messages per history page in the admin. */
export const MODERATION_HISTORY_PAGE = 50;

export const conversationSearchSchema = z.object({
  q: z.string().trim().max(200).default(''),
  member: z.uuid().or(z.literal('')).catch('').default(''),
  sort: z.enum(['activity', '-activity', 'created', '-created']).catch('-activity').default('-activity'),
  page: z.coerce.number().int().min(1).max(200).catch(1).default(1),
});
export type ConversationSearchInput = z.infer<typeof conversationSearchSchema>;

export function createModerationService(deps: { db: Kysely<Database> }) {
  const { db } = deps;
  return {
    /** One page of conversations (with members and last message). */
    async search(input: ConversationSearchInput): Promise<{ conversations: Conversation[]; hasMore: boolean }> {
      const rows = await repo.searchConversations(db, {
        q: input.q,
        memberId: input.member || null,
        sort: input.sort.replace('-', '') as 'activity' | 'created',
        desc: input.sort.startsWith('-'),
        limit: MODERATION_PAGE_SIZE + 1,
        offset: (input.page - 1) * MODERATION_PAGE_SIZE,
      });
      return { conversations: await loadConversations(db, rows.slice(0, MODERATION_PAGE_SIZE)), hasMore: rows.length > MODERATION_PAGE_SIZE };
    },

    /** Any conversation. Throws NotFoundError. */
    async get(conversationId: string): Promise<Conversation> {
      if (!isId(conversationId)) throw new NotFoundError('Conversation');
      return loadConversation(db, conversationId);
    },

    /** The newest messages before `beforeSeq` (or the newest), ascending, deleted ones included. */
    async history(conversation: Conversation, beforeSeq?: number): Promise<MessageWindow> {
      return msgRepo.findWindow(db, conversation.id, conversation.lastSeq, { ...(beforeSeq !== undefined ? { beforeSeq } : {}), limit: MODERATION_HISTORY_PAGE });
    },

    /** Any message, or null. */
    async message(messageId: string): Promise<Message | null> {
      return isId(messageId) ? ((await msgRepo.findMessageById(db, messageId)) ?? null) : null;
    },

    countConversations(): Promise<number> {
      return repo.countConversations(db);
    },

    countMessagesSince(since: Date): Promise<number> {
      return repo.countMessagesSince(db, since);
    },
  };
}

export type ModerationService = ReturnType<typeof createModerationService>;
