/**
 * The OAuth 2.0 authorization server: oidc-provider 9 configured for MessageBridge and mounted at /o/.
 * Authorization code + PKCE, refresh tokens, client credentials and the device authorization grant;
 * opaque access tokens for one resource (our API); revocation and introspection. Storage is the Kysely
 * adapter; sign-in and consent are our own pages (`http/routes/oauth.routes.ts`) on the app session.
 */
import { createHash, createPrivateKey } from 'node:crypto';
import type Koa from 'koa';
import compose from 'koa-compose';
import type { Kysely } from 'kysely';
import Provider, { errors, interactionPolicy, type Configuration, type KoaContextWithOIDC } from 'oidc-provider';
import type { Config } from '../../config.ts';
import type { Database } from '../../db/database.ts';
import * as store from '../../domain/oauth/oauth-store.repository.ts';
import { clientSecretMatches, grantKey, type OAuthService } from '../../domain/oauth/oauth.service.ts';
import { OAUTH_SCOPES } from '../../domain/oauth/oauth.types.ts';
import type { UserService } from '../../domain/users/user.service.ts';
import { RateLimitedError } from '../../errors.ts';
import { escapeHtml, html, page, raw } from '../../http/html.ts';
import type { EventBus } from '../../infra/events.ts';
import type { LimiterFactory } from '../../infra/rate-limit.ts';
import type { Logger } from '../../logger.ts';
import type { BearerVerifier } from '../bearer.ts';
import { createAdapter } from './adapter.ts';
import { installGrantWrappers } from './refresh-grace.ts';

/** The paths of the authorization server (django-oauth-toolkit's, as the seed had). */
export const OAUTH_ROUTES = {
  authorization: '/o/authorize/',
  token: '/o/token/',
  revocation: '/o/revoke_token/',
  introspection: '/o/introspect/',
  jwks: '/o/jwks/',
  device_authorization: '/o/device_authorization/',
  code_verification: '/o/device/',
  userinfo: '/o/userinfo/',
  end_session: '/o/logout/',
  pushed_authorization_request: '/o/par/',
  challenge: '/o/challenge/',
  registration: '/o/register/',
  backchannel_authentication: '/o/backchannel/',
} as const;

/** Where the provider sends the browser for sign-in and consent. */
export const interactionPath = (uid: string) => `/o/interaction/${uid}`;

const API_SCOPES: readonly string[] = OAUTH_SCOPES;
const CLIENT_ENDPOINTS = new Set([OAUTH_ROUTES.token, OAUTH_ROUTES.revocation, OAUTH_ROUTES.introspection, OAUTH_ROUTES.device_authorization]);
const SLASHLESS = new Map(Object.values(OAUTH_ROUTES).map((p) => [p.slice(0, -1), p]));

export interface OAuthServerDeps {
  config: Config;
  logger: Logger;
  db: Kysely<Database>;
  oauth: OAuthService;
  users: UserService;
  limiters: LimiterFactory;
  events: EventBus;
}

export interface OAuthServer {
  readonly provider: Provider;
  /** The resource indicator (audience) of our API's access tokens. */
  readonly resource: string;
  /** Rate limits, default scopes and the provider; mount before the session and body parser. */
  readonly middleware: Koa.Middleware;
  /** Resolves our API's bearer tokens. */
  readonly bearer: BearerVerifier;
}

/** Our extra client metadata (oidc-provider keeps these properties under their snake_case names). */
export interface ExtraClientMetadata {
  require_pkce?: boolean;
  default_scope?: string;
  skip_consent?: boolean;
  access_token_ttl?: number;
  refresh_token_ttl?: number;
}

/** The extra metadata of a provider client object. */
export const extra = (client: unknown): ExtraClientMetadata => (client ?? {}) as ExtraClientMetadata;

/** A stable Ed25519 signing key derived from the newest cookie key (only signs ID tokens, if ever asked for). */
function signingJwk(secret: string) {
  const seed = createHash('sha256').update(`oauth-signing-key:${secret}`).digest();
  const der = Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), seed]);
  const jwk = createPrivateKey({ key: der, format: 'der', type: 'pkcs8' }).export({ format: 'jwk' });
  return { ...jwk, kid: createHash('sha256').update(jwk.x!).digest('base64url').slice(0, 16), use: 'sig', alg: 'EdDSA' };
}

function oauthErrorPage(title: string, message: string): string {
  return page({ title, body: html`<section class="card narrow"><h1>${title}</h1><p>${message}</p><p><a href="/home/">Back to MessageBridge</a></p></section>` });
}

const deviceStyle = (title: string, inner: string) =>
  page({ title, body: raw(`<section class="card narrow"><h1>${escapeHtml(title)}</h1>${inner}</section>`) });

/** Build the provider and everything around it. */
export function createOAuthServer(deps: OAuthServerDeps): OAuthServer {
  const { config, logger, db, oauth, users } = deps;
  const cfg = config.oauth;
  const issuer = config.http.publicUrl;
  const resource = `${issuer}/api/`;
  const log = logger.child({ subsystem: 'oauth' });

  const { Check, base } = interactionPolicy;
  const policy = base();
  // The app session decides who is signed in: every authorization passes through our sign-in bridge,
  // so signing out of the app (or switching user) is never outlived by the provider's own session.
  policy.get('login')!.checks.add(
    new Check('app_session', 'Sign-in is checked against the application session', 'login_required', (ctx) =>
      ctx.oidc.result?.login ? Check.NO_NEED_TO_PROMPT : Check.REQUEST_PROMPT,
    ),
  );

  const clientScopes = (client: { scope?: string } | undefined) => new Set((client?.scope ?? '').split(' ').filter((s) => API_SCOPES.includes(s)));

  // The resource server's lifetime already includes the client's override (getResourceServerInfo).
  const accessTtl = (token: { resourceServer?: { accessTokenTTL?: number } }, client: unknown) =>
    token.resourceServer?.accessTokenTTL ?? extra(client).access_token_ttl ?? cfg.accessTokenTtl;

  // Grants the provider revokes by itself are announced like the service's revocations.
  const announceRevoked = (grantId: string, userId: string | null | undefined, clientId: string | null | undefined) => {
    deps.events
      .emit('oauth.grant_revoked', { grantId, userId: userId ?? '', clientId: clientId ?? '' })
      .catch((err) => log.error({ err }, 'grant revocation handler failed'));
  };

  const configuration: Configuration = {
    adapter: createAdapter(db, oauth),
    clients: [],
    jwks: { keys: [signingJwk(config.session.keys[0]!)] as never },
    cookies: {
      keys: [...config.session.keys],
      long: { signed: true, httpOnly: true, sameSite: 'lax' },
      short: { signed: true, httpOnly: true, sameSite: 'lax' },
    },
    routes: OAUTH_ROUTES,
    responseTypes: ['code'],
    clientAuthMethods: ['client_secret_basic', 'client_secret_post', 'none'],
    clientDefaults: { grant_types: ['authorization_code'], response_types: ['code'], token_endpoint_auth_method: 'client_secret_basic', id_token_signed_response_alg: 'EdDSA' },
    scopes: [...API_SCOPES],
    claims: { openid: ['sub'] },
    clientBasedCORS: () => false,
    extraClientMetadata: {
      properties: ['require_pkce', 'default_scope', 'skip_consent', 'access_token_ttl', 'refresh_token_ttl'],
      validator: () => undefined,
    },
    pkce: {
      required: (_ctx, client) => client.clientAuthMethod === 'none' || extra(client).require_pkce === true,
    },
    features: {
      devInteractions: { enabled: false },
      userinfo: { enabled: false },
      rpInitiatedLogout: { enabled: false },
      dPoP: { enabled: false },
      clientCredentials: { enabled: true },
      revocation: {
        enabled: true,
        // A client may revoke only its own tokens (a public client asking for another's is a silent no-op).
        allowedPolicy: async (ctx, client, token) => {
          if (token.clientId === client.clientId) return true;
          if (client.clientAuthMethod === 'none') return false;
          throw new errors.InvalidRequest('client is not authorized to revoke the presented token');
        },
      },
      introspection: {
        enabled: true,
        // Introspection answers only about the caller's own tokens; anything else is `active: false`.
        allowedPolicy: async (_ctx, client, token) => token.clientId === client.clientId,
      },
      deviceFlow: {
        enabled: true,
        charset: 'base-20',
        mask: '****-****',
        userCodeInputSource: async (ctx, form, _out, err) => {
          const msg = err && (('userCode' in err && err.userCode) || err.name === 'NoCodeError')
            ? '<p class="alert" role="alert">That code is not valid or has expired. Check the code on your device and try again.</p>'
            : err
              ? '<p class="alert" role="alert">The request could not be completed. Start again on your device.</p>'
              : '<p>Enter the code shown on your device.</p>';
          ctx.type = 'html';
          ctx.body = deviceStyle('Connect a device', `${msg}${form}<div class="actions"><button type="submit" form="op.deviceInputForm">Continue</button></div>`);
        },
        userCodeConfirmSource: async (ctx, form, client, _deviceInfo, userCode) => {
          ctx.type = 'html';
          ctx.body = deviceStyle(
            'Confirm the device',
            `<p><strong>${escapeHtml(client.clientName ?? client.clientId)}</strong> wants to connect to your account.</p>` +
              `<p>Check that your device shows this code:</p><p class="code"><code>${escapeHtml(userCode)}</code></p>` +
              `<p>If you did not start this, or the code differs, cancel.</p>${form}` +
              `<div class="actions"><button type="submit" form="op.deviceConfirmForm">Continue</button>` +
              `<button type="submit" form="op.deviceConfirmForm" value="yes" name="abort" class="secondary">Cancel</button></div>`,
          );
        },
        successSource: async (ctx) => {
          ctx.type = 'html';
          ctx.body = deviceStyle('Device connected', `<p>${escapeHtml(ctx.oidc.client?.clientName ?? 'The device')} is now connected. You can close this page and return to your device.</p>`);
        },
      },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => resource,
        useGrantedResource: () => true,
        getResourceServerInfo: (_ctx, indicator, client) => {
          if (indicator !== resource) throw new errors.InvalidTarget();
          const allowed = clientScopes(client);
          const ttl = extra(client).access_token_ttl ?? cfg.accessTokenTtl;
          return { scope: API_SCOPES.filter((s) => allowed.has(s)).join(' '), accessTokenFormat: 'opaque', accessTokenTTL: ttl, audience: resource };
        },
      },
    },
    ttl: {
      AccessToken: (_ctx, token, client) => accessTtl(token, client),
      ClientCredentials: (_ctx, token, client) => accessTtl(token, client),
      AuthorizationCode: cfg.codeTtl,
      DeviceCode: cfg.deviceCodeTtl,
      // Sliding: each new refresh token lives a full period, but never past the family's absolute cap.
      RefreshToken: (_ctx, token, client) => {
        const sliding = extra(client).refresh_token_ttl ?? cfg.refreshTokenTtl;
        const iiat = (token as unknown as { iiat?: number }).iiat;
        const used = iiat ? Math.floor(Date.now() / 1000) - iiat : 0;
        return Math.max(1, Math.min(sliding, cfg.refreshTokenMaxLifetime - used));
      },
      Grant: cfg.refreshTokenMaxLifetime,
      Interaction: 600,
      Session: 600,
      IdToken: 600,
    },
    // Refresh tokens for every client registered for the grant (API clients and Google never send offline_access).
    issueRefreshToken: async (_ctx, client) => client.grantTypeAllowed('refresh_token'),
    // Public clients rotate on every refresh (a replay revokes the grant); confidential clients near
    // expiry, with the grace layer in refresh-grace.ts. No rotation past the absolute cap.
    rotateRefreshToken: (ctx) => {
      const rt = ctx.oidc.entities.RefreshToken!;
      const client = ctx.oidc.entities.Client!;
      if (rt.totalLifetime() >= cfg.refreshTokenMaxLifetime) return false;
      if (client.clientAuthMethod === 'none') return true;
      return rt.ttlPercentagePassed() >= 70;
    },
    findAccount: async (_ctx, id) => {
      const user = await users.findById(id).catch(() => null);
      if (!user || !user.isActive) return undefined;
      return { accountId: id, claims: async () => ({ sub: id }) };
    },
    // Consent is remembered per user and client, not per provider session.
    loadExistingGrant: async (ctx) => {
      const grantId = ctx.oidc.result?.consent?.grantId ?? ctx.oidc.session?.grantIdFor(ctx.oidc.client!.clientId);
      if (grantId) {
        const g = await ctx.oidc.provider.Grant.find(grantId);
        if (g && g.accountId === ctx.oidc.session?.accountId) return g;
      }
      const accountId = ctx.oidc.session?.accountId;
      if (!accountId) return undefined;
      const rows = await store.listGrants(db, { accountId, clientId: ctx.oidc.client!.clientId });
      const latest = rows[0]?.payload as { jti?: string } | undefined;
      return latest?.jti ? ctx.oidc.provider.Grant.find(latest.jti) : undefined;
    },
    interactions: { url: (_ctx, interaction) => interactionPath(interaction.uid), policy },
    renderError: async (ctx, out) => {
      ctx.type = 'html';
      ctx.body = oauthErrorPage('Authorization failed', out.error_description ? `${out.error}: ${out.error_description}` : String(out.error));
    },
  };

  const provider = new Provider(issuer, configuration);
  // Client secrets are stored as digests; compare the digest of what the client presents.
  provider.Client.prototype.compareClientSecret = function compareClientSecret(this: { clientSecret?: string }, actual: string) {
    return clientSecretMatches(this.clientSecret, actual);
  };
  installGrantWrappers(provider, {
    db,
    keys: config.session.keys,
    graceSeconds: cfg.refreshGrace,
    defaultScope: (ctx) => extra(ctx.oidc.client).default_scope,
  });
  provider.on('server_error', (_ctx, err) => log.error({ err }, 'authorization server error'));
  // Revocation endpoint (refresh token) and refresh-token reuse detection.
  provider.on('grant.revoked', (ctx: KoaContextWithOIDC, grantId: string) => {
    const e = ctx.oidc.entities;
    const source = e.RefreshToken ?? e.AccessToken ?? e.AuthorizationCode ?? e.DeviceCode;
    announceRevoked(grantId, source?.accountId, ctx.oidc.client?.clientId);
  });

  const perIp = deps.limiters({ name: 'oauth-ip', points: cfg.tokenRateLimit, duration: 60 });
  const failures = deps.limiters({ name: 'oauth-fail', points: cfg.tokenMaxFailures, duration: 600, blockDuration: 600 });
  const providerStack = compose((provider as unknown as Koa).middleware as Koa.Middleware[]);

  const middleware: Koa.Middleware = async (ctx, next) => {
    if (!ctx.path.startsWith('/o/') && !ctx.path.startsWith('/.well-known/')) return next();
    const canonical = SLASHLESS.get(ctx.path.toLowerCase());
    if (canonical) ctx.path = canonical;
    const path = ctx.path.toLowerCase();
    const clientEndpoint = ctx.method === 'POST' && CLIENT_ENDPOINTS.has(path as never);
    if (clientEndpoint) {
      try {
        await failures.check(ctx.ip);
        await perIp.consume(ctx.ip);
      } catch (err) {
        if (!(err instanceof RateLimitedError)) throw err;
        ctx.status = 429;
        ctx.set('Retry-After', err.headers['Retry-After']!);
        ctx.set('Cache-Control', 'no-store');
        ctx.body = { error: 'rate_limited', error_description: 'too many requests; retry later' };
        return;
      }
    }
    if (ctx.method === 'GET' && path === OAUTH_ROUTES.authorization) await applyDefaultScope(ctx);
    await providerStack(ctx as never, next);
    if (clientEndpoint && ctx.status >= 400 && ctx.status !== 429) {
      const body = ctx.body as { error?: string; error_description?: string } | undefined;
      // Only failed client authentication counts: guessing 256-bit codes or tokens is hopeless, while
      // device polling (authorization_pending) and expired refresh tokens behind one shared IP (Google)
      // are normal traffic that must not lock a client out.
      if (body?.error === 'invalid_client') await failures.consume(ctx.ip).catch(() => undefined);
      // RFC 6749 §5.2 names this case unauthorized_client; the provider reports invalid_request.
      if (body?.error === 'invalid_request' && body.error_description === 'requested grant type is not allowed for this client') body.error = 'unauthorized_client';
    }
  };

  /** Closed by default: an authorization request naming no scope gets the client's default scopes. */
  async function applyDefaultScope(ctx: Koa.Context): Promise<void> {
    const q = new URLSearchParams(ctx.querystring);
    const clientId = q.get('client_id');
    if (q.has('scope') || !clientId || clientId.length > 100) return;
    const client = await oauth.findClient(clientId);
    if (!client?.defaultScopes.length) return;
    q.set('scope', client.defaultScopes.join(' '));
    ctx.querystring = q.toString();
  }

  const bearer: BearerVerifier = {
    async verify(token) {
      if (token.length > 512) return null;
      const at = await provider.AccessToken.find(token);
      if (at) {
        if (at.isExpired || at.aud !== resource || !at.accountId || !at.grantId) return null;
        // A revoked grant takes its access tokens with it.
        if (!(await store.findModel(db, 'Grant', grantKey(at.grantId)))) return null;
        return { userId: at.accountId, clientId: at.clientId!, scopes: (at.scope ?? '').split(' ').filter(Boolean), grantId: at.grantId, expiresAt: at.exp! };
      }
      const cc = await provider.ClientCredentials.find(token);
      if (!cc || cc.isExpired || cc.aud !== resource) return null;
      const client = await oauth.findClient(cc.clientId!);
      if (!client?.ownerUserId || !client.grantTypes.includes('client_credentials')) return null;
      return { userId: client.ownerUserId, clientId: client.clientId, scopes: (cc.scope ?? '').split(' ').filter(Boolean), expiresAt: cc.exp! };
    },
  };

  return { provider, resource, middleware, bearer };
}

export type { KoaContextWithOIDC };
