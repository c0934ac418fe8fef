/**
 * The authorization server's pages: the sign-in bridge (the provider's login prompt is satisfied by the
 * app session; without one, the existing sign-in page is shown and comes back here) and the consent page
 * (server-rendered, CSRF token, scopes in words, allow or deny).
 */
import type Koa from 'koa';
import { z } from 'zod';
import type { AppContext } from '../../app-context.ts';
import { extra } from '../../auth/oauth/provider.ts';
import { formCsrfToken } from '../../auth/session.ts';
import { OAUTH_SCOPES, SCOPE_DESCRIPTIONS, type OAuthScope } from '../../domain/oauth/oauth.types.ts';
import { ValidationError } from '../../errors.ts';
import type { Api } from '../api.ts';
import { html, page } from '../html.ts';
import { checkFormToken } from './auth.routes.ts';

const confirmSchema = z.object({ _csrf: z.string().max(200).optional(), decision: z.enum(['allow', 'deny']) });

type Details = Awaited<ReturnType<AppContext['oauthServer']['provider']['interactionDetails']>>;

export function registerOAuthRoutes(api: Api, app: AppContext): void {
  const { provider } = app.oauthServer;

  const showError = (ctx: Koa.Context, status: number, message: string) => {
    ctx.status = status;
    ctx.type = 'html';
    ctx.body = page({ title: 'Authorization', body: html`<section class="card narrow"><h1>Authorization</h1><p class="alert" role="alert">${message}</p><p><a href="/home/">Back to MessageBridge</a></p></section>` });
  };

  /** The pending interaction for this browser, or null when its cookie is missing, expired or for another uid. */
  async function pending(ctx: Koa.Context): Promise<Details | null> {
    try {
      const d = await provider.interactionDetails(ctx.req, ctx.res);
      return d.uid === ctx.params.uid ? d : null;
    } catch {
      return null;
    }
  }

  // Koa-native redirect: interactionFinished() would end the response behind koa-session's back.
  const finish = async (ctx: Koa.Context, result: Record<string, unknown>, merge: boolean) => {
    const to = await provider.interactionResult(ctx.req, ctx.res, result as never, { mergeWithLastSubmission: merge });
    ctx.status = 303;
    ctx.redirect(to);
  };

  async function approve(ctx: Koa.Context, d: Details, accountId: string): Promise<void> {
    const details = d.prompt.details as { missingOIDCScope?: string[]; missingOIDCClaims?: string[]; missingResourceScopes?: Record<string, string[]> };
    const clientId = String(d.params.client_id);
    let grant = d.grantId ? await provider.Grant.find(d.grantId) : undefined;
    if (!grant || grant.accountId !== accountId) grant = new provider.Grant({ accountId, clientId });
    if (details.missingOIDCScope?.length) grant.addOIDCScope(details.missingOIDCScope.join(' '));
    if (details.missingOIDCClaims?.length) grant.addOIDCClaims(details.missingOIDCClaims);
    for (const [indicator, scopes] of Object.entries(details.missingResourceScopes ?? {})) grant.addResourceScope(indicator, scopes.join(' '));
    const grantId = await grant.save();
    await finish(ctx, { consent: { grantId } }, true);
  }

  api.router.get('/o/interaction/:uid', async (ctx) => {
    ctx.set('Cache-Control', 'no-store');
    const d = await pending(ctx);
    if (!d) return showError(ctx, 400, 'This authorization request has expired or is not valid. Start again from the application.');
    const actor = ctx.state.actor;
    if (!actor || actor.via !== 'session') {
      return ctx.redirect(`/auth/login?next=${encodeURIComponent(ctx.path)}`);
    }
    const userId = actor.user.id;
    // The app session is the authority: a provider session of another user is replaced.
    if (d.prompt.name === 'login' || (d.session?.accountId && d.session.accountId !== userId)) {
      return finish(ctx, { login: { accountId: userId, remember: false } }, false);
    }
    if (d.prompt.name !== 'consent') return showError(ctx, 400, 'This authorization request cannot be completed here.');
    const client = await provider.Client.find(String(d.params.client_id));
    if (!client) return showError(ctx, 400, 'The application is no longer registered.');
    if (extra(client).skip_consent) return approve(ctx, d, userId);

    const details = d.prompt.details as { missingResourceScopes?: Record<string, string[]> };
    const requested = new Set(Object.values(details.missingResourceScopes ?? {}).flat());
    const scopes = OAUTH_SCOPES.filter((s) => requested.has(s));
    ctx.type = 'html';
    ctx.body = page({
      title: 'Authorize application',
      nav: html`<span>${actor.user.email}</span>`,
      body: html`<section class="card narrow">
<h1>Authorize ${client.clientName ?? client.clientId}</h1>
<p><strong>${client.clientName ?? client.clientId}</strong> wants to access your MessageBridge account (${actor.user.email}).</p>
${
  scopes.length
    ? html`<p>It will be able to:</p><ul class="scopes">${scopes.map((s: OAuthScope) => html`<li><strong>${SCOPE_DESCRIPTIONS[s]}</strong> <span class="muted">(${s})</span></li>`)}</ul>`
    : html`<p>It asks for no access to your messages or devices.</p>`
}
<p class="muted">You can revoke this access at any time.</p>
<form method="post" action="/o/interaction/${d.uid}/confirm">
<input type="hidden" name="_csrf" value="${formCsrfToken(ctx)}">
<div class="actions">
<button type="submit" name="decision" value="allow">Allow</button>
<button type="submit" name="decision" value="deny" class="secondary">Deny</button>
</div>
</form>
</section>`,
    });
  });

  api.router.post('/o/interaction/:uid/confirm', async (ctx) => {
    ctx.set('Cache-Control', 'no-store');
    const parsed = confirmSchema.safeParse((ctx.request as { body?: unknown }).body ?? {});
    if (!parsed.success) throw new ValidationError('Invalid form', [{ path: 'decision', message: 'allow or deny' }]);
    checkFormToken(ctx, parsed.data._csrf);
    const d = await pending(ctx);
    if (!d) return showError(ctx, 400, 'This authorization request has expired or is not valid. Start again from the application.');
    const actor = ctx.state.actor;
    if (!actor || actor.via !== 'session') return ctx.redirect(`/auth/login?next=${encodeURIComponent(`/o/interaction/${d.uid}`)}`);
    if (d.prompt.name !== 'consent' || (d.session?.accountId && d.session.accountId !== actor.user.id)) {
      return ctx.redirect(`/o/interaction/${d.uid}`);
    }
    if (parsed.data.decision === 'deny') {
      return finish(ctx, { error: 'access_denied', error_description: 'The user denied the request' }, false);
    }
    return approve(ctx, d, actor.user.id);
  });
}
