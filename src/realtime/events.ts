/**
 * The typed Socket.IO contract: what clients may emit (each with an ack), what the server emits, and what
 * a socket carries. `docs/protocol.md` describes the same events for client authors.
 *
 * Every client → server event answers through its ack with `{ data }` or `{ error: { code, message,
 * details } }` — never both, never a throw.
 */
import type { Server, Socket } from 'socket.io';
import type { Actor } from '../domain/users/user.types.ts';

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

export interface ClientToServerEvents {
  typing: ClientEvent<TypingInput, { ok: true }>;
  'presence:get': ClientEvent<PresenceGetInput, PresenceGetResult>;
}

export interface ServerToClientEvents {
  typing: (event: TypingEvent) => void;
  presence: (event: PresenceEvent) => void;
}

// Nothing is sent between nodes except through the adapter's own room operations.
export type InterServerEvents = Record<string, never>;

export interface SocketData {
  actor: Actor;
  /** Epoch ms of the last successful check of the session or token. */
  authCheckedAt: number;
}

export type RealtimeIo = Server<ClientToServerEvents, ServerToClientEvents, InterServerEvents, SocketData>;
export type RealtimeSocket = Socket<ClientToServerEvents, ServerToClientEvents, InterServerEvents, SocketData>;
