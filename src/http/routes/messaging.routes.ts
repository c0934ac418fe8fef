/**
 * The chat REST API: conversations and their members, messages (flat and nested under a conversation),
 * the chat inbox and receipts. Each handler is a few lines around the messaging services.
 */
import type Koa from 'koa';
import { z } from 'zod';
import type { AppContext } from '../../app-context.ts';
import {
  clientMsgIdSchema,
  idSchema,
  messageBodySchema,
  PAGE_SIZE_DEFAULT,
  PAGE_SIZE_MAX,
  participantsSchema,
  titleSchema,
} from '../../domain/messaging/messaging.schemas.ts';
import { MESSAGE_STATUSES, type Message, type MessageWindow } from '../../domain/messaging/messaging.types.ts';
import type { Actor } from '../../domain/users/user.types.ts';
import { ValidationError } from '../../errors.ts';
import type { Api } from '../api.ts';
import { cursorLinks, pageLinks } from '../pagination.ts';
import {
  chatSchema,
  conversationSchema,
  messageReceiptsSchema,
  messageSchema,
  pageSchema,
  presentChat,
  presentConversation,
  presentMessage,
  presentReceipt,
  presentWatermarks,
  watermarksSchema,
} from '../presenters/messaging.ts';

const READ = { scope: 'read:messages' } as const;
const SEND = { scope: 'send:messages' } as const;
const MANAGE = { scope: 'manage:conversations' } as const;

// Path ids are plain strings: a malformed id names nothing, so it is a 404 like an unknown one.
const conversationParams = z.object({ id: z.string().max(64) });
const messageParams = z.object({ id: z.string().max(64) });
const memberParams = z.object({ id: z.string().max(64), user_id: z.string().max(64) });

const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
const pageQuery = {
  page: int(1, 1_000_000).optional().meta({ description: 'Page number (default 1)' }),
  page_size: int(1, PAGE_SIZE_MAX).optional().meta({ description: `Items per page (default ${PAGE_SIZE_DEFAULT}, at most ${PAGE_SIZE_MAX})` }),
};
const cursorQuery = {
  after_seq: int(0, Number.MAX_SAFE_INTEGER).optional().meta({ description: 'Cursor mode: messages with seq greater than this, oldest first' }),
  before_seq: int(1, Number.MAX_SAFE_INTEGER).optional().meta({ description: 'Cursor mode: the newest messages with seq lower than this' }),
  limit: int(1, PAGE_SIZE_MAX).optional().meta({ description: 'Cursor mode: at most this many (default 50)' }),
};
const historyQuery = z.object({ ...pageQuery, ...cursorQuery });
const messagesQuery = z.object({
  ...pageQuery,
  ...cursorQuery,
  conversation: idSchema.optional().meta({ description: 'Only this conversation' }),
  status: z.enum(MESSAGE_STATUSES).optional().meta({ description: 'Only messages with this status' }),
});

const createConversationBody = z
  .object({
    participants: participantsSchema.meta({ description: 'User ids; you are always added' }),
    title: titleSchema.optional(),
  })
  .meta({ id: 'CreateConversation', example: { participants: ['9a1c3e5f-7b2d-4f6a-8c0e-1d3f5a7b9c24'] } });
const renameBody = z.object({ title: titleSchema }).meta({ id: 'RenameConversation', example: { title: 'Weekend plans' } });
const participantsBody = z.object({ participants: participantsSchema }).meta({ id: 'AddParticipants' });
const sendBody = z
  .object({
    message_body: messageBodySchema,
    client_msg_id: clientMsgIdSchema.optional().meta({ description: 'Client-generated id (UUIDv7 recommended); a retry with the same id returns the original' }),
  })
  .meta({ id: 'SendMessageInConversation', example: { message_body: 'Hello, how are you?' } });
const sendFlatBody = sendBody
  .extend({ conversation: idSchema })
  .meta({ id: 'SendMessage', example: { conversation: '0b7c9a52-3f1e-4f7a-9a51-6f0c2d1e8b34', message_body: 'Hello, how are you?' } });
const editBody = z.object({ message_body: messageBodySchema }).meta({ id: 'EditMessage', example: { message_body: 'Hello, how are you doing?' } });
const receiptsBody = z
  .object({
    delivered_seq: int(0, Number.MAX_SAFE_INTEGER).optional(),
    read_seq: int(0, Number.MAX_SAFE_INTEGER).optional(),
  })
  .refine((b) => b.delivered_seq !== undefined || b.read_seq !== undefined, { message: 'give delivered_seq, read_seq or both' })
  .meta({ id: 'MarkReceipts', example: { read_seq: 42 } });

const conversationPage = pageSchema(conversationSchema, 'ConversationPage');
const messagePage = pageSchema(messageSchema, 'MessagePage');
const chatPage = pageSchema(chatSchema, 'ChatPage');

const SEED_CURL = (token: string) =>
  [
    '```sh',
    `curl -X POST $BASE/api/conversations/ -H "Authorization: Bearer ${token}" -H 'Content-Type: application/json' -d '{"participants": ["<user id>"]}'`,
    `curl -X POST $BASE/api/messages/ -H "Authorization: Bearer ${token}" -H 'Content-Type: application/json' -d '{"conversation": "<conversation id>", "message_body": "Hello, how are you?"}'`,
    `curl "$BASE/api/conversations/<conversation id>/messages/" -H "Authorization: Bearer ${token}"`,
    '```',
  ].join('\n');

export function registerMessagingRoutes(api: Api, app: AppContext): void {
  const { conversations, messages } = app.services;
  const base = app.config.http.publicUrl;

  /** The Idempotency-Key header, reconciled with client_msg_id in the body. */
  function idempotencyKey(ctx: Koa.Context, fromBody: string | undefined): string | undefined {
    const header = ctx.get('Idempotency-Key') || undefined;
    if (header !== undefined) {
      const ok = clientMsgIdSchema.safeParse(header);
      if (!ok.success) throw new ValidationError('Invalid Idempotency-Key header', [{ path: 'Idempotency-Key', message: ok.error.issues[0]!.message }]);
      if (fromBody !== undefined && fromBody !== header) {
        throw new ValidationError('client_msg_id and Idempotency-Key differ', [{ path: 'client_msg_id', message: 'must equal the Idempotency-Key header' }]);
      }
    }
    return fromBody ?? header;
  }

  async function send(ctx: Koa.Context, actor: Actor, conversationId: string, body: { message_body: string; client_msg_id?: string | undefined }) {
    const clientMsgId = idempotencyKey(ctx, body.client_msg_id);
    const { message, created } = await messages.send(actor, { conversationId, body: body.message_body, ...(clientMsgId ? { clientMsgId } : {}) });
    ctx.status = created ? 201 : 200;
    ctx.body = presentMessage(message);
  }

  function windowPage(ctx: Koa.Context, w: MessageWindow) {
    return { count: null, ...cursorLinks(ctx, base, w), results: w.items.map(presentMessage) };
  }

  const isCursor = (q: { after_seq?: number | undefined; before_seq?: number | undefined; limit?: number | undefined }) =>
    q.after_seq !== undefined || q.before_seq !== undefined || q.limit !== undefined;
  const cursorOf = (q: { after_seq?: number | undefined; before_seq?: number | undefined; limit?: number | undefined }) => ({
    ...(q.after_seq !== undefined ? { afterSeq: q.after_seq } : {}),
    ...(q.before_seq !== undefined ? { beforeSeq: q.before_seq } : {}),
    ...(q.limit !== undefined ? { limit: q.limit } : {}),
  });
  const pageOf = (q: { page?: number | undefined; page_size?: number | undefined }) => ({ page: q.page ?? 1, pageSize: q.page_size ?? PAGE_SIZE_DEFAULT });

  function messagesPage(ctx: Koa.Context, q: { page?: number | undefined; page_size?: number | undefined }, p: { count: number; items: Message[] }) {
    const { page, pageSize } = pageOf(q);
    return { count: p.count, ...pageLinks(ctx, base, page, pageSize, p.count), results: p.items.map(presentMessage) };
  }

  // Conversations

  api.route({
    method: 'get',
    path: '/api/conversations/',
    summary: 'List my conversations, most recent activity first',
    tags: ['conversations'],
    auth: READ,
    query: z.object(pageQuery),
    response: conversationPage,
    errors: { 404: 'Page past the end (`invalid_page`)' },
    handler: async (ctx, { actor, query }) => {
      const { page, pageSize } = pageOf(query);
      const p = await conversations.list(actor, { page, pageSize });
      return { count: p.count, ...pageLinks(ctx, base, page, pageSize, p.count), results: p.items.map(presentConversation) };
    },
  });

  api.route({
    method: 'post',
    path: '/api/conversations/',
    summary: 'Create a conversation (you are always a participant; a 1:1 conversation is returned if it exists)',
    description: `201 with the new conversation, or 200 with the existing 1:1 conversation between the same two users.\n\nThe seed's examples, with a token from \`/o/token/\` (or the session cookie):\n\n${SEED_CURL('$TOKEN')}`,
    tags: ['conversations'],
    auth: MANAGE,
    body: createConversationBody,
    status: 201,
    response: conversationSchema,
    handler: async (ctx, { actor, body }) => {
      const { conversation, created } = await conversations.create(actor, { participants: body.participants, ...(body.title !== undefined ? { title: body.title } : {}) });
      ctx.status = created ? 201 : 200;
      ctx.body = presentConversation(conversation);
    },
  });

  api.route({
    method: 'get',
    path: '/api/conversations/:id/',
    summary: 'One of my conversations',
    tags: ['conversations'],
    auth: READ,
    params: conversationParams,
    response: conversationSchema,
    errors: { 404: 'No such conversation, or you are not a participant' },
    handler: async (_ctx, { actor, params }) => presentConversation(await conversations.get(actor, params.id)),
  });

  for (const method of ['patch', 'put'] as const) {
    api.route({
      method,
      path: '/api/conversations/:id/',
      summary: 'Rename a conversation (any participant)',
      tags: ['conversations'],
      auth: MANAGE,
      params: conversationParams,
      body: renameBody,
      response: conversationSchema,
      errors: { 404: 'No such conversation, or you are not a participant' },
      handler: async (_ctx, { actor, params, body }) => presentConversation(await conversations.rename(actor, params.id, body.title)),
    });
  }

  api.route({
    method: 'delete',
    path: '/api/conversations/:id/',
    summary: 'Leave a conversation (it is deleted with its messages when the last participant leaves)',
    tags: ['conversations'],
    auth: MANAGE,
    params: conversationParams,
    status: 204,
    errors: { 404: 'No such conversation, or you are not a participant' },
    handler: async (_ctx, { actor, params }) => {
      await conversations.leave(actor, params.id);
    },
  });

  api.route({
    method: 'post',
    path: '/api/conversations/:id/participants/',
    summary: 'Add participants (any participant may; a 1:1 conversation becomes a group)',
    tags: ['conversations'],
    auth: MANAGE,
    params: conversationParams,
    body: participantsBody,
    response: conversationSchema,
    errors: { 404: 'No such conversation, or you are not a participant' },
    handler: async (_ctx, { actor, params, body }) => presentConversation(await conversations.addParticipants(actor, params.id, body.participants)),
  });

  api.route({
    method: 'delete',
    path: '/api/conversations/:id/participants/:user_id/',
    summary: 'Remove a participant (yourself, or anyone if you own the conversation)',
    tags: ['conversations'],
    auth: MANAGE,
    params: memberParams,
    status: 204,
    errors: { 403: 'Only the owner removes others (`not_conversation_owner`)', 404: 'No such conversation or participant' },
    handler: async (_ctx, { actor, params }) => {
      await conversations.removeParticipant(actor, params.id, params.user_id);
    },
  });

  // Messages nested under a conversation

  api.route({
    method: 'get',
    path: '/api/conversations/:id/messages/',
    summary: "A conversation's messages",
    description:
      'Page mode (default; `page`, `page_size`): newest first, with `count`. Cursor mode (any of `after_seq`, `before_seq`, `limit`): oldest first by `seq`, `count` is null, `next`/`previous` continue by seq.',
    tags: ['messages'],
    auth: READ,
    params: conversationParams,
    query: historyQuery,
    response: messagePage,
    errors: { 404: 'No such conversation, or you are not a participant' },
    handler: async (ctx, { actor, params, query }) => {
      if (isCursor(query)) return windowPage(ctx, await messages.history(actor, params.id, cursorOf(query)));
      return messagesPage(ctx, query, await messages.list(actor, { conversationId: params.id, ...pageOf(query) }));
    },
  });

  api.route({
    method: 'post',
    path: '/api/conversations/:id/messages/',
    summary: 'Send a message to a conversation (idempotent with client_msg_id or Idempotency-Key)',
    description: '201 with the new message; 200 with the original when the same `client_msg_id` (or `Idempotency-Key` header) was already used by you in this conversation.',
    tags: ['messages'],
    auth: SEND,
    params: conversationParams,
    body: sendBody,
    status: 201,
    response: messageSchema,
    errors: { 404: 'No such conversation, or you are not a participant', 429: 'Send budget spent (`rate_limited`)' },
    handler: async (ctx, { actor, params, body }) => send(ctx, actor, params.id, body),
  });

  // Messages (the seed's flat routes)

  api.route({
    method: 'get',
    path: '/api/messages/',
    summary: 'Messages of my conversations, newest first (filters: conversation, status)',
    description: 'Page mode by default; with `conversation` set, `after_seq`/`before_seq`/`limit` switch to cursor mode as on the nested route.',
    tags: ['messages'],
    auth: READ,
    query: messagesQuery,
    response: messagePage,
    errors: { 404: 'The conversation filter names a conversation you are not in' },
    handler: async (ctx, { actor, query }) => {
      if (isCursor(query)) {
        if (!query.conversation) throw new ValidationError('Cursor paging needs a conversation', [{ path: 'conversation', message: 'required with after_seq, before_seq or limit' }]);
        if (query.status) throw new ValidationError('status cannot be combined with cursor paging', [{ path: 'status', message: 'not allowed with after_seq, before_seq or limit' }]);
        return windowPage(ctx, await messages.history(actor, query.conversation, cursorOf(query)));
      }
      return messagesPage(
        ctx,
        query,
        await messages.list(actor, { ...(query.conversation ? { conversationId: query.conversation } : {}), ...(query.status ? { status: query.status } : {}), ...pageOf(query) }),
      );
    },
  });

  api.route({
    method: 'post',
    path: '/api/messages/',
    summary: 'Send a message (idempotent with client_msg_id or Idempotency-Key)',
    description: `201 with the new message; 200 with the original on a retry with the same \`client_msg_id\`/\`Idempotency-Key\`. You must be a participant (404 otherwise).\n\n${SEED_CURL('$TOKEN')}`,
    tags: ['messages'],
    auth: SEND,
    body: sendFlatBody,
    status: 201,
    response: messageSchema,
    errors: { 404: 'No such conversation, or you are not a participant', 429: 'Send budget spent (`rate_limited`)' },
    handler: async (ctx, { actor, body }) => send(ctx, actor, body.conversation, body),
  });

  api.route({
    method: 'get',
    path: '/api/messages/:id/',
    summary: 'One message',
    tags: ['messages'],
    auth: READ,
    params: messageParams,
    response: messageSchema,
    errors: { 404: 'No such message, or you are not a participant' },
    handler: async (_ctx, { actor, params }) => presentMessage(await messages.get(actor, params.id)),
  });

  for (const method of ['patch', 'put'] as const) {
    api.route({
      method,
      path: '/api/messages/:id/',
      summary: 'Edit your own message',
      tags: ['messages'],
      auth: SEND,
      params: messageParams,
      body: editBody,
      response: messageSchema,
      errors: { 403: 'Not your message (`not_message_sender`)', 404: 'No such message, or you are not a participant', 409: 'The message was deleted (`message_deleted`)' },
      handler: async (_ctx, { actor, params, body }) => presentMessage(await messages.edit(actor, params.id, body.message_body)),
    });
  }

  api.route({
    method: 'delete',
    path: '/api/messages/:id/',
    summary: 'Delete your own message (its body is removed, its seq stays)',
    tags: ['messages'],
    auth: SEND,
    params: messageParams,
    status: 204,
    errors: { 403: 'Not your message (`not_message_sender`)', 404: 'No such message, or you are not a participant' },
    handler: async (_ctx, { actor, params }) => {
      await messages.remove(actor, params.id);
    },
  });

  api.route({
    method: 'get',
    path: '/api/messages/:id/receipts/',
    summary: "A message's per-recipient delivery and read state",
    tags: ['messages'],
    auth: READ,
    params: messageParams,
    response: messageReceiptsSchema,
    errors: { 404: 'No such message, or you are not a participant' },
    handler: async (_ctx, { actor, params }) => {
      const { message, receipts } = await messages.receipts(actor, params.id);
      return { message_id: message.id, seq: message.seq, status: message.status, receipts: receipts.map(presentReceipt) };
    },
  });

  // Receipts and the inbox

  api.route({
    method: 'post',
    path: '/api/conversations/:id/receipts/',
    summary: 'Mark messages delivered and/or read up to a seq (watermarks only move forward)',
    description: 'Seqs above the last message are capped; read implies delivered. Answers the resulting watermarks.',
    tags: ['messages'],
    auth: READ,
    params: conversationParams,
    body: receiptsBody,
    response: watermarksSchema,
    errors: { 404: 'No such conversation, or you are not a participant' },
    handler: async (_ctx, { actor, params, body }) =>
      presentWatermarks(
        await messages.markReceipts(actor, params.id, {
          ...(body.delivered_seq !== undefined ? { deliveredSeq: body.delivered_seq } : {}),
          ...(body.read_seq !== undefined ? { readSeq: body.read_seq } : {}),
        }),
      ),
  });

  api.route({
    method: 'get',
    path: '/api/chats/',
    summary: 'My chat inbox: conversations with their last message, unread count and my watermarks',
    tags: ['chats'],
    auth: READ,
    query: z.object(pageQuery),
    response: chatPage,
    errors: { 404: 'Page past the end (`invalid_page`)' },
    handler: async (ctx, { actor, query }) => {
      const { page, pageSize } = pageOf(query);
      const p = await conversations.inbox(actor, { page, pageSize });
      return { count: p.count, ...pageLinks(ctx, base, page, pageSize, p.count), results: p.items.map(presentChat) };
    },
  });

  api.route({
    method: 'get',
    path: '/api/chats/:id/',
    summary: 'One inbox entry (by conversation id)',
    tags: ['chats'],
    auth: READ,
    params: conversationParams,
    response: chatSchema,
    errors: { 404: 'No such conversation, or you are not a participant' },
    handler: async (_ctx, { actor, params }) => presentChat(await conversations.inboxEntry(actor, params.id)),
  });
}
