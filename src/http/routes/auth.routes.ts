/**
 * Local sign-in for browsers (the BFF base): the session cookie is the only credential the browser gets.
 * POST /auth/login takes JSON (with the Origin + custom-header CSRF rules) or the sign-in form (with its
 * CSRF token); both are rate-limited per account+IP and per IP.
 */
import type Koa from 'koa';
import { z } from 'zod';
import { formCsrfToken, signIn, signOut, verifyFormCsrfToken } from '../../auth/session.ts';
import type { AppContext } from '../../app-context.ts';
import { UnauthenticatedError } from '../../errors.ts';
import type { Api } from '../api.ts';
import { html, page, type SafeHtml } from '../html.ts';
import { assertSameOriginRequest } from '../middleware/auth.ts';
import { presentSelf, selfUserSchema } from '../presenters/user.ts';

const loginSchema = z.object({
  email: z.string().trim().min(1, 'required').max(254),
  password: z.string().min(1, 'required').max(1024),
  next: z.string().max(2048).optional(),
  _csrf: z.string().max(200).optional(),
});

/** A same-origin relative path to go to after sign-in; anything else (absolute, `//host`, `\`) → fallback. */
export function safeNext(next: unknown, fallback = '/home/'): string {
  const unsafe = (p: string) => !p.startsWith('/') || p.startsWith('//') || p.includes('\\');
  if (typeof next !== 'string' || unsafe(next)) return fallback;
  try {
    const u = new URL(next, 'http://internal.invalid');
    // Check the normalised path again: dot segments can turn `/.//evil.example` into `//evil.example`,
    // which a browser reads as another host.
    if (u.origin !== 'http://internal.invalid' || unsafe(u.pathname)) return fallback;
    return u.pathname + u.search + u.hash;
  } catch {
    return fallback;
  }
}

/** Extra sign-in options (e.g. an SSO button) that other features add to the sign-in page. */
export type SignInExtra = (next: string) => SafeHtml | null;

/**
 * After sign-out: a further step to offer for sessions signed in by `method` (e.g. signing out at the SSO
 * provider too), or null.
 */
export type SignOutOffer = (method: string | undefined) => Promise<{ url: string; label: string } | null>;

export function renderSignInPage(ctx: Koa.Context, opts: { next: string; error?: string; email?: string; extras?: SignInExtra[]; title?: string }): string {
  const extras = (opts.extras ?? []).map((e) => e(opts.next)).filter(Boolean);
  return page({
    title: opts.title ?? 'Sign in',
    body: html`<section class="card narrow">
<h1>${opts.title ?? 'Sign in'}</h1>
${opts.error ? html`<p class="alert" role="alert">${opts.error}</p>` : ''}
<form method="post" action="/auth/login">
<input type="hidden" name="_csrf" value="${formCsrfToken(ctx)}">
<input type="hidden" name="next" value="${opts.next}">
<label for="email">Email</label>
<input id="email" name="email" type="email" autocomplete="username" required value="${opts.email ?? ''}">
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password" required>
<div class="actions"><button type="submit">Sign in</button></div>
</form>
${extras.length ? html`<p class="divider">or</p>${extras}` : ''}
</section>`,
  });
}

/** Check the synchroniser token of an HTML form; ForbiddenError (`csrf_token`) when it does not match. */
export function checkFormToken(ctx: Koa.Context, token: string | undefined): void {
  verifyFormCsrfToken(ctx, token);
}

export function registerAuthRoutes(api: Api, app: AppContext, extras: SignInExtra[] = [], signOutOffer?: SignOutOffer): void {
  const { config, services, events } = app;
  const perAccount = app.limiters({ name: 'login-account', points: config.loginLimits.perAccount, duration: config.loginLimits.windowSeconds, blockDuration: config.loginLimits.windowSeconds });
  const perIp = app.limiters({ name: 'login-ip', points: config.loginLimits.perIp, duration: config.loginLimits.windowSeconds, blockDuration: config.loginLimits.windowSeconds });

  api.router.get('/auth/login', async (ctx) => {
    const next = safeNext(ctx.query.next);
    if (ctx.state.actor?.via === 'session') return ctx.redirect(next);
    ctx.type = 'html';
    ctx.body = renderSignInPage(ctx, { next, extras });
  });

  api.route({
    method: 'post',
    path: '/auth/login',
    summary: 'Sign in with email and password; sets the session cookie',
    description:
      'JSON callers must send an allowed `Origin` and the `X-Requested-With` header. The HTML form variant uses a CSRF token and redirects to `next`. Failed attempts are limited per account+IP and per IP (429 with Retry-After).',
    tags: ['auth'],
    auth: 'none',
    bodyTypes: ['json', 'form'],
    body: loginSchema,
    response: z.object({ user: selfUserSchema }),
    errors: { 401: 'Wrong email or password (code invalid_credentials)', 429: 'Too many failed attempts' },
    handler: async (ctx, { body }) => {
      const isForm = ctx.is('urlencoded') === 'urlencoded';
      if (isForm) verifyFormCsrfToken(ctx, body._csrf);
      else assertSameOriginRequest(ctx, config.http.allowedOrigins);
      const next = safeNext(body.next);
      const accountKey = `${body.email.toLowerCase()}|${ctx.ip}`;
      // Every attempt is counted before the (slow) password check and given back when it succeeds: counting
      // only afterwards would let a burst of parallel guesses all pass the limit.
      try {
        await perIp.consume(ctx.ip);
        await perAccount.consume(accountKey);
      } catch (err) {
        if (!isForm) throw err;
        ctx.status = 429;
        ctx.type = 'html';
        ctx.body = renderSignInPage(ctx, { next, email: body.email, extras, error: 'Too many failed attempts. Wait a while and try again.' });
        return;
      }
      const user = await services.users.authenticate(body.email, body.password);
      if (!user) {
        if (!isForm) throw new UnauthenticatedError('Wrong email or password');
        ctx.status = 401;
        ctx.type = 'html';
        ctx.body = renderSignInPage(ctx, { next, email: body.email, extras, error: 'Wrong email or password.' });
        return;
      }
      await Promise.all([perAccount.reset(accountKey), perIp.refund(ctx.ip)]);
      await signIn(ctx, user, 'password');
      app.logger.info({ userId: user.id, reqId: ctx.requestId }, 'signed in');
      if (isForm) return ctx.redirect(next);
      return { user: presentSelf(user) };
    },
  });

  api.route({
    method: 'post',
    path: '/auth/logout',
    summary: 'Sign out: the session ends on the server and its sockets are disconnected',
    description:
      'Answers 204. For a session signed in through SSO at a provider that supports RP-initiated logout, answers 200 with `end_session_url` (JSON) or a page linking to it (form), so the person can sign out there too.',
    tags: ['auth'],
    auth: 'none',
    bodyTypes: ['json', 'form'],
    body: z.object({ _csrf: z.string().max(200).optional() }).loose(),
    status: 204,
    handler: async (ctx, { body }) => {
      if (ctx.is('urlencoded') === 'urlencoded') verifyFormCsrfToken(ctx, body._csrf);
      else assertSameOriginRequest(ctx, config.http.allowedOrigins);
      const method = ctx.session?.method;
      await signOut(ctx, events);
      const offer = signOutOffer && ctx.state.actor ? await signOutOffer(method) : null;
      if (ctx.is('urlencoded') === 'urlencoded') {
        if (!offer) return ctx.redirect('/home/');
        ctx.type = 'html';
        ctx.body = page({
          title: 'Signed out',
          body: html`<section class="card narrow"><h1>Signed out</h1><p>You are signed out of MessageBridge.</p>
<p class="actions"><a class="button secondary" href="${offer.url}">${offer.label}</a> <a href="/home/">Home</a></p></section>`,
        });
        return;
      }
      if (offer) {
        ctx.status = 200;
        ctx.body = { end_session_url: offer.url };
        return;
      }
      ctx.status = 204;
    },
  });

  api.route({
    method: 'get',
    path: '/api/me',
    summary: 'The signed-in user (session or bearer token); never returns a token',
    tags: ['auth'],
    auth: {},
    response: selfUserSchema,
    handler: (_ctx, { actor }) => presentSelf(actor.user),
  });
}
