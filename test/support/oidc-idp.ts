/**
 * A local OpenID provider for SSO tests: a real oidc-provider instance on `localhost` (a different host
 * name from the app's 127.0.0.1, so cookies stay apart like in a browser) with accounts and interactions
 * the test controls. Login and consent are answered automatically, so a redirect-following client goes
 * through the whole dance. The token response can be rewritten to test id_token verification.
 */
import http from 'node:http';
import { exportJWK, generateKeyPair, SignJWT, decodeJwt, type JWK, type JWTPayload } from 'jose';
import Provider from 'oidc-provider';
import { freePort } from './config.ts';

export interface IdpAccount {
  email?: string;
  email_verified?: boolean;
  given_name?: string;
  family_name?: string;
  name?: string;
  groups?: string[];
}

export type IdpLogin = { accountId: string } | { error: string; description?: string };

export interface TestIdp {
  /** http://localhost:PORT */
  readonly issuer: string;
  readonly clientId: string;
  readonly clientSecret: string;
  readonly accounts: Map<string, IdpAccount>;
  /** What the next login prompt answers: an account, or an error sent back to the app. */
  nextLogin: IdpLogin;
  /**
   * Rewrites the id_token of token responses (null: untouched). The result is signed with the provider's
   * own key, or with a foreign key under the same key id when `foreignKey` is set.
   */
  tamper: ((claims: JWTPayload) => JWTPayload) | null;
  foreignKey: boolean;
  /** Environment for the app under test (issuer, client, claim mapping). */
  env(extra?: Record<string, string>): Record<string, string>;
  close(): Promise<void>;
}

const KID = 'test-idp-key';

/** Start the provider; `appUrls` are the app servers its one client (the app) may return to. */
export async function startTestIdp(...appUrls: string[]): Promise<TestIdp> {
  const port = await freePort();
  const issuer = `http://localhost:${port}`;
  const clientId = 'messagebridge';
  const clientSecret = 'idp-test-client-secret-0123456789abcdef';
  const own = await generateKeyPair('RS256', { extractable: true });
  const foreign = await generateKeyPair('RS256', { extractable: true });
  const jwk: JWK = { ...(await exportJWK(own.privateKey)), kid: KID, alg: 'RS256', use: 'sig' };
  const accounts = new Map<string, IdpAccount>();

  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: clientId,
        client_secret: clientSecret,
        redirect_uris: appUrls.map((u) => `${u}/auth/callback/`),
        post_logout_redirect_uris: appUrls.map((u) => `${u}/home/`),
        response_types: ['code'],
        grant_types: ['authorization_code'],
        token_endpoint_auth_method: 'client_secret_basic',
      },
    ],
    jwks: { keys: [jwk] },
    async findAccount(_ctx, id) {
      const account = accounts.get(id);
      if (!account) return undefined;
      return { accountId: id, claims: async () => ({ sub: id, ...account }) };
    },
    claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name', 'given_name', 'family_name'], groups: ['groups'] },
    scopes: ['openid', 'email', 'profile', 'groups'],
    features: { devInteractions: { enabled: false }, rpInitiatedLogout: { enabled: true } },
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
    cookies: { keys: ['test-idp-cookie-key-0123456789abcdef'] },
    pkce: { required: () => true },
    ttl: { AccessToken: 600, AuthorizationCode: 60, IdToken: 600, Interaction: 600, Session: 3600, Grant: 3600 },
  });
  // The provider logs to stderr through `debug` only; server errors would otherwise go unseen.
  provider.on('server_error', (_ctx, err) => console.error('test IdP server_error', err));

  const idp: TestIdp = {
    issuer,
    clientId,
    clientSecret,
    accounts,
    nextLogin: { accountId: 'alice' },
    tamper: null,
    foreignKey: false,
    env: (extra = {}) => ({
      SSO_ISSUER: issuer,
      SSO_CLIENT_ID: clientId,
      SSO_CLIENT_SECRET: clientSecret,
      SSO_SCOPES: 'openid email profile groups',
      SSO_DISPLAY_NAME: 'Test IdP',
      SSO_STAFF_CLAIM: 'groups',
      SSO_STAFF_VALUES: 'mb-staff',
      SSO_SUPERUSER_CLAIM: 'groups',
      SSO_SUPERUSER_VALUES: 'mb-admins',
      ...extra,
    }),
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };

  provider.use(async (ctx, next) => {
    if (ctx.path.startsWith('/interaction/')) {
      const details = await provider.interactionDetails(ctx.req, ctx.res);
      let result: Record<string, unknown>;
      if (details.prompt.name === 'login') {
        const login = idp.nextLogin;
        result = 'error' in login ? { error: login.error, error_description: login.description ?? '' } : { login: { accountId: login.accountId, remember: true } };
      } else {
        const accountId = details.session!.accountId;
        const grant = details.grantId
          ? (await provider.Grant.find(details.grantId))!
          : new provider.Grant({ accountId, clientId: details.params.client_id as string });
        const missing = details.prompt.details as { missingOIDCScope?: string[]; missingOIDCClaims?: string[] };
        if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
        if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
        result = { consent: { grantId: await grant.save() } };
      }
      ctx.redirect(await provider.interactionResult(ctx.req, ctx.res, result, { mergeWithLastSubmission: false }));
      return;
    }
    await next();
    const body = ctx.body as Record<string, unknown> | undefined;
    if (ctx.path === '/token' && idp.tamper && body && typeof body.id_token === 'string') {
      const claims = idp.tamper(decodeJwt(body.id_token));
      const token = await new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid: KID, typ: 'JWT' }).sign(idp.foreignKey ? foreign.privateKey : own.privateKey);
      ctx.body = { ...body, id_token: token };
    }
  });

  const server = http.createServer(provider.callback());
  await new Promise<void>((resolve) => server.listen(port, resolve));
  return idp;
}
