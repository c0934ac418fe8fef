/**
 * The Socket.IO server, attached to the same HTTP server as Koa. It authenticates each handshake (session
 * cookie or bearer token, Origin allow-list), puts every socket in its rooms, keeps presence, enforces
 * per-socket limits and periodic re-authentication, and disconnects sockets on every node when their
 * session, token or user ends. With Redis the sharded adapter (dynamic subscriptions) makes any number of
 * nodes behave as one; without it everything stays in this process.
 */
import type http from 'node:http';
import { createShardedAdapter } from '@socket.io/redis-adapter';
import type Koa from 'koa';
import { Server } from 'socket.io';
import type { AppContext } from '../app-context.ts';
import { authenticateHandshake, credentialsStillValid, type SocketAuthDeps } from '../auth/socket-auth.ts';
import type { Config } from '../config.ts';
import { hasScope, type Actor } from '../domain/users/user.types.ts';
import { AppError, RateLimitedError, UnauthenticatedError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import type { RealtimeIo, RealtimeSocket } from './events.ts';
import { toAckError, type HandlerDeps } from './handler.ts';
import { registerConversationHandlers } from './handlers/conversation.handlers.ts';
import { registerDeviceHandlers } from './handlers/device.handlers.ts';
import { registerMessageHandlers } from './handlers/message.handlers.ts';
import { registerPresenceHandlers } from './handlers/presence.handlers.ts';
import { windowCounter } from './limits.ts';
import type { PresenceStore } from './presence.ts';
import { startPublisher } from './publisher.ts';
import { conversationRoom, deviceOwnerRoom, grantRoom, isConversationRoom, sessionRoom, userRoom } from './rooms.ts';

/** What realtime needs from the chat domain. */
export interface RealtimeChat {
  /** Ids of the conversations `userId` belongs to (rooms joined on connect). */
  conversationIdsOf(userId: string): Promise<string[]>;
  /** The subset of `others` that share at least one conversation with `userId`. */
  partnersAmong(userId: string, others: readonly string[]): Promise<Set<string>>;
}

/** Shared by every socket handler module. */
export interface RealtimeContext {
  readonly app: AppContext;
  readonly io: RealtimeIo;
  readonly config: Config['realtime'];
  readonly logger: Logger;
  readonly handlerDeps: HandlerDeps;
  readonly presence: PresenceStore;
  readonly chat: RealtimeChat;
}

export type SocketModule = (rt: RealtimeContext, socket: RealtimeSocket) => void;

export interface RealtimeOptions {
  /** Handler modules registered on every connection, besides the built-in ones. */
  modules?: SocketModule[];
}

export interface RealtimeServer {
  readonly io: RealtimeIo;
  readonly context: RealtimeContext;
  close(): Promise<void>;
}

/** Attach Socket.IO to `httpServer`. Resolves once the adapter is ready. */
export async function createRealtime(httpServer: http.Server, app: AppContext, koa: Koa, opts: RealtimeOptions = {}): Promise<RealtimeServer> {
  const { config } = app;
  const log = app.logger.child({ subsystem: 'realtime' });
  const allowed = new Set(config.http.allowedOrigins);
  const io: RealtimeIo = new Server(httpServer, {
    serveClient: false,
    maxHttpBufferSize: config.realtime.maxPacketBytes,
    // Engine.IO's own session cookie is not needed (and would be one more cookie to protect).
    cookie: false,
    cors: { origin: [...allowed], credentials: true },
    // Cross-site WebSocket hijacking defence: browsers always send Origin; a foreign one is refused here,
    // before any cookie is looked at. Non-browser clients send none and must then use a bearer token.
    allowRequest: (req, cb) => {
      const origin = req.headers.origin;
      cb(null, origin === undefined || allowed.has(origin));
    },
  });

  let subClient: ReturnType<NonNullable<AppContext['redis']>['duplicate']> | undefined;
  if (app.redis) {
    subClient = app.redis.duplicate();
    subClient.on('ready', () => log.debug('adapter subscriber ready'));
    // Only nodes with members in a room receive its broadcasts (one sharded channel per room).
    io.adapter(createShardedAdapter(app.redis.client, subClient, { channelPrefix: `${app.redis.prefix}sio`, subscriptionMode: 'dynamic' }));
    await subClient.ping().catch(() => undefined);
    io.of('/').adapter.on('error', (err: Error) => log.error({ err: { message: err.message } }, 'adapter error'));
  }

  const chat: RealtimeChat = app.services.conversations;
  const presence = app.presence;
  const rt: RealtimeContext = {
    app,
    io,
    config: config.realtime,
    logger: log,
    handlerDeps: { logger: log, maxPayloadBytes: config.realtime.maxPayloadBytes },
    presence,
    chat,
  };
  const authDeps = (): SocketAuthDeps => ({ koa, config, sessions: app.sessions, users: app.services.users, bearer: app.bearer });

  // Rooms are computed before the connection is accepted and joined synchronously on `connection`, so
  // the first event a client sends already finds its socket in every room.
  const initialRooms = new WeakMap<RealtimeSocket, string[]>();
  io.use((socket, next) => {
    authenticateHandshake(authDeps(), { request: socket.request, token: (socket.handshake.auth as { token?: unknown } | undefined)?.token })
      .then(async ({ actor, expiresAt }) => {
        socket.data.actor = actor;
        socket.data.authCheckedAt = Date.now();
        if (expiresAt) socket.data.expiresAt = expiresAt * 1000;
        initialRooms.set(socket, await roomsOf(rt, actor));
      })
      .then(
      () => next(),
      (err: unknown) => {
        const body = err instanceof AppError ? err.toJSON() : { code: 'internal_error', message: 'Something went wrong on our side' };
        if (!(err instanceof AppError)) log.error({ err }, 'handshake authentication failed');
        const e = new Error(body.message) as Error & { data?: unknown };
        e.data = body;
        next(e);
      },
    );
  });

  io.on('connection', (socket) => {
    socket.join(initialRooms.get(socket) ?? []);
    initialRooms.delete(socket);
    // The handshake request (headers, socket, parser state) is only needed by the authentication above;
    // every idle socket would otherwise keep it alive (the Socket.IO memory guide's first advice).
    (socket.conn as unknown as { request: unknown }).request = null;
    void onConnection(rt, socket, authDeps, opts.modules ?? []);
  });

  // Sessions, tokens and users that end take their sockets with them, on every node (the adapter carries
  // the disconnect to the others).
  const offs = [
    app.events.on('session.ended', ({ sessionId }) => io.in(sessionRoom(sessionId)).disconnectSockets(true)),
    app.events.on('user.deactivated', ({ userId }) => io.in([userRoom(userId), deviceOwnerRoom(userId)]).disconnectSockets(true)),
    app.events.on('oauth.grant_revoked', ({ grantId }) => io.in(grantRoom(grantId)).disconnectSockets(true)),
    startPublisher(io, app.events),
  ];

  // Keep this node's presence entries alive; a node that stops refreshing drops out after the TTL.
  const heartbeat = setInterval(() => {
    const sockets = [...io.of('/').sockets.values()];
    presence.refresh(sockets.map((s) => [s.id, presenceUser(s)] as const)).catch((err: Error) => log.warn({ err: { message: err.message } }, 'presence refresh failed'));
    // A device holding a socket stays online, as one that polls does.
    for (const owner of new Set(sockets.filter(isDeviceSocket).map((s) => s.data.actor.user.id))) {
      app.services.devices.markSeen(owner).catch((err: Error) => log.warn({ err: { message: err.message } }, 'device seen update failed'));
    }
  }, Math.max(1000, Math.floor(config.realtime.presenceTtlMs / 3)));
  heartbeat.unref();

  return {
    io,
    context: rt,
    async close() {
      clearInterval(heartbeat);
      for (const off of offs) off();
      const sockets = [...io.of('/').sockets.values()];
      await Promise.allSettled(sockets.map((s) => presence.remove(s.id, presenceUser(s))));
      for (const s of sockets) s.disconnect(true);
      await Promise.allSettled([...io._nsps.values()].map((nsp) => nsp.adapter.close()));
      // The HTTP server is closed by its own closer (it also drains Koa's requests).
      io.engine.close();
    },
  };
}

/** A socket of a device (a bearer token with the `devices` scope). */
function isDeviceSocket(socket: RealtimeSocket): boolean {
  return socket.data.actor.via === 'bearer' && hasScope(socket.data.actor, 'devices');
}

/** The user a socket makes "online": chat sockets only (a device's token does not). */
function presenceUser(socket: RealtimeSocket): string | null {
  return hasScope(socket.data.actor, 'read:messages') ? socket.data.actor.user.id : null;
}

/** Every room a socket of `actor` belongs in. */
async function roomsOf(rt: RealtimeContext, actor: Actor): Promise<string[]> {
  const userId = actor.user.id;
  const rooms: string[] = [];
  if (actor.via === 'session' && actor.sessionId) rooms.push(sessionRoom(actor.sessionId));
  if (actor.grantId) rooms.push(grantRoom(actor.grantId));
  if (actor.via === 'bearer' && hasScope(actor, 'devices')) rooms.push(deviceOwnerRoom(userId));
  if (hasScope(actor, 'read:messages')) {
    rooms.push(userRoom(userId));
    for (const id of await rt.chat.conversationIdsOf(userId)) rooms.push(conversationRoom(id));
  }
  return rooms;
}

async function onConnection(rt: RealtimeContext, socket: RealtimeSocket, authDeps: () => SocketAuthDeps, modules: SocketModule[]): Promise<void> {
  const { actor } = socket.data;
  const userId = actor.user.id;
  const log = rt.logger;

  // Budget and re-authentication run before any handler; a refused packet still gets its error ack.
  const budget = windowCounter(rt.config.eventsPer10s, 10_000);
  socket.use((packet, next) => {
    const ack = packet.at(-1);
    const refuse = (err: AppError) => {
      if (typeof ack === 'function') (ack as (r: unknown) => void)(toAckError(err, log, {}));
    };
    if (!budget.take()) return refuse(new RateLimitedError(10));
    if (Date.now() - socket.data.authCheckedAt < rt.config.reauthIntervalMs) return next();
    credentialsStillValid(authDeps(), actor, (socket.handshake.auth as { token?: unknown } | undefined)?.token).then((ok) => {
      if (!ok) {
        refuse(new UnauthenticatedError('The session or token has ended'));
        socket.disconnect(true);
        return;
      }
      socket.data.authCheckedAt = Date.now();
      next();
    });
  });

  registerMessageHandlers(rt, socket);
  registerConversationHandlers(rt, socket);
  registerPresenceHandlers(rt, socket);
  registerDeviceHandlers(rt, socket);
  for (const m of modules) m(rt, socket);
  const conversationRooms = [...socket.rooms].filter(isConversationRoom);
  // A token's socket ends with the token (the client reconnects with a fresh one).
  if (socket.data.expiresAt) {
    const expiry = setTimeout(() => socket.disconnect(true), Math.max(0, Math.min(socket.data.expiresAt - Date.now(), 2 ** 31 - 1)));
    expiry.unref();
    socket.once('disconnect', () => clearTimeout(expiry));
  }
  if (isDeviceSocket(socket)) rt.app.services.devices.markSeen(userId).catch((err: Error) => log.warn({ err: { message: err.message } }, 'device seen update failed'));

  socket.on('disconnecting', () => {
    const shared = [...socket.rooms].filter(isConversationRoom);
    rt.presence.remove(socket.id, presenceUser(socket)).then(
      (wentOffline) => {
        if (wentOffline && shared.length) rt.io.to(shared).except(userRoom(userId)).emit('presence', { user_id: userId, status: 'offline' });
      },
      (err: Error) => log.warn({ err: { message: err.message } }, 'presence remove failed'),
    );
  });
  try {
    const cameOnline = await rt.presence.add(socket.id, presenceUser(socket));
    if (!socket.connected) {
      await rt.presence.remove(socket.id, presenceUser(socket));
      return;
    }
    if (cameOnline && conversationRooms.length) {
      rt.io.to(conversationRooms).except(userRoom(userId)).emit('presence', { user_id: userId, status: 'online' });
    }
  } catch (err) {
    log.warn({ err, userId }, 'presence add failed');
  }
}
