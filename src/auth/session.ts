/**
 * Browser sessions (the backend-for-frontend base): koa-session with a server-side store, a signed
 * cookie holding only a 256-bit random id, rolling idle timeout and an absolute lifetime. Tokens never go
 * to the browser.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type Koa from 'koa';
import createSession from 'koa-session';
import type { Config } from '../config.ts';
import { ForbiddenError } from '../errors.ts';
import type { EventBus } from '../infra/events.ts';
import type { User } from '../domain/users/user.types.ts';
import type { SessionData, SessionStore } from './session-store.ts';

/** 256 random bits, base64url. */
export function newSessionId(): string {
  return randomBytes(32).toString('base64url');
}

/** Cookie options shared by the session cookie and anything that must match it (Socket.IO handshake). */
export function sessionCookieOptions(config: Pick<Config, 'http' | 'session'>) {
  return {
    key: config.session.cookieName,
    maxAge: config.session.idleTimeoutMs,
    httpOnly: true,
    signed: true,
    secure: config.http.secure,
    sameSite: 'lax' as const,
    overwrite: true,
  };
}

/** The koa-session middleware bound to `store`. */
export function createSessionMiddleware(app: Koa, config: Pick<Config, 'http' | 'session'>, store: SessionStore): Koa.Middleware {
  const absolute = config.session.absoluteTimeoutMs;
  return createSession(
    {
      ...sessionCookieOptions(config),
      rolling: true,
      renew: false,
      autoCommit: true,
      genid: () => newSessionId(),
      store: {
        get: (key: string) => store.get(key),
        set: (key: string, sess: SessionData, maxAge: number) => store.set(key, sess, maxAge),
        destroy: (key: string) => store.destroy(key),
      },
      // Absolute lifetime: a session signed in longer ago than the limit is treated as absent.
      valid: (_ctx: unknown, sess: SessionData) => !sess.authAt || Date.now() - sess.authAt < absolute,
    } as Parameters<typeof createSession>[0],
    app,
  ) as Koa.Middleware;
}

/** The session id (store key) of the current request, when it has a stored session. */
export function currentSessionId(ctx: Koa.Context): string | undefined {
  return ctx.session?.externalKey;
}

/** Start an authenticated session: a fresh id (no fixation), the user, the time, a new CSRF secret. */
export async function signIn(ctx: Koa.Context, user: User, method: 'password' | 'sso'): Promise<void> {
  const session = ctx.session!;
  // Old contents must not survive a sign-in (a pre-login session may hold flow state only).
  for (const k of Object.keys(session.toJSON())) delete (session as unknown as Record<string, unknown>)[k];
  await session.regenerate();
  Object.assign(ctx.session!, { userId: user.id, authAt: Date.now(), method, csrf: randomBytes(32).toString('base64url') });
}

/** End the current session (store entry deleted, cookie expired) and announce it. */
export async function signOut(ctx: Koa.Context, events: EventBus): Promise<void> {
  const sessionId = currentSessionId(ctx);
  const userId = ctx.session?.userId;
  ctx.session = null;
  if (sessionId && userId) await events.emit('session.ended', { sessionId, userId });
}

/** The CSRF synchroniser token for HTML forms (created on first use). */
export function formCsrfToken(ctx: Koa.Context): string {
  const session = ctx.session!;
  session.csrf ??= randomBytes(32).toString('base64url');
  return session.csrf;
}

/**
 * Check the CSRF synchroniser token a form sent against the session's (constant time). Throws
 * ForbiddenError `csrf_token` when it is missing or wrong.
 */
export function verifyFormCsrfToken(ctx: Koa.Context, token: unknown): void {
  const expected = ctx.session?.csrf;
  const ok = !!expected && typeof token === 'string' && token.length === expected.length && timingSafeEqual(Buffer.from(token), Buffer.from(expected));
  if (!ok) throw new ForbiddenError('The form has expired or was not sent by this site; reload and try again', 'csrf_token');
}
