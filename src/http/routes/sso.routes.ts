/**
 * SSO sign-in pages: `GET /auth/login/sso?next=…` and `GET /admin/login/` start the flow at the external
 * provider, `GET /auth/callback/` completes it and opens a session. Every failure ends on the sign-in page
 * with the reason (never a 500) and a log line; nothing is signed in.
 */
import type Koa from 'koa';
import type { AppContext } from '../../app-context.ts';
import { signIn } from '../../auth/session.ts';
import { SsoError, type SsoClient, type SsoFailure } from '../../auth/sso.ts';
import { AppError, NotFoundError, RateLimitedError } from '../../errors.ts';
import type { Api } from '../api.ts';
import { html } from '../html.ts';
import { renderSignInPage, safeNext, type SignInExtra, type SignOutOffer } from './auth.routes.ts';

const MESSAGES: Record<SsoFailure, string> = {
  state_mismatch: 'The answer from the identity provider does not belong to a sign-in started here. Please start again.',
  missing_session: 'No sign-in was in progress in this browser (it may have expired, or cookies are blocked). Please start again.',
  flow_expired: 'The sign-in took too long. Please start again.',
  provider_error: 'The identity provider did not complete the sign-in.',
  provider_unavailable: 'The identity provider cannot be reached right now. Please try again later.',
  invalid_id_token: 'The identity provider’s answer could not be verified, so it was not accepted.',
  account_disabled: 'This account is disabled.',
  email_taken: 'An account with this email address already exists here and is not linked to this identity provider. Ask an administrator.',
  missing_email: 'The identity provider did not send a usable, verified email address.',
};

const DOMAIN_FAILURES: Record<string, SsoFailure> = {
  account_disabled: 'account_disabled',
  email_taken: 'email_taken',
  validation_failed: 'missing_email',
};

/** The "Sign in with …" button for the sign-in page, when SSO is configured. */
export function ssoSignInExtras(sso: SsoClient | null): SignInExtra[] {
  if (!sso) return [];
  return [(next) => html`<p class="actions"><a class="button secondary" href="/auth/login/sso?next=${encodeURIComponent(next)}">Sign in with ${sso.config.displayName}</a></p>`];
}

/** After signing out of an SSO session, offer to sign out at the provider too (RP-initiated logout). */
export function ssoSignOutOffer(sso: SsoClient | null): SignOutOffer | undefined {
  if (!sso) return undefined;
  return async (method) => {
    if (method !== 'sso') return null;
    const url = await sso.endSessionUrl();
    return url ? { url, label: `Also sign out of ${sso.config.displayName}` } : null;
  };
}

/**
 * Register `/auth/login/sso`, `/auth/callback/` and `/admin/login/`. The first two answer 404
 * `sso_not_configured` without SSO; `/admin/login/` then shows the local sign-in form. `extras` are the
 * sign-in page's extra options (the SSO button), shown again on failure pages.
 */
export function registerSsoRoutes(api: Api, app: AppContext, extras: SignInExtra[]): void {
  const { config, services, logger } = app;
  const sso = app.sso;
  const log = logger.child({ subsystem: 'sso' });
  const startLimiter = app.limiters({ name: 'sso-start', points: 60, duration: 60 });
  const failLimiter = app.limiters({ name: 'sso-fail', points: config.loginLimits.perIp, duration: config.loginLimits.windowSeconds, blockDuration: config.loginLimits.windowSeconds });

  function failurePage(ctx: Koa.Context, next: string, reason: SsoFailure | 'rate_limited', detail?: string): void {
    log.warn({ reason, detail, reqId: ctx.requestId }, 'SSO sign-in failed');
    ctx.status = reason === 'rate_limited' ? 429 : reason === 'provider_unavailable' ? 503 : 401;
    const message = reason === 'rate_limited' ? 'Too many sign-in attempts. Wait a while and try again.' : MESSAGES[reason];
    const shown = reason === 'provider_error' && detail ? `${message.replace(/\.$/, '')}: ${detail}` : message;
    ctx.type = 'html';
    ctx.set('Cache-Control', 'no-store');
    ctx.body = renderSignInPage(ctx, { next, extras, error: shown });
  }

  async function start(ctx: Koa.Context, sso: SsoClient, next: string): Promise<void> {
    try {
      await startLimiter.consume(ctx.ip);
      await sso.start(ctx, next);
      ctx.set('Cache-Control', 'no-store');
    } catch (err) {
      if (err instanceof RateLimitedError) return failurePage(ctx, next, 'rate_limited');
      if (err instanceof SsoError) return failurePage(ctx, next, err.reason, err.detail);
      throw err;
    }
  }

  api.router.get('/auth/login/sso', async (ctx) => {
    if (!sso) throw new NotFoundError('SSO sign-in', 'sso_not_configured');
    await start(ctx, sso, safeNext(ctx.query.next));
  });

  // Django's admin sign-in path, kept from the seed: SSO when configured, else the local form. Like
  // /auth/login, a visitor who is already signed in goes straight on (the admin answers 403 to non-staff).
  api.router.get('/admin/login', async (ctx) => {
    const next = safeNext(ctx.query.next, '/admin/');
    if (ctx.state.actor?.via === 'session') return ctx.redirect(next);
    if (sso && ctx.query.method !== 'password') return start(ctx, sso, next);
    ctx.type = 'html';
    ctx.body = renderSignInPage(ctx, { next, extras, title: 'Sign in to the admin' });
  });

  api.router.get('/auth/callback', async (ctx) => {
    if (!sso) throw new NotFoundError('SSO sign-in', 'sso_not_configured');
    const next = safeNext(sso.pendingNext(ctx));
    try {
      await failLimiter.check(ctx.ip);
    } catch {
      if (ctx.session) ctx.session.grant = undefined;
      return failurePage(ctx, next, 'rate_limited');
    }
    try {
      const done = await sso.complete(ctx);
      const user = await services.identities.signIn(done.identity);
      await signIn(ctx, user, 'sso');
      log.info({ userId: user.id, reqId: ctx.requestId }, 'signed in with SSO');
      ctx.set('Cache-Control', 'no-store');
      ctx.redirect(safeNext(done.next));
    } catch (err) {
      let reason: SsoFailure;
      let detail: string | undefined;
      if (err instanceof SsoError) ({ reason, detail } = err);
      else if (err instanceof AppError && DOMAIN_FAILURES[err.code]) reason = DOMAIN_FAILURES[err.code]!;
      else throw err;
      await failLimiter.consume(ctx.ip).catch(() => {});
      failurePage(ctx, next, reason, detail);
    }
  });
}
