/**
 * Messaging events on the in-process bus, emitted only after the transaction committed. Each carries
 * what a broadcaster needs (the domain object and every member's user id) so no handler has to query.
 */
import type { Conversation, Message, SenderStatusChange } from './messaging.types.ts';

declare module '../../infra/events.ts' {
  interface AppEvents {
    'conversation.created': { conversation: Conversation; memberIds: string[] };
    /** Title changed. */
    'conversation.updated': { conversation: Conversation; memberIds: string[] };
    'conversation.member_added': { conversation: Conversation; addedUserIds: string[]; memberIds: string[] };
    /**
     * A member left or was removed. `memberIds` are the remaining members; `deleted` is true when the last
     * member left and the conversation (with its messages) is gone.
     */
    'conversation.member_removed': { conversationId: string; userId: string; removedBy: string; memberIds: string[]; deleted: boolean };
    'message.created': { conversationId: string; message: Message; memberIds: string[] };
    'message.updated': { conversationId: string; message: Message; memberIds: string[] };
    /** Soft deletion: `message.body` is null, `seq` stays. */
    'message.deleted': { conversationId: string; message: Message; memberIds: string[] };
    /**
     * A reader's watermarks moved forward. `senders` lists each sender whose messages changed status, with
     * the seq up to which their messages are now delivered/read (push `message:status` to them).
     */
    'receipt.updated': {
      conversationId: string;
      readerId: string;
      deliveredSeq: number;
      readSeq: number;
      previousDeliveredSeq: number;
      previousReadSeq: number;
      senders: SenderStatusChange[];
      memberIds: string[];
    };
  }
}

/** The pub/sub channel woken for a user whenever one of their conversations changes. */
export function userChannel(userId: string): string {
  return `user:${userId}`;
}

/** Payload published on `user:<id>` (small: a wake-up, the data is read from PostgreSQL). */
export interface UserWakeUp {
  conversation_id: string;
  /** The conversation's change position after this change, when messages changed. */
  change_seq?: number;
  kind: 'message' | 'receipt' | 'conversation';
}
