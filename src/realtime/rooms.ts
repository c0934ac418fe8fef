/**
 * Socket.IO room names. Every room name in the code base comes from here.
 *
 * With the sharded Redis adapter in `dynamic` mode each public room is its own Redis channel, so a node only
 * receives broadcasts for rooms it has members in. A 20-character name would be mistaken for a socket id by
 * the adapter (and broadcast to every node), so every name here carries a prefix that rules that out.
 */
import { createHash } from 'node:crypto';

/** Every chat-capable socket of a user (all their devices): status events, membership events. */
export function userRoom(userId: string): string {
  return `user:${userId}`;
}

/** Live traffic of one conversation: new/edited/deleted messages, typing, presence of its members. */
export function conversationRoom(conversationId: string): string {
  return `conversation:${conversationId}`;
}

/** True for a room made by `conversationRoom()`. */
export function isConversationRoom(room: string): boolean {
  return room.startsWith('conversation:');
}

/** Sockets of a user authenticated with a `devices`-scoped token: device command messages. */
export function deviceOwnerRoom(userId: string): string {
  return `devices:${userId}`;
}

/** Sockets opened with one browser session (hashed, so the session id never appears in Redis). */
export function sessionRoom(sessionId: string): string {
  return `session:${createHash('sha256').update(sessionId).digest('base64url')}`;
}

/** Sockets opened with access tokens of one OAuth grant (what revocation ends). */
export function grantRoom(grantId: string): string {
  return `grant:${grantId}`;
}
