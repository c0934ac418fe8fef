/**
 * The typed Socket.IO contract: what clients may emit (each with an ack), what the server emits, and what
 * a socket carries. `docs/protocol.md` describes the same events for client authors.
 *
 * Every client → server event answers through its ack with `{ data }` or `{ error: { code, message,
 * details } }` — never both, never a throw.
 */
import type { Server, Socket } from 'socket.io';
import type { z } from 'zod';
import type { WireDeviceMessageWithPayload } from '../domain/devices/device.types.ts';
import type { Actor } from '../domain/users/user.types.ts';
import type { PublicDevice } from '../http/presenters/device.ts';
import type { conversationSchema, messageSchema, watermarksSchema } from '../http/presenters/messaging.ts';

/** A message as every transport shows it (`presentMessage`). */
export type MessagePayload = z.infer<typeof messageSchema>;
/** A conversation as every transport shows it (`presentConversation`). */
export type ConversationPayload = z.infer<typeof conversationSchema>;
/** A member's receipt watermarks (`presentWatermarks`). */
export type WatermarksPayload = z.infer<typeof watermarksSchema>;

export interface AckError {
  code: string;
  message: string;
  details?: unknown;
}

export type Ack<T> = { data: T } | { error: AckError };
export type AckFn<T> = (response: Ack<T>) => void;

/** A client → server event: one payload object and an ack callback. */
export type ClientEvent<In, Out> = (payload: In, ack?: AckFn<Out>) => void;

export interface TypingInput {
  conversation_id: string;
  /** false ends the indicator at once (default true). */
  typing?: boolean;
}

export interface TypingEvent {
  conversation_id: string;
  user_id: string;
  typing: boolean;
  /** The indicator ends by itself after this many milliseconds unless repeated. */
  expires_in_ms: number;
}

export interface PresenceEvent {
  user_id: string;
  status: 'online' | 'offline';
}

export interface PresenceGetInput {
  user_ids: string[];
}

export interface PresenceGetResult {
  users: PresenceEvent[];
}

export interface SendInput {
  conversation_id: string;
  body: string;
  /** Client-generated id (UUIDv7 recommended): a retry with the same id returns the original message. */
  client_msg_id?: string | null;
}

export interface SendResult {
  message_id: string;
  seq: number;
  created_at: string;
  /** false when this was a retry and the original message is returned. */
  created: boolean;
  message: MessagePayload;
}

export interface ReceiptInput {
  conversation_id: string;
  /** Everything up to and including this seq. */
  seq: number;
}

export interface SyncInput {
  /** One conversation… */
  conversation_id?: string;
  after_change_seq?: number;
  /** …or several: conversation id → last change_seq seen (missing conversations start at 0). */
  cursors?: Record<string, number>;
  /** Changes per conversation (default 100, at most 1000). */
  limit?: number;
}

export interface ConversationSyncPayload {
  conversation_id: string;
  /** New, edited and deleted messages after the cursor, in change_seq order. */
  changes: MessagePayload[];
  has_more: boolean;
  /** Pass this as the cursor next time. */
  last_change_seq: number;
}

export interface SyncResult {
  conversations: ConversationSyncPayload[];
  /** More changes remain: call again with the new cursors. */
  has_more: boolean;
}

/** Delivered or read status of the receiver's own messages moved forward. */
export interface MessageStatusEvent {
  conversation_id: string;
  status: 'delivered' | 'read';
  /** Every message of yours in the conversation with seq ≤ up_to_seq now has `status`. */
  up_to_seq: number;
  /** The first seq whose status changed with this event (previous watermark + 1). */
  from_seq: number;
  /** The member whose receipt completed the change. */
  by: string;
}

export interface ReceiptEvent {
  conversation_id: string;
  user_id: string;
  delivered_seq: number;
  read_seq: number;
}

export interface MemberRemovedEvent {
  conversation_id: string;
  user_id: string;
  removed_by: string;
  /** The conversation is gone (its last member left). */
  deleted: boolean;
}

export interface MemberAddedEvent {
  conversation: ConversationPayload;
  added_user_ids: string[];
}

export interface ClientToServerEvents {
  'message:send': ClientEvent<SendInput, SendResult>;
  'message:edit': ClientEvent<{ message_id: string; body: string }, { message: MessagePayload }>;
  'message:delete': ClientEvent<{ message_id: string }, { message: MessagePayload }>;
  'receipt:delivered': ClientEvent<ReceiptInput, WatermarksPayload>;
  'receipt:read': ClientEvent<ReceiptInput, WatermarksPayload>;
  sync: ClientEvent<SyncInput, SyncResult>;
  'conversation:create': ClientEvent<{ participants: string[]; title?: string | null }, { conversation: ConversationPayload; created: boolean }>;
  'conversation:rename': ClientEvent<{ conversation_id: string; title: string | null }, { conversation: ConversationPayload }>;
  'conversation:add_members': ClientEvent<{ conversation_id: string; user_ids: string[] }, { conversation: ConversationPayload }>;
  'conversation:remove_member': ClientEvent<{ conversation_id: string; user_id: string }, { deleted: boolean }>;
  'conversation:leave': ClientEvent<{ conversation_id: string }, { deleted: boolean }>;
  typing: ClientEvent<TypingInput, { ok: true }>;
  'presence:get': ClientEvent<PresenceGetInput, PresenceGetResult>;
  'device:fetch': ClientEvent<{ device_id?: string; limit?: number }, { messages: WireDeviceMessageWithPayload[] }>;
  'device:ack': ClientEvent<{ ids: string[] }, { acknowledged: string[] }>;
  'device:state': ClientEvent<{ device_id: string; state: Record<string, unknown>; online?: boolean }, { device: PublicDevice }>;
}

export interface ServerToClientEvents {
  'message:new': (message: MessagePayload) => void;
  'message:updated': (message: MessagePayload) => void;
  'message:deleted': (message: MessagePayload) => void;
  'message:status': (event: MessageStatusEvent) => void;
  'receipt:updated': (event: ReceiptEvent) => void;
  'conversation:created': (conversation: ConversationPayload) => void;
  'conversation:updated': (conversation: ConversationPayload) => void;
  'conversation:member_added': (event: MemberAddedEvent) => void;
  'conversation:member_removed': (event: MemberRemovedEvent) => void;
  typing: (event: TypingEvent) => void;
  presence: (event: PresenceEvent) => void;
  /** A command message for one of the owner's devices (the polling wire format plus `payload`, `expiresAt`). */
  'device:command': (message: WireDeviceMessageWithPayload) => void;
}

// Nothing is sent between nodes except through the adapter's own room operations.
export type InterServerEvents = Record<string, never>;

export interface SocketData {
  actor: Actor;
  /** Epoch ms of the last successful check of the session or token. */
  authCheckedAt: number;
  /** Epoch ms at which the socket's access token expires (bearer sockets). */
  expiresAt?: number;
}

export type RealtimeIo = Server<ClientToServerEvents, ServerToClientEvents, InterServerEvents, SocketData>;
export type RealtimeSocket = Socket<ClientToServerEvents, ServerToClientEvents, InterServerEvents, SocketData>;
