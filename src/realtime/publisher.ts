/**
 * Turns committed domain facts into Socket.IO broadcasts. The domain emits its events after the
 * transaction commits, on the node that ran it; the adapter carries each emit to the nodes that have
 * members in the target room. Payloads come from the same presenters as the REST API.
 *
 * - messages → the conversation room (`message:new|updated|deleted`), in the order the domain emits them;
 * - status changes → the SENDER's user room (`message:status`, every device of theirs);
 * - membership → the members' user rooms, and room membership is changed on every node
 *   (`socketsJoin` / `socketsLeave` travel through the adapter);
 * - device command messages → the owner's device sockets (`device:command`).
 */
import type { EventBus } from '../infra/events.ts';
import { presentConversation, presentMessage } from '../http/presenters/messaging.ts';
import type { RealtimeIo } from './events.ts';
import { conversationRoom, deviceOwnerRoom, userRoom } from './rooms.ts';

/** Subscribe the broadcasts; returns the unsubscribe function. */
export function startPublisher(io: RealtimeIo, events: EventBus): () => void {
  const offs = [
    events.on('message.created', ({ conversationId, message }) => {
      io.to(conversationRoom(conversationId)).emit('message:new', presentMessage(message));
    }),
    events.on('message.updated', ({ conversationId, message }) => {
      io.to(conversationRoom(conversationId)).emit('message:updated', presentMessage(message));
    }),
    events.on('message.deleted', ({ conversationId, message }) => {
      io.to(conversationRoom(conversationId)).emit('message:deleted', presentMessage(message));
    }),
    events.on('receipt.updated', (e) => {
      for (const s of e.senders) {
        const room = io.to(userRoom(s.userId));
        if (s.deliveredSeq > s.previousDeliveredSeq) {
          room.emit('message:status', { conversation_id: e.conversationId, status: 'delivered', up_to_seq: s.deliveredSeq, from_seq: s.previousDeliveredSeq + 1, by: e.readerId });
        }
        if (s.readSeq > s.previousReadSeq) {
          room.emit('message:status', { conversation_id: e.conversationId, status: 'read', up_to_seq: s.readSeq, from_seq: s.previousReadSeq + 1, by: e.readerId });
        }
      }
      io.to(conversationRoom(e.conversationId)).emit('receipt:updated', {
        conversation_id: e.conversationId,
        user_id: e.readerId,
        delivered_seq: e.deliveredSeq,
        read_seq: e.readSeq,
      });
    }),
    events.on('conversation.created', ({ conversation, memberIds }) => {
      const users = memberIds.map(userRoom);
      io.in(users).socketsJoin(conversationRoom(conversation.id));
      io.to(users).emit('conversation:created', presentConversation(conversation));
    }),
    events.on('conversation.updated', ({ conversation, memberIds }) => {
      io.to(memberIds.map(userRoom)).emit('conversation:updated', presentConversation(conversation));
    }),
    events.on('conversation.member_added', ({ conversation, addedUserIds, memberIds }) => {
      io.in(addedUserIds.map(userRoom)).socketsJoin(conversationRoom(conversation.id));
      io.to(memberIds.map(userRoom)).emit('conversation:member_added', { conversation: presentConversation(conversation), added_user_ids: addedUserIds });
    }),
    events.on('conversation.member_removed', ({ conversationId, userId, removedBy, memberIds, deleted }) => {
      const room = conversationRoom(conversationId);
      if (deleted) io.in(room).socketsLeave(room);
      else io.in(userRoom(userId)).socketsLeave(room);
      io.to([...memberIds, userId].map(userRoom)).emit('conversation:member_removed', { conversation_id: conversationId, user_id: userId, removed_by: removedBy, deleted });
    }),
    events.on('device.command.created', ({ ownerId, message, payload, expiresAt }) => {
      io.to(deviceOwnerRoom(ownerId)).emit('device:command', { ...message, payload, expiresAt });
    }),
  ];
  return () => {
    for (const off of offs) off();
  };
}
