/**
 * Real socket.io-client connections for tests: signed in with a test client's session cookie (and the
 * Origin a browser page of ours would send) or with a bearer token; helpers to await acks and events; and a
 * cluster of server nodes sharing one PostgreSQL schema and Redis prefix.
 */
import { io, type Socket } from 'socket.io-client';
import type { User } from '../../src/domain/users/user.types.ts';
import type { HttpClient } from './http.ts';
import { createOAuthClient, issueAccessToken } from './oauth.ts';
import { freePort } from './config.ts';
import { startTestServer, type StartOptions, type TestServer } from './server.ts';

export type ClientSocket = Socket;

export interface ConnectOptions {
  /** Send this client's cookies (the session). */
  client?: HttpClient;
  /** Bearer token in `auth.token`. */
  token?: string;
  /** Origin header: defaults to the server's own origin when a client (cookie) is given; false sends none. */
  origin?: string | false;
  /** Extra headers. */
  headers?: Record<string, string>;
  transports?: Array<'websocket' | 'polling'>;
}

/** Open a socket to `url` without waiting. Reconnection is off: tests decide when to reconnect. */
export function openSocket(url: string, opts: ConnectOptions = {}): ClientSocket {
  const headers: Record<string, string> = { ...(opts.headers ?? {}) };
  if (opts.client && opts.client.cookies.size) headers.cookie = opts.client.cookieHeader();
  const origin = opts.origin ?? (opts.client ? new URL(url).origin : false);
  if (origin) headers.origin = origin;
  return io(url, {
    transports: opts.transports ?? ['websocket'],
    reconnection: false,
    forceNew: true,
    extraHeaders: headers,
    ...(opts.token !== undefined ? { auth: { token: opts.token } } : {}),
  });
}

/** Open a socket and wait for `connect`; rejects with the connect_error (its `data` holds our error body). */
export function connectSocket(url: string, opts: ConnectOptions = {}): Promise<ClientSocket> {
  const socket = openSocket(url, opts);
  return new Promise((resolve, reject) => {
    socket.once('connect', () => resolve(socket));
    socket.once('connect_error', (err) => {
      socket.close();
      reject(err);
    });
  });
}

/** The connect_error a connection attempt ends with (fails the test if it connects). */
export async function connectError(url: string, opts: ConnectOptions = {}): Promise<Error & { data?: { code: string; message: string } }> {
  try {
    const s = await connectSocket(url, opts);
    s.close();
  } catch (err) {
    return err as Error & { data?: { code: string; message: string } };
  }
  throw new Error('expected the connection to be refused');
}

/** Emit with an ack and resolve with the ack's body (`{ data }` or `{ error }`). */
export function emitAck<T = any>(socket: ClientSocket, event: string, payload?: unknown, timeoutMs = 5000): Promise<T> {
  return socket.timeout(timeoutMs).emitWithAck(event, payload) as Promise<T>;
}

/** Resolve with the next `event` whose payload passes `match`. */
export function nextEvent<T = any>(socket: ClientSocket, event: string, match: (payload: T) => boolean = () => true, timeoutMs = 5000): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      socket.off(event, on);
      reject(new Error(`timed out waiting for ${event}`));
    }, timeoutMs);
    const on = (payload: T) => {
      if (!match(payload)) return;
      clearTimeout(timer);
      socket.off(event, on);
      resolve(payload);
    };
    socket.on(event, on);
  });
}

/** Record every `event` a socket receives, in order. */
export function collect<T = any>(socket: ClientSocket, event: string): T[] {
  const got: T[] = [];
  socket.on(event, (p: T) => got.push(p));
  return got;
}

/** Resolve once `socket` is disconnected, with the reason. */
export function disconnected(socket: ClientSocket, timeoutMs = 5000): Promise<string> {
  if (socket.disconnected) return Promise.resolve('already disconnected');
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('timed out waiting for disconnect')), timeoutMs);
    socket.once('disconnect', (reason) => {
      clearTimeout(timer);
      resolve(reason);
    });
  });
}

/** Wait until `check` holds (polling), or fail after `timeoutMs`. */
export async function eventually(check: () => boolean | Promise<boolean>, timeoutMs = 5000, what = 'condition'): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** Nothing matching arrives within `ms` (for "never broadcast" assertions). */
export async function quiet(got: readonly unknown[], ms = 300): Promise<void> {
  const before = got.length;
  await new Promise((r) => setTimeout(r, ms));
  if (got.length !== before) throw new Error(`expected no event, got ${JSON.stringify(got.slice(before))}`);
}

export interface Cluster {
  nodes: TestServer[];
  close(): Promise<void>;
}

/**
 * Start `n` server nodes on one PostgreSQL schema and Redis prefix (what separate processes behind a load
 * balancer share). Like a real deployment they share one PUBLIC_URL (the first node's address stands in
 * for the balancer's; it is also the OAuth issuer, so a token works on every node), and each node's own
 * address is an allowed origin, so tests can talk to a chosen node directly. The data is dropped when the
 * last node closes.
 */
export async function startCluster(n = 2, opts: StartOptions = {}): Promise<Cluster> {
  const ports: number[] = [];
  while (ports.length < n) {
    const p = await freePort();
    if (!ports.includes(p)) ports.push(p);
  }
  const urls = ports.map((p) => `http://127.0.0.1:${p}`);
  const env = { ...(opts.env ?? {}), PUBLIC_URL: urls[0], ALLOWED_ORIGINS: urls.join(',') };
  const first = await startTestServer({ ...opts, env, port: ports[0]!, keepData: true });
  const nodes = [first];
  for (let i = 1; i < n; i++) {
    nodes.push(
      await startTestServer({ ...opts, env, port: ports[i]!, schema: first.config.db.schema, redisPrefix: first.config.redis.prefix, keepData: i < n - 1 }),
    );
  }
  return {
    nodes,
    async close() {
      // The last node drops the shared data, so it closes last.
      for (const node of nodes) await node.close();
    },
  };
}

/**
 * Real OAuth access tokens for socket tests: each token gets its own client (so revoking that client's
 * grant ends exactly that token). Tokens live in the shared database, so every node accepts them.
 */
export function socketTokens(srv: TestServer) {
  const clients = new Map<string, { userId: string; clientId: string }>();
  return {
    async issue(user: User, scopes: string[], ttl?: number): Promise<string> {
      const { clientId } = await createOAuthClient(srv);
      const token = await issueAccessToken(srv, { user, scopes, clientId, ...(ttl ? { ttl } : {}) });
      clients.set(token, { userId: user.id, clientId });
      return token;
    },
    /** Revoke the token's grant through the OAuth service (as an admin or the user would). */
    async revoke(token: string): Promise<void> {
      const c = clients.get(token);
      if (!c) throw new Error('unknown token');
      await srv.app.services.oauth.revokeUserGrants(c.userId, { clientId: c.clientId });
    },
  };
}
