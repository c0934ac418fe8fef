/**
 * Conversations, messages, inbox entries and receipts as the chat API shows them: the seed's snake_case
 * fields (`conversation_id`, `participants`, `message_id`, `message_body`, `status`, `sent_at`…) plus ours.
 */
import { z } from 'zod';
import type { Conversation, InboxEntry, Message, Receipt, Watermarks } from '../../domain/messaging/messaging.types.ts';
import { MESSAGE_STATUSES } from '../../domain/messaging/messaging.types.ts';

const PREVIEW_LENGTH = 50;
const EXAMPLE_TIME = '2026-11-21T10:56:45.652Z';
const EXAMPLE_CONVERSATION = '0b7c9a52-3f1e-4f7a-9a51-6f0c2d1e8b34';
const EXAMPLE_USER_1 = '5f0e2a7c-1b9d-4c3e-8f6a-2d4b6c8e0a13';
const EXAMPLE_USER_2 = '9a1c3e5f-7b2d-4f6a-8c0e-1d3f5a7b9c24';

export const messageSchema = z
  .object({
    message_id: z.uuid(),
    conversation: z.uuid(),
    sender: z.uuid().nullable(),
    seq: z.number().int().meta({ description: 'Position in the conversation: 1, 2, 3… without gaps' }),
    change_seq: z.number().int().meta({ description: 'Change position in the conversation (insert, each edit, deletion), for catch-up' }),
    client_msg_id: z.string().nullable(),
    message_body: z.string().nullable().meta({ description: 'null once the message was deleted' }),
    status: z.enum(MESSAGE_STATUSES).meta({ description: 'For the sender: sent (committed), delivered (every other member received it), read (every other member read it)' }),
    sent_at: z.iso.datetime(),
    edited_at: z.iso.datetime().nullable(),
    deleted_at: z.iso.datetime().nullable(),
  })
  .meta({
    id: 'Message',
    example: {
      message_id: '3d6f1b2a-8c4e-4a9f-b1d3-5e7a9c0b2d46',
      conversation: EXAMPLE_CONVERSATION,
      sender: EXAMPLE_USER_1,
      seq: 1,
      change_seq: 1,
      client_msg_id: '0192f3a4-5b6c-7d8e-9f01-23456789abcd',
      message_body: 'Hello, how are you?',
      status: 'sent',
      sent_at: '2026-11-21T11:00:20.989Z',
      edited_at: null,
      deleted_at: null,
    },
  });

export const conversationSchema = z
  .object({
    conversation_id: z.uuid(),
    title: z.string().nullable(),
    participants: z.array(z.uuid()),
    participants_count: z.number().int(),
    owners: z.array(z.uuid()),
    is_direct: z.boolean().meta({ description: 'A 1:1 conversation (one per pair of users)' }),
    created_by: z.uuid().nullable(),
    last_message_preview: z.string(),
    last_seq: z.number().int(),
    last_message_at: z.iso.datetime().nullable(),
    created_at: z.iso.datetime(),
    updated_at: z.iso.datetime(),
  })
  .meta({
    id: 'Conversation',
    example: {
      conversation_id: EXAMPLE_CONVERSATION,
      title: null,
      participants: [EXAMPLE_USER_1, EXAMPLE_USER_2],
      participants_count: 2,
      owners: [EXAMPLE_USER_1],
      is_direct: true,
      created_by: EXAMPLE_USER_1,
      last_message_preview: 'No messages yet',
      last_seq: 0,
      last_message_at: null,
      created_at: EXAMPLE_TIME,
      updated_at: EXAMPLE_TIME,
    },
  });

export const chatSchema = z
  .object({
    conversation_id: z.uuid(),
    title: z.string().nullable(),
    participants: z.array(z.uuid()),
    participants_count: z.number().int(),
    is_direct: z.boolean(),
    last_message: messageSchema.nullable(),
    last_message_preview: z.string(),
    last_seq: z.number().int(),
    unread_count: z.number().int().meta({ description: 'last_seq - read_seq' }),
    delivered_seq: z.number().int(),
    read_seq: z.number().int(),
    last_message_at: z.iso.datetime().nullable(),
    updated_at: z.iso.datetime(),
  })
  .meta({ id: 'Chat' });

export const receiptSchema = z
  .object({
    user_id: z.uuid(),
    delivered: z.boolean(),
    read: z.boolean(),
    delivered_seq: z.number().int(),
    read_seq: z.number().int(),
  })
  .meta({ id: 'Receipt' });

export const messageReceiptsSchema = z
  .object({ message_id: z.uuid(), seq: z.number().int(), status: z.enum(MESSAGE_STATUSES), receipts: z.array(receiptSchema) })
  .meta({ id: 'MessageReceipts' });

export const watermarksSchema = z
  .object({
    conversation_id: z.uuid(),
    user_id: z.uuid(),
    delivered_seq: z.number().int(),
    read_seq: z.number().int(),
    last_seq: z.number().int(),
    unread_count: z.number().int(),
  })
  .meta({ id: 'Watermarks' });

/** The seed's page format. `count` is null for cursor pages (they never count the table). */
export function pageSchema<S extends z.ZodType>(item: S, id: string) {
  return z
    .object({
      count: z.number().int().nullable(),
      next: z.string().nullable(),
      previous: z.string().nullable(),
      results: z.array(item),
    })
    .meta({ id });
}

function iso(d: Date | null): string | null {
  return d ? d.toISOString() : null;
}

export function presentMessage(m: Message): z.infer<typeof messageSchema> {
  return {
    message_id: m.id,
    conversation: m.conversationId,
    sender: m.senderId,
    seq: m.seq,
    change_seq: m.changeSeq,
    client_msg_id: m.clientMsgId,
    message_body: m.body,
    status: m.status,
    sent_at: m.createdAt.toISOString(),
    edited_at: iso(m.editedAt),
    deleted_at: iso(m.deletedAt),
  };
}

/** Newest message body, at most 50 characters + "..."; "No messages yet" before the first. */
export function messagePreview(m: Message | null): string {
  if (!m) return 'No messages yet';
  if (m.body === null) return 'Message deleted';
  const chars = [...m.body];
  return chars.length > PREVIEW_LENGTH ? `${chars.slice(0, PREVIEW_LENGTH).join('')}...` : m.body;
}

export function presentConversation(c: Conversation): z.infer<typeof conversationSchema> {
  return {
    conversation_id: c.id,
    title: c.title,
    participants: c.members.map((m) => m.userId),
    participants_count: c.members.length,
    owners: c.members.filter((m) => m.role === 'owner').map((m) => m.userId),
    is_direct: c.isDirect,
    created_by: c.createdBy,
    last_message_preview: messagePreview(c.lastMessage),
    last_seq: c.lastSeq,
    last_message_at: iso(c.lastMessageAt),
    created_at: c.createdAt.toISOString(),
    updated_at: c.updatedAt.toISOString(),
  };
}

export function presentChat(e: InboxEntry): z.infer<typeof chatSchema> {
  const c = e.conversation;
  return {
    conversation_id: c.id,
    title: c.title,
    participants: c.members.map((m) => m.userId),
    participants_count: c.members.length,
    is_direct: c.isDirect,
    last_message: c.lastMessage ? presentMessage(c.lastMessage) : null,
    last_message_preview: messagePreview(c.lastMessage),
    last_seq: c.lastSeq,
    unread_count: e.unreadCount,
    delivered_seq: e.deliveredSeq,
    read_seq: e.readSeq,
    last_message_at: iso(c.lastMessageAt),
    updated_at: c.updatedAt.toISOString(),
  };
}

export function presentReceipt(r: Receipt): z.infer<typeof receiptSchema> {
  return { user_id: r.userId, delivered: r.delivered, read: r.read, delivered_seq: r.deliveredSeq, read_seq: r.readSeq };
}

export function presentWatermarks(w: Watermarks): z.infer<typeof watermarksSchema> {
  return {
    conversation_id: w.conversationId,
    user_id: w.userId,
    delivered_seq: w.deliveredSeq,
    read_seq: w.readSeq,
    last_seq: w.lastSeq,
    unread_count: Math.max(0, w.lastSeq - w.readSeq),
  };
}
