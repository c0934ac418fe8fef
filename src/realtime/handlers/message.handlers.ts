/**
 * Chat events: send, edit, delete, receipts and catch-up. Each is a thin adapter over the messaging
 * services (the same calls the REST routes make); rules, membership checks and transactions live there.
 * Broadcasts are not made here: the publisher emits after commit, from the domain's events.
 */
import { z } from 'zod';
import { clientMsgIdSchema, idSchema, messageBodySchema } from '../../domain/messaging/messaging.schemas.ts';
import type { ConversationSync } from '../../domain/messaging/messaging.types.ts';
import { presentMessage, presentWatermarks } from '../../http/presenters/messaging.ts';
import type { ConversationSyncPayload } from '../events.ts';
import { defineHandler } from '../handler.ts';
import type { RealtimeContext } from '../server.ts';
import type { RealtimeSocket } from '../events.ts';

const seq = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);

const sendSchema = z.strictObject({
  conversation_id: idSchema,
  body: messageBodySchema,
  client_msg_id: clientMsgIdSchema.nullable().optional(),
});
const editSchema = z.strictObject({ message_id: idSchema, body: messageBodySchema });
const deleteSchema = z.strictObject({ message_id: idSchema });
const receiptSchema = z.strictObject({ conversation_id: idSchema, seq });
const syncSchema = z
  .strictObject({
    conversation_id: idSchema.optional(),
    after_change_seq: seq.optional(),
    cursors: z.record(idSchema, seq).optional(),
    limit: z.number().int().min(1).max(1000).optional(),
  })
  .refine((v) => !(v.conversation_id && v.cursors), { message: 'give conversation_id or cursors, not both' })
  .refine((v) => !v.cursors || Object.keys(v.cursors).length <= 1000, { message: 'at most 1000 cursors', path: ['cursors'] });

function presentSync(c: ConversationSync): ConversationSyncPayload {
  return { conversation_id: c.conversationId, changes: c.changes.map(presentMessage), has_more: c.hasMore, last_change_seq: c.lastChangeSeq };
}

export function registerMessageHandlers(rt: RealtimeContext, socket: RealtimeSocket): void {
  const { messages } = rt.app.services;
  const deps = rt.handlerDeps;
  const actor = () => socket.data.actor;

  socket.on(
    'message:send',
    defineHandler(deps, socket, { event: 'message:send', scope: 'send:messages', schema: sendSchema }, async (input) => {
      // Resolves after the commit: the ack means "sent".
      const { message, created } = await messages.send(actor(), { conversationId: input.conversation_id, body: input.body, clientMsgId: input.client_msg_id ?? null });
      return { message_id: message.id, seq: message.seq, created_at: message.createdAt.toISOString(), created, message: presentMessage(message) };
    }),
  );

  socket.on(
    'message:edit',
    defineHandler(deps, socket, { event: 'message:edit', scope: 'send:messages', schema: editSchema }, async (input) => ({
      message: presentMessage(await messages.edit(actor(), input.message_id, input.body)),
    })),
  );

  socket.on(
    'message:delete',
    defineHandler(deps, socket, { event: 'message:delete', scope: 'send:messages', schema: deleteSchema }, async (input) => ({
      message: presentMessage(await messages.remove(actor(), input.message_id)),
    })),
  );

  socket.on(
    'receipt:delivered',
    defineHandler(deps, socket, { event: 'receipt:delivered', scope: 'read:messages', schema: receiptSchema }, async (input) =>
      presentWatermarks(await messages.markReceipts(actor(), input.conversation_id, { deliveredSeq: input.seq })),
    ),
  );

  socket.on(
    'receipt:read',
    defineHandler(deps, socket, { event: 'receipt:read', scope: 'read:messages', schema: receiptSchema }, async (input) =>
      presentWatermarks(await messages.markReceipts(actor(), input.conversation_id, { readSeq: input.seq })),
    ),
  );

  socket.on(
    'sync',
    defineHandler(deps, socket, { event: 'sync', scope: 'read:messages', schema: syncSchema }, async (input) => {
      if (input.conversation_id) {
        const one = await messages.syncConversation(actor(), input.conversation_id, input.after_change_seq ?? 0, input.limit);
        return { conversations: [presentSync(one)], has_more: one.hasMore };
      }
      const all = await messages.syncAll(actor(), input.cursors ?? {}, input.limit ? { limit: input.limit } : {});
      return { conversations: all.conversations.map(presentSync), has_more: all.hasMore };
    }),
  );
}
