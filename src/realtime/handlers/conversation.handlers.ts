/**
 * Conversation events: create, rename, members in and out. Thin adapters over the conversation service;
 * room membership on every node follows from the domain events (see publisher.ts).
 */
import { z } from 'zod';
import { idSchema, participantsSchema, titleSchema } from '../../domain/messaging/messaging.schemas.ts';
import { presentConversation } from '../../http/presenters/messaging.ts';
import { defineHandler } from '../handler.ts';
import type { RealtimeContext } from '../server.ts';
import type { RealtimeSocket } from '../events.ts';

const SCOPE = 'manage:conversations';

const createSchema = z.strictObject({ participants: participantsSchema, title: titleSchema.optional() });
const renameSchema = z.strictObject({ conversation_id: idSchema, title: titleSchema });
const addSchema = z.strictObject({ conversation_id: idSchema, user_ids: participantsSchema });
const removeSchema = z.strictObject({ conversation_id: idSchema, user_id: idSchema });
const leaveSchema = z.strictObject({ conversation_id: idSchema });

export function registerConversationHandlers(rt: RealtimeContext, socket: RealtimeSocket): void {
  const { conversations } = rt.app.services;
  const deps = rt.handlerDeps;
  const actor = () => socket.data.actor;

  socket.on(
    'conversation:create',
    defineHandler(deps, socket, { event: 'conversation:create', scope: SCOPE, schema: createSchema }, async (input) => {
      const { conversation, created } = await conversations.create(actor(), { participants: input.participants, title: input.title ?? null });
      return { conversation: presentConversation(conversation), created };
    }),
  );

  socket.on(
    'conversation:rename',
    defineHandler(deps, socket, { event: 'conversation:rename', scope: SCOPE, schema: renameSchema }, async (input) => ({
      conversation: presentConversation(await conversations.rename(actor(), input.conversation_id, input.title)),
    })),
  );

  socket.on(
    'conversation:add_members',
    defineHandler(deps, socket, { event: 'conversation:add_members', scope: SCOPE, schema: addSchema }, async (input) => ({
      conversation: presentConversation(await conversations.addParticipants(actor(), input.conversation_id, input.user_ids)),
    })),
  );

  socket.on(
    'conversation:remove_member',
    defineHandler(deps, socket, { event: 'conversation:remove_member', scope: SCOPE, schema: removeSchema }, (input) =>
      conversations.removeParticipant(actor(), input.conversation_id, input.user_id),
    ),
  );

  socket.on(
    'conversation:leave',
    defineHandler(deps, socket, { event: 'conversation:leave', scope: SCOPE, schema: leaveSchema }, (input) => conversations.leave(actor(), input.conversation_id)),
  );
}
