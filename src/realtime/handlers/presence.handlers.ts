/** Typing indicators and presence queries. */
import { z } from 'zod';
import { RateLimitedError, NotFoundError } from '../../errors.ts';
import { defineHandler } from '../handler.ts';
import { windowCounter } from '../limits.ts';
import { conversationRoom } from '../rooms.ts';
import type { RealtimeContext } from '../server.ts';
import type { RealtimeSocket } from '../events.ts';

const typingSchema = z.strictObject({
  conversation_id: z.uuid(),
  typing: z.boolean().optional(),
});

const presenceGetSchema = z.strictObject({
  user_ids: z.array(z.uuid()).min(1).max(100),
});

export function registerPresenceHandlers(rt: RealtimeContext, socket: RealtimeSocket): void {
  const typingBudget = windowCounter(rt.config.typingPer10s, 10_000);

  socket.on(
    'typing',
    defineHandler(rt.handlerDeps, socket, { event: 'typing', scope: 'read:messages', schema: typingSchema }, (input) => {
      const room = conversationRoom(input.conversation_id);
      // Room membership mirrors conversation membership (joined on connect, updated on every change).
      if (!socket.rooms.has(room)) throw new NotFoundError('Conversation');
      if (!typingBudget.take()) throw new RateLimitedError(10);
      // Volatile: a typing signal that cannot be sent right now is worthless later.
      socket.volatile.to(room).emit('typing', {
        conversation_id: input.conversation_id,
        user_id: socket.data.actor.user.id,
        typing: input.typing ?? true,
        expires_in_ms: rt.config.typingTtlMs,
      });
      return { ok: true as const };
    }),
  );

  socket.on(
    'presence:get',
    defineHandler(rt.handlerDeps, socket, { event: 'presence:get', scope: 'read:messages', schema: presenceGetSchema }, async (input) => {
      const me = socket.data.actor.user.id;
      const visible = await rt.chat.partnersAmong(me, input.user_ids);
      visible.add(me);
      const ids = input.user_ids.filter((id) => visible.has(id));
      const online = await rt.presence.online(ids);
      return { users: ids.map((user_id) => ({ user_id, status: online.has(user_id) ? ('online' as const) : ('offline' as const) })) };
    }),
  );
}
