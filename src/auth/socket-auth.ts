/**
 * Authentication of Socket.IO connections, sharing the browser session with Koa: a Koa context is built on
 * the handshake request, the SIGNED session cookie is read with the app's keys, and the session is loaded
 * from the same store, read-only (no commit, no Set-Cookie on the handshake). API clients present an OAuth
 * access token in `auth.token` instead; cookies are then ignored.
 */
import { ServerResponse, type IncomingMessage } from 'node:http';
import type Koa from 'koa';
import type { Config } from '../config.ts';
import type { UserService } from '../domain/users/user.service.ts';
import type { Actor } from '../domain/users/user.types.ts';
import { AppError, ForbiddenError, UnauthenticatedError } from '../errors.ts';
import type { BearerVerifier } from './bearer.ts';
import type { SessionData, SessionStore } from './session-store.ts';

export interface SocketAuthDeps {
  koa: Koa;
  config: Pick<Config, 'session' | 'http'>;
  sessions: SessionStore;
  users: UserService;
  bearer: BearerVerifier;
}

/** What a handshake carries that matters for authentication. */
export interface HandshakeCredentials {
  request: IncomingMessage;
  /** `auth.token` from the client's connect packet, when any. */
  token: unknown;
}

/** A token needs one of these scopes to open a socket: chat clients read messages, devices take commands. */
export const SOCKET_SCOPES = ['read:messages', 'devices'] as const;

/** The signed session id of a raw request, or undefined when missing or badly signed. */
export function sessionIdOf(deps: Pick<SocketAuthDeps, 'koa' | 'config'>, req: IncomingMessage): string | undefined {
  // A throw-away response: Cookies may want to clear a bad `.sig` cookie on it; it is never sent.
  const ctx = deps.koa.createContext(req, new ServerResponse(req));
  return ctx.cookies.get(deps.config.session.cookieName, { signed: true }) || undefined;
}

/** A stored session is usable: signed in, not past koa-session's expiry nor the absolute lifetime. */
export function sessionIsLive(sess: SessionData | undefined, absoluteTimeoutMs: number): sess is SessionData & { userId: string } {
  if (!sess?.userId) return false;
  const expire = (sess as { _expire?: unknown })._expire;
  if (typeof expire === 'number' && expire < Date.now()) return false;
  if (sess.authAt && Date.now() - sess.authAt >= absoluteTimeoutMs) return false;
  return true;
}

export interface HandshakeIdentity {
  actor: Actor;
  /** Epoch seconds at which the access token expires (bearer handshakes). */
  expiresAt?: number;
}

/**
 * Resolve a handshake to an Actor. Throws UnauthenticatedError (`unauthenticated`, `invalid_token`) or
 * ForbiddenError (`csrf_origin` for a cookie handshake without an allowed Origin, `insufficient_scope`).
 */
export async function authenticateHandshake(deps: SocketAuthDeps, creds: HandshakeCredentials): Promise<HandshakeIdentity> {
  if (creds.token !== undefined) {
    if (typeof creds.token !== 'string' || !creds.token || creds.token.length > 4096) throw new UnauthenticatedError('Malformed access token', 'invalid_request');
    const info = await deps.bearer.verify(creds.token);
    const user = info ? await deps.users.findById(info.userId) : null;
    if (!info || !user || !user.isActive) throw new UnauthenticatedError('The access token is invalid, expired or revoked', 'invalid_token');
    if (!info.scopes.some((s) => (SOCKET_SCOPES as readonly string[]).includes(s))) {
      throw new AppError(403, 'insufficient_scope', `The token needs one of the scopes ${SOCKET_SCOPES.join(', ')}`, { scopes: SOCKET_SCOPES });
    }
    const actor: Actor = {
      user,
      via: 'bearer',
      scopes: new Set(info.scopes),
      clientId: info.clientId,
      ...(info.grantId ? { grantId: info.grantId } : {}),
    };
    return info.expiresAt ? { actor, expiresAt: info.expiresAt } : { actor };
  }
  // Cross-site WebSocket hijacking defence: a cookie is only honoured from one of our own pages.
  const origin = creds.request.headers.origin;
  if (!origin || !deps.config.http.allowedOrigins.includes(origin)) {
    throw new ForbiddenError('A session socket needs an allowed Origin', 'csrf_origin');
  }
  const sid = sessionIdOf(deps, creds.request);
  const sess = sid ? await deps.sessions.get(sid) : undefined;
  if (!sid || !sessionIsLive(sess, deps.config.session.absoluteTimeoutMs)) throw new UnauthenticatedError('Sign in first: no valid session');
  const user = await deps.users.findById(sess.userId);
  if (!user || !user.isActive) throw new UnauthenticatedError('Sign in first: no valid session');
  return { actor: { user, via: 'session', scopes: null, sessionId: sid } };
}

/**
 * Whether an authenticated socket's credentials still hold (session still stored, token still valid, user
 * still active). Used for periodic re-checks; never throws.
 */
export async function credentialsStillValid(deps: SocketAuthDeps, actor: Actor, token: unknown): Promise<boolean> {
  try {
    if (actor.via === 'session') {
      if (!actor.sessionId) return false;
      const sess = await deps.sessions.get(actor.sessionId);
      if (!sessionIsLive(sess, deps.config.session.absoluteTimeoutMs) || sess.userId !== actor.user.id) return false;
    } else {
      const info = typeof token === 'string' ? await deps.bearer.verify(token) : null;
      if (!info || info.userId !== actor.user.id) return false;
    }
    const user = await deps.users.findById(actor.user.id);
    return !!user?.isActive;
  } catch {
    // A storage hiccup is not a reason to drop every socket; the next check decides.
    return true;
  }
}
