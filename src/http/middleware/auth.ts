/**
 * Who is calling. `authenticate` resolves a bearer token or the session cookie to an Actor (or nobody);
 * `requireAuth` enforces it per route, with the scope a bearer token needs and the CSRF rules for cookies.
 */
import type Koa from 'koa';
import { bearerFromHeader, type BearerVerifier } from '../../auth/bearer.ts';
import type { UserService } from '../../domain/users/user.service.ts';
import { hasScope, type Actor } from '../../domain/users/user.types.ts';
import { ForbiddenError, InsufficientScopeError, UnauthenticatedError } from '../../errors.ts';

export interface AuthDeps {
  users: UserService;
  bearer: BearerVerifier;
  allowedOrigins: readonly string[];
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** The header a cookie-authenticated, state-changing request must carry (any non-empty value). */
export const CSRF_HEADER = 'X-Requested-With';

/**
 * Resolve credentials. A present but bad bearer token is a 401 right away (RFC 6750), not "anonymous".
 * A session of a deactivated user is dropped.
 */
export function authenticate(deps: AuthDeps): Koa.Middleware {
  return async (ctx, next) => {
    const header = ctx.get('Authorization');
    if (header) {
      const token = bearerFromHeader(header);
      if (!token) throw new UnauthenticatedError('Malformed Authorization header', 'invalid_request');
      const info = await deps.bearer.verify(token);
      const user = info ? await deps.users.findById(info.userId) : null;
      if (!info || !user || !user.isActive) throw new UnauthenticatedError('The access token is invalid, expired or revoked', 'invalid_token');
      ctx.state.actor = {
        user,
        via: 'bearer',
        scopes: new Set(info.scopes),
        clientId: info.clientId,
        ...(info.grantId ? { grantId: info.grantId } : {}),
      } satisfies Actor;
    } else if (ctx.session?.userId) {
      const user = await deps.users.findById(ctx.session.userId);
      if (!user || !user.isActive) ctx.session = null;
      else ctx.state.actor = { user, via: 'session', scopes: null, ...(ctx.session.externalKey ? { sessionId: ctx.session.externalKey } : {}) };
    }
    await next();
  };
}

/**
 * CSRF defence for cookie-authenticated JSON calls: an unsafe method needs an Origin from the allow-list
 * and the custom header (which a cross-site form cannot set without a CORS preflight we never grant).
 */
export function assertSameOriginRequest(ctx: Koa.Context, allowedOrigins: readonly string[]): void {
  if (SAFE_METHODS.has(ctx.method)) return;
  const origin = ctx.get('Origin');
  if (!origin || !allowedOrigins.includes(origin)) {
    throw new ForbiddenError('Cross-origin request refused: the Origin header is missing or not allowed', 'csrf_origin');
  }
  if (!ctx.get(CSRF_HEADER)) throw new ForbiddenError(`Cross-site request refused: the ${CSRF_HEADER} header is required`, 'csrf_header');
}

export interface RequireAuthOptions {
  /** Scope a bearer token needs (sessions have every scope). */
  scope?: string;
  /** Only staff (is_staff) may pass. */
  staff?: boolean;
}

/** The Actor of an authenticated request, or a 401. Checks scope, staff flag and CSRF. */
export function requireActor(ctx: Koa.Context, allowedOrigins: readonly string[], opts: RequireAuthOptions = {}): Actor {
  const actor = ctx.state.actor;
  if (!actor) throw new UnauthenticatedError();
  if (actor.via === 'session') assertSameOriginRequest(ctx, allowedOrigins);
  if (opts.scope && !hasScope(actor, opts.scope)) throw new InsufficientScopeError(opts.scope);
  if (opts.staff && !actor.user.isStaff) throw new ForbiddenError('Staff only');
  return actor;
}
