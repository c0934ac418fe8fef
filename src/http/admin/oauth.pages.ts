/**
 * Admin OAuth clients and grants (superusers only): register a client (the secret is shown once), edit
 * its redirect URIs, grant types, scopes, PKCE requirement and token lifetimes (the refresh policy),
 * rotate its secret, delete it; list grants per user or per client and revoke them. Everything goes
 * through the OAuth service, which owns the rules.
 */
import type Koa from 'koa';
import { z } from 'zod';
import type { AppContext } from '../../app-context.ts';
import { clientIdSchema } from '../../domain/oauth/oauth.schemas.ts';
import { OAUTH_GRANT_TYPES, OAUTH_SCOPES, SCOPE_DESCRIPTIONS, type OAuthClient, type OAuthClientWithSecret, type OAuthGrant, type OAuthGrantType, type OAuthScope } from '../../domain/oauth/oauth.types.ts';
import { NotFoundError, type AppError } from '../../errors.ts';
import { html, type SafeHtml } from '../html.ts';
import { audit, formBody, formList, requireSuperuser, type AdminSection } from './admin.ts';
import {
  checkboxField,
  csrfField,
  domainFieldErrors,
  field,
  flash,
  formError,
  isConfirmed,
  renderAdmin,
  renderConfirm,
  renderList,
  seeOther,
  selectField,
  textareaField,
  when,
  yesNo,
  type FieldErrors,
} from './ui.ts';

const PAGE = 50;
const grantIdSchema = z.string().regex(/^[A-Za-z0-9_-]{1,200}$/);

const clientListSchema = z.object({
  q: z.string().trim().max(200).default(''),
  sort: z.enum(['name', '-name', 'created', '-created']).catch('name').default('name'),
  page: z.coerce.number().int().min(1).max(200).catch(1).default(1),
});

async function clientFromParam(app: AppContext, id: string | undefined): Promise<OAuthClient> {
  const parsed = clientIdSchema.safeParse(id);
  const c = parsed.success ? await app.services.oauth.findClient(parsed.data) : null;
  if (!c) throw new NotFoundError('Client', 'client_not_found');
  return c;
}

const clientPath = (c: { clientId: string }) => `/admin/oauth/clients/${encodeURIComponent(c.clientId)}/`;

interface ClientFormValues {
  name: string;
  type: string;
  redirect_uris: string;
  grant_types: string[];
  scopes: string[];
  default_scopes: string[];
  require_pkce: boolean;
  skip_consent: boolean;
  owner_email: string;
  access_token_ttl: string;
  refresh_token_ttl: string;
}

function valuesFromBody(b: Record<string, unknown>): ClientFormValues {
  const s = (k: string) => (typeof b[k] === 'string' ? (b[k] as string) : '');
  return {
    name: s('name'),
    type: s('type') || 'confidential',
    redirect_uris: s('redirect_uris'),
    grant_types: formList(b.grant_types),
    scopes: formList(b.scopes),
    default_scopes: formList(b.default_scopes),
    require_pkce: b.require_pkce === 'true',
    skip_consent: b.skip_consent === 'true',
    owner_email: s('owner_email'),
    access_token_ttl: s('access_token_ttl'),
    refresh_token_ttl: s('refresh_token_ttl'),
  };
}

async function valuesFromClient(app: AppContext, c: OAuthClient): Promise<ClientFormValues> {
  const owner = c.ownerUserId ? await app.services.users.findById(c.ownerUserId) : null;
  return {
    name: c.name,
    type: c.confidential ? 'confidential' : 'public',
    redirect_uris: c.redirectUris.join('\n'),
    grant_types: c.grantTypes,
    scopes: c.scopes,
    default_scopes: c.defaultScopes,
    require_pkce: c.requirePkce,
    skip_consent: c.skipConsent,
    owner_email: owner?.email ?? '',
    access_token_ttl: c.accessTokenTtl?.toString() ?? '',
    refresh_token_ttl: c.refreshTokenTtl?.toString() ?? '',
  };
}

/**
 * The form values as the OAuth service's input: lists from lines and pickers, numbers from text, the owner
 * from an email. Problems the service cannot see (unknown owner, non-numeric lifetime) become field errors.
 */
async function inputFromValues(app: AppContext, v: ClientFormValues, errors: FieldErrors) {
  const num = (name: string, raw: string): number | null => {
    if (!raw.trim()) return null;
    const n = Number(raw);
    if (!Number.isInteger(n)) errors[name] = 'must be a whole number of seconds, or empty for the default';
    return n;
  };
  let owner: string | null = null;
  if (v.owner_email.trim()) {
    const u = await app.services.users.findByEmail(v.owner_email.trim());
    if (!u) errors.owner_email = 'no user with this email';
    else owner = u.id;
  }
  return {
    name: v.name,
    redirect_uris: v.redirect_uris.split(/\r?\n/).map((s) => s.trim()).filter(Boolean),
    // The OAuth service validates these lists against the known values.
    grant_types: v.grant_types as OAuthGrantType[],
    scopes: v.scopes as OAuthScope[],
    default_scopes: v.default_scopes as OAuthScope[],
    require_pkce: v.require_pkce,
    skip_consent: v.skip_consent,
    owner_user_id: owner,
    access_token_ttl: num('access_token_ttl', v.access_token_ttl),
    refresh_token_ttl: num('refresh_token_ttl', v.refresh_token_ttl),
  };
}

/** Service field errors: `redirect_uris.1` is shown on the redirect URI box. */
function collapse(errors: FieldErrors | null): FieldErrors | null {
  if (!errors) return null;
  const out: FieldErrors = {};
  for (const [k, v] of Object.entries(errors)) out[k.split('.')[0]!] ??= k.includes('.') ? `${v} (line ${Number(k.split('.')[1]) + 1})` : v;
  return out;
}

const SCOPE_OPTIONS = OAUTH_SCOPES.map((s) => ({ value: s, label: `${s} — ${SCOPE_DESCRIPTIONS[s]}` }));
const GRANT_OPTIONS = OAUTH_GRANT_TYPES.map((g) => ({ value: g, label: g }));

function clientForm(ctx: Koa.Context, o: { action: string; values: ClientFormValues; errors?: FieldErrors; creating: boolean }): SafeHtml {
  const v = o.values;
  const e = o.errors;
  return html`<form method="post" action="${o.action}" class="card" novalidate>
${csrfField(ctx)}
${formError(e)}
${field({ name: 'name', label: 'Name', value: v.name, errors: e, required: true, help: 'Shown on the consent page, e.g. "Google Home".' })}
${o.creating
  ? selectField({
      name: 'type',
      label: 'Client type',
      options: [
        { value: 'confidential', label: 'confidential (has a secret: servers, Google)' },
        { value: 'public', label: 'public (no secret, PKCE: mobile and single-page apps)' },
      ],
      selected: v.type,
      errors: e,
    })
  : html`<p><strong>Type:</strong> ${v.type}</p>`}
${textareaField({ name: 'redirect_uris', label: 'Redirect URIs (one per line)', value: v.redirect_uris, errors: e, rows: 3, help: 'Exact match. For Google: https://oauth-redirect.googleusercontent.com/r/YOUR_PROJECT_ID' })}
${selectField({ name: 'grant_types', label: 'Grant types', options: GRANT_OPTIONS, selected: v.grant_types, errors: e, multiple: true, size: 4 })}
${selectField({ name: 'scopes', label: 'Allowed scopes', options: SCOPE_OPTIONS, selected: v.scopes, errors: e, multiple: true, size: 5 })}
${selectField({ name: 'default_scopes', label: 'Default scopes (when a request names none)', options: SCOPE_OPTIONS, selected: v.default_scopes, errors: e, multiple: true, size: 5 })}
${checkboxField({ name: 'require_pkce', label: 'Require PKCE (always on for public clients)', checked: v.require_pkce, errors: e })}
${checkboxField({ name: 'skip_consent', label: 'First-party: skip the consent page', checked: v.skip_consent, errors: e })}
${field({ name: 'owner_email', label: 'Owner (email)', type: 'email', value: v.owner_email, errors: e, help: 'Needed for client_credentials: the user its tokens act as.' })}
${field({ name: 'access_token_ttl', label: 'Access token lifetime (seconds)', type: 'number', value: v.access_token_ttl, errors: e, help: 'Empty: the server default.' })}
${field({ name: 'refresh_token_ttl', label: 'Refresh token lifetime (seconds)', type: 'number', value: v.refresh_token_ttl, errors: e, help: 'Refresh policy: empty for the server default (rotation with reuse detection).' })}
<div class="actions"><button type="submit">${o.creating ? 'Register client' : 'Save'}</button><a class="button secondary" href="/admin/oauth/clients/">Cancel</a></div>
</form>`;
}

/** The page that shows a client secret, once (creation or rotation). */
function renderSecret(ctx: Koa.Context, result: OAuthClientWithSecret, title: string): void {
  const c = result.client;
  renderAdmin(ctx, {
    title,
    active: 'oauth',
    body: html`<h1>${title}</h1>
<section class="card">
<p><strong>Client id:</strong> <code data-client-id>${c.clientId}</code></p>
${result.clientSecret
  ? html`<p><strong>Client secret</strong> — copy it now, it is shown only this once and stored only as a digest:</p><p class="secret"><code data-client-secret>${result.clientSecret}</code></p>`
  : html`<p class="muted">A public client has no secret.</p>`}
<p>Authorization endpoint <code>${ctx.origin}/o/authorize/</code>, token endpoint <code>${ctx.origin}/o/token/</code>.</p>
<p><a class="button" href="${clientPath(c)}">Continue to the client</a></p>
</section>`,
  });
}

function grantsTable(ctx: Koa.Context, grants: OAuthGrant[], emails: Map<string, string>, back: string): SafeHtml {
  if (!grants.length) return html`<p class="muted">No grants.</p>`;
  return html`<div class="table-wrap"><table><thead><tr><th scope="col">User</th><th scope="col">Client</th><th scope="col">Scopes</th><th scope="col">Granted</th><th scope="col">Expires</th><th scope="col"></th></tr></thead><tbody>
${grants.map(
  (g) => html`<tr><td><a href="/admin/users/${g.userId}/">${emails.get(g.userId) ?? g.userId}</a></td><td><a href="/admin/oauth/clients/${encodeURIComponent(g.clientId)}/">${g.clientName ?? g.clientId}</a></td><td>${g.scopes.join(' ')}</td><td>${when(g.createdAt)}</td><td>${when(g.expiresAt)}</td>
<td><form method="post" action="/admin/oauth/grants/${g.grantId}/revoke/" class="inline">${csrfField(ctx)}<input type="hidden" name="back" value="${back}"><button type="submit" class="danger">Revoke…</button></form></td></tr>`,
)}
</tbody></table></div>`;
}

async function emailsOf(app: AppContext, ids: readonly string[]): Promise<Map<string, string>> {
  const users = await Promise.all([...new Set(ids)].map((id) => app.services.users.findById(id)));
  return new Map(users.filter((u) => u !== null).map((u) => [u.id, u.email]));
}

async function renderClientPage(ctx: Koa.Context, app: AppContext, c: OAuthClient, o: { values?: ClientFormValues; errors?: FieldErrors; status?: number } = {}): Promise<void> {
  const grants = await app.services.oauth.listClientGrants(c.clientId);
  const emails = await emailsOf(app, grants.map((g) => g.userId));
  renderAdmin(ctx, {
    title: c.name,
    active: 'oauth',
    status: o.status ?? 200,
    body: html`<p><a href="/admin/oauth/clients/">← OAuth clients</a></p>
<h1>${c.name}</h1>
<p class="muted">Client id <code>${c.clientId}</code> · ${c.confidential ? 'confidential' : 'public'} · registered ${when(c.createdAt)}${c.secretRotatedAt ? html` · secret rotated ${when(c.secretRotatedAt)}` : ''}</p>
<div class="actions">
${c.confidential ? html`<a class="button secondary" href="${clientPath(c)}rotate/">Rotate secret…</a>` : ''}
<a class="button danger" href="${clientPath(c)}delete/">Delete…</a>
</div>
${clientForm(ctx, { action: clientPath(c), values: o.values ?? (await valuesFromClient(app, c)), errors: o.errors, creating: false })}
<section class="card"><h2>Grants (${grants.length})</h2>${grantsTable(ctx, grants, emails, clientPath(c))}</section>`,
  });
}

export function registerOAuthPages(): AdminSection {
  return {
    nav: { id: 'oauth', label: 'OAuth clients', href: '/admin/oauth/clients/', superuserOnly: true },
    async userPanels(ctx, app, userId) {
      if (!ctx.state.actor?.user.isSuperuser) return null;
      const grants = await app.services.oauth.listUserGrants(userId);
      const emails = await emailsOf(app, [userId]);
      return html`<section class="card"><h2>OAuth grants (${grants.length})</h2>${grantsTable(ctx, grants, emails, `/admin/users/${userId}/`)}</section>`;
    },
    register(router, app) {
      const oauth = app.services.oauth;
      // Every page and action here is for superusers.
      router.use(['/oauth/clients', '/oauth/clients/{*rest}', '/oauth/grants/{*rest}'], async (ctx, next) => {
        requireSuperuser(ctx);
        await next();
      });

      router.get('/oauth/clients/', async (ctx) => {
        const q = clientListSchema.parse(ctx.query);
        const needle = q.q.toLowerCase();
        const all = (await oauth.listClients()).filter((c) => !needle || c.name.toLowerCase().includes(needle) || c.clientId === q.q);
        const key = q.sort.replace('-', '') as 'name' | 'created';
        all.sort((a, b) => (key === 'name' ? a.name.localeCompare(b.name) : a.createdAt.getTime() - b.createdAt.getTime()) * (q.sort.startsWith('-') ? -1 : 1));
        const rows = all.slice((q.page - 1) * PAGE, q.page * PAGE);
        renderAdmin(ctx, {
          title: 'OAuth clients',
          active: 'oauth',
          body: html`<div class="page-head"><h1>OAuth clients</h1><a class="button" href="/admin/oauth/clients/new/">Register client</a></div>
${renderList<OAuthClient>(ctx, {
  path: '/admin/oauth/clients/',
  query: q,
  rows,
  hasMore: all.length > q.page * PAGE,
  searchLabel: 'Search name or exact client id',
  columns: [
    { label: 'Name', sort: 'name', cell: (c) => html`<a href="${clientPath(c)}">${c.name}</a>` },
    { label: 'Client id', cell: (c) => html`<code class="small">${c.clientId}</code>` },
    { label: 'Confidential', cell: (c) => yesNo(c.confidential) },
    { label: 'Grant types', cell: (c) => c.grantTypes.join(', ') },
    { label: 'Scopes', cell: (c) => c.scopes.join(' ') },
    { label: 'Registered', sort: 'created', cell: (c) => when(c.createdAt) },
  ],
  empty: 'No clients registered.',
})}`,
        });
      });

      router.get('/oauth/clients/new/', (ctx) => {
        const values = valuesFromBody({ grant_types: ['authorization_code', 'refresh_token'], require_pkce: 'false' });
        renderAdmin(ctx, { title: 'Register OAuth client', active: 'oauth', body: html`<p><a href="/admin/oauth/clients/">← OAuth clients</a></p><h1>Register OAuth client</h1>${clientForm(ctx, { action: '/admin/oauth/clients/new/', values, creating: true })}` });
      });

      router.post('/oauth/clients/new/', async (ctx) => {
        const values = valuesFromBody(formBody(ctx));
        const show = (errors: FieldErrors, status: number) =>
          renderAdmin(ctx, { title: 'Register OAuth client', active: 'oauth', status, body: html`<p><a href="/admin/oauth/clients/">← OAuth clients</a></p><h1>Register OAuth client</h1>${clientForm(ctx, { action: '/admin/oauth/clients/new/', values, errors, creating: true })}` });
        const errors: FieldErrors = {};
        const input = await inputFromValues(app, values, errors);
        if (Object.keys(errors).length) return show(errors, 400);
        let result: OAuthClientWithSecret;
        try {
          result = await oauth.createClient({ ...input, type: values.type === 'public' ? 'public' : 'confidential' });
        } catch (err) {
          const fe = collapse(domainFieldErrors(err));
          if (fe) return show(fe, (err as AppError).status);
          throw err;
        }
        const c = result.client;
        await audit(ctx, app, {
          action: 'oauth_client.create',
          targetType: 'oauth_client',
          targetId: c.clientId,
          summary: `registered OAuth client ${c.name}`,
          details: { redirectUris: c.redirectUris, grantTypes: c.grantTypes, scopes: c.scopes, confidential: c.confidential },
        });
        renderSecret(ctx, result, `Client ${c.name} registered`);
      });

      router.get('/oauth/clients/:id/', async (ctx) => {
        await renderClientPage(ctx, app, await clientFromParam(app, ctx.params.id));
      });

      router.post('/oauth/clients/:id/', async (ctx) => {
        const c = await clientFromParam(app, ctx.params.id);
        const values = { ...valuesFromBody(formBody(ctx)), type: c.confidential ? 'confidential' : 'public' };
        const errors: FieldErrors = {};
        const input = await inputFromValues(app, values, errors);
        if (Object.keys(errors).length) return renderClientPage(ctx, app, c, { values, errors, status: 400 });
        let updated: OAuthClient;
        try {
          updated = await oauth.updateClient(c.clientId, input);
        } catch (err) {
          const fe = collapse(domainFieldErrors(err));
          if (fe) return renderClientPage(ctx, app, c, { values, errors: fe, status: (err as AppError).status });
          throw err;
        }
        await audit(ctx, app, {
          action: 'oauth_client.update',
          targetType: 'oauth_client',
          targetId: c.clientId,
          summary: `changed OAuth client ${updated.name}`,
          details: { redirectUris: updated.redirectUris, grantTypes: updated.grantTypes, scopes: updated.scopes, requirePkce: updated.requirePkce, refreshTokenTtl: updated.refreshTokenTtl },
        });
        flash(ctx, 'Saved.');
        seeOther(ctx, clientPath(c));
      });

      const rotate = async (ctx: Koa.Context) => {
        const c = await clientFromParam(app, ctx.params.id);
        if (ctx.method === 'GET' || !isConfirmed(formBody(ctx))) {
          return renderConfirm(ctx, {
            title: `Rotate the secret of ${c.name}?`,
            message: html`<p>A new secret is issued and shown once; the current secret stops working at once. Update the client's configuration (e.g. the Google Actions console) right after.</p>`,
            action: `${clientPath(c)}rotate/`,
            button: 'Yes, rotate',
            back: clientPath(c),
            active: 'oauth',
          });
        }
        const result = await oauth.rotateSecret(c.clientId);
        await audit(ctx, app, { action: 'oauth_client.rotate_secret', targetType: 'oauth_client', targetId: c.clientId, summary: `rotated the secret of ${c.name}` });
        renderSecret(ctx, result, `New secret for ${c.name}`);
      };
      router.get('/oauth/clients/:id/rotate/', rotate);
      router.post('/oauth/clients/:id/rotate/', rotate);

      const remove = async (ctx: Koa.Context) => {
        const c = await clientFromParam(app, ctx.params.id);
        if (ctx.method === 'GET' || !isConfirmed(formBody(ctx))) {
          return renderConfirm(ctx, {
            title: `Delete the client ${c.name}?`,
            message: html`<p>Every grant and token issued to it ends now, and it can no longer sign anyone in.</p>`,
            action: `${clientPath(c)}delete/`,
            button: 'Yes, delete',
            back: clientPath(c),
            active: 'oauth',
          });
        }
        await oauth.deleteClient(c.clientId);
        await audit(ctx, app, { action: 'oauth_client.delete', targetType: 'oauth_client', targetId: c.clientId, summary: `deleted OAuth client ${c.name}` });
        flash(ctx, `Client ${c.name} deleted.`);
        seeOther(ctx, '/admin/oauth/clients/');
      };
      router.get('/oauth/clients/:id/delete/', remove);
      router.post('/oauth/clients/:id/delete/', remove);

      router.post('/oauth/grants/:grantId/revoke/', async (ctx) => {
        const grantId = grantIdSchema.safeParse(ctx.params.grantId);
        if (!grantId.success) throw new NotFoundError('Grant', 'grant_not_found');
        const body = formBody(ctx);
        const back = typeof body.back === 'string' && /^\/admin\/[A-Za-z0-9/_.%~-]*$/.test(body.back) ? body.back : '/admin/oauth/clients/';
        if (!isConfirmed(body)) {
          return renderConfirm(ctx, {
            title: 'Revoke this grant?',
            message: html`<p>The client loses access at once: every access and refresh token issued under this grant stops working. The user must authorize it again.</p>`,
            action: `/admin/oauth/grants/${grantId.data}/revoke/`,
            button: 'Yes, revoke',
            back,
            hidden: { back },
            active: 'oauth',
          });
        }
        await oauth.revokeGrant(grantId.data);
        await audit(ctx, app, { action: 'oauth_grant.revoke', targetType: 'oauth_grant', targetId: grantId.data, summary: 'revoked an OAuth grant' });
        flash(ctx, 'Grant revoked; its tokens no longer work.');
        seeOther(ctx, back);
      });
    },
  };
}
