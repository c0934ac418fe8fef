/**
 * OAuth helpers for tests: register clients through the domain service and mint REAL tokens through the
 * authorization server's own models and storage (no stubs), or run the real flows over HTTP.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { NewClientInput } from '../../src/domain/oauth/oauth.schemas.ts';
import { OAUTH_SCOPES, type OAuthClient } from '../../src/domain/oauth/oauth.types.ts';
import type { User } from '../../src/domain/users/user.types.ts';
import type { HttpClient } from './http.ts';
import type { TestServer } from './server.ts';

export const ALL_SCOPES: string[] = [...OAUTH_SCOPES];
export const TEST_REDIRECT_URI = 'http://127.0.0.1:9/callback';

export interface CreatedClient {
  client: OAuthClient;
  clientId: string;
  /** null for public clients. */
  clientSecret: string | null;
}

/**
 * Register a client. Defaults: confidential (client_secret_basic), code + refresh grants, every scope,
 * redirect URI TEST_REDIRECT_URI. Any field of the service's input can be overridden.
 */
export async function createOAuthClient(srv: TestServer, opts: Partial<NewClientInput> = {}): Promise<CreatedClient> {
  const { client, clientSecret } = await srv.app.services.oauth.createClient({
    name: 'Test client',
    redirect_uris: [TEST_REDIRECT_URI],
    scopes: ALL_SCOPES as NewClientInput['scopes'],
    ...opts,
  });
  return { client, clientId: client.clientId, clientSecret };
}

export interface IssueOptions {
  user: User;
  /** Scopes of the token (may be empty). */
  scopes: readonly string[];
  /** Existing client; a new confidential client with every scope is created otherwise. */
  clientId?: string;
  /** Lifetime in seconds (default: the server's access token lifetime). */
  ttl?: number;
}

/**
 * A real opaque access token for `user`: a grant saved through the provider's Grant model and an access
 * token through its AccessToken model, both in the database via the adapter, exactly as the token
 * endpoint would store them. Revoking the grant (service or /o/revoke_token/) kills it.
 */
export async function issueAccessToken(srv: TestServer, opts: IssueOptions): Promise<string> {
  const { provider, resource } = srv.app.oauthServer;
  const clientId = opts.clientId ?? (await createOAuthClient(srv)).clientId;
  const client = await provider.Client.find(clientId);
  if (!client) throw new Error(`no such client: ${clientId}`);
  const scope = opts.scopes.join(' ');
  const grant = new provider.Grant({ accountId: opts.user.id, clientId });
  if (scope) grant.addResourceScope(resource, scope);
  const grantId = await grant.save();
  const token = new provider.AccessToken({ accountId: opts.user.id, client, grantId, gty: 'authorization_code', scope: scope || undefined } as never);
  token.resourceServer = new provider.ResourceServer(resource, {
    scope: ALL_SCOPES.join(' '),
    accessTokenFormat: 'opaque',
    accessTokenTTL: opts.ttl ?? srv.config.oauth.accessTokenTtl,
    audience: resource,
  } as never);
  return token.save();
}

/** PKCE pair (S256). */
export function pkcePair(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

/** HTTP Basic credentials for client_secret_basic (form-encoded per RFC 6749 §2.3.1). */
export function basicAuth(clientId: string, secret: string): string {
  return `Basic ${Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(secret)}`).toString('base64')}`;
}

/** POST a form to the token endpoint (or another /o/ endpoint) as a client would. */
export async function postForm(srv: TestServer, path: string, form: Record<string, string>, headers: Record<string, string> = {}): Promise<{ status: number; body: any; headers: Headers }> {
  const res = await fetch(new URL(path, srv.url), {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams(form).toString(),
  });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON
  }
  return { status: res.status, body, headers: res.headers };
}

/** A client-credentials access token for a confidential client (acts as the client's owner). */
export async function clientCredentialsToken(srv: TestServer, c: CreatedClient, scopes: readonly string[]): Promise<string> {
  const res = await postForm(srv, '/o/token/', { grant_type: 'client_credentials', scope: scopes.join(' ') }, { authorization: basicAuth(c.clientId, c.clientSecret!) });
  if (res.status !== 200) throw new Error(`client_credentials failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.access_token as string;
}

export interface AuthorizeOptions {
  client: CreatedClient;
  /** A signed-in browser (session cookie). */
  browser: HttpClient;
  scopes?: readonly string[];
  redirectUri?: string;
  state?: string;
  /** Approve the consent page when it appears (default true). */
  approve?: boolean;
  pkce?: { verifier: string; challenge: string } | null;
}

/**
 * Run GET /o/authorize/ in a signed-in browser through sign-in bridge and consent, and return the final
 * redirect to the client (the code is in its query). Uses only HTTP.
 */
export async function authorizeInBrowser(srv: TestServer, o: AuthorizeOptions): Promise<{ location: URL; code: string | null; verifier: string | undefined }> {
  const pkce = o.pkce === undefined ? pkcePair() : o.pkce;
  const q = new URLSearchParams({
    client_id: o.client.clientId,
    response_type: 'code',
    redirect_uri: o.redirectUri ?? o.client.client.redirectUris[0]!,
    state: o.state ?? randomBytes(8).toString('hex'),
  });
  if (o.scopes) q.set('scope', o.scopes.join(' '));
  if (pkce) {
    q.set('code_challenge', pkce.challenge);
    q.set('code_challenge_method', 'S256');
  }
  const location = await driveAuthorization(srv, o.browser, new URL(`/o/authorize/?${q}`, srv.url), { approve: o.approve ?? true });
  return { location, code: location.searchParams.get('code'), verifier: pkce?.verifier };
}

/**
 * Follow an authorization (or device verification) URL in a browser: through the sign-in bridge and the
 * consent page (answered with `approve`), until a redirect leaves this server (returned) or a page that
 * is not a redirect is reached (returned as its own URL with `status` and `text`).
 */
export async function driveAuthorization(
  srv: TestServer,
  browser: HttpClient,
  start: URL,
  opts: { approve?: boolean } = {},
): Promise<URL & { status?: number; text?: string }> {
  const origin = new URL(srv.url).origin;
  let url = start;
  for (let hops = 0; hops < 15; hops++) {
    if (url.origin !== origin) return url;
    const res = await browser.get(url.pathname + url.search);
    if (res.status === 200 && /name="decision"/.test(res.text)) {
      const csrf = /name="_csrf" value="([^"]+)"/.exec(res.text)![1]!;
      const action = /<form method="post" action="([^"]+)"/.exec(res.text)![1]!;
      const post = await browser.request('POST', action.replace(/&amp;/g, '&'), { form: { _csrf: csrf, decision: opts.approve === false ? 'deny' : 'allow' } });
      url = new URL(post.headers.get('location')!, url);
      continue;
    }
    const loc = res.headers.get('location');
    if (res.status < 300 || res.status >= 400 || !loc) return Object.assign(url, { status: res.status, text: res.text });
    url = new URL(loc, url);
  }
  throw new Error('too many redirects');
}
