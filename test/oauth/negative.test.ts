/**
 * The negative checklist of the authorization server (auth reference §5.3): authorization endpoint,
 * token endpoint, refresh, revocation/introspection, resource server, and the concurrency cases. Every
 * case asserts the exact status and `error` code.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { digest } from '../../src/domain/oauth/oauth.service.ts';
import { authorizeInBrowser, basicAuth, createOAuthClient, issueAccessToken, pkcePair, postForm, type CreatedClient } from '../support/oauth.ts';
import type { HttpClient } from '../support/http.ts';
import { startTestServer, type TestServer } from '../support/server.ts';

describe('authorization server negative checklist', () => {
  let srv: TestServer;
  let browser: HttpClient;
  before(async () => {
    // Many deliberate failures come from one IP here; the failure limit has its own test below.
    srv = await startTestServer({ env: { OAUTH_TOKEN_MAX_FAILURES: '100000', OAUTH_TOKEN_RATE_LIMIT: '100000' } });
    browser = (await srv.signedIn()).client;
  });
  after(() => srv.close());

  const REDIRECT = 'https://app.example/cb';
  const authorizeUrl = (params: Record<string, string>) => `/o/authorize/?${new URLSearchParams(params)}`;
  const basic = (c: CreatedClient) => ({ authorization: basicAuth(c.clientId, c.clientSecret!) });

  /** A code for `c` (PKCE by default) and what is needed to redeem it. */
  async function code(c: CreatedClient, opts: { scopes?: string[]; pkce?: boolean } = {}) {
    const pkce = opts.pkce === false ? null : pkcePair();
    const scopes = opts.scopes ?? ['read:messages'];
    const r = await authorizeInBrowser(srv, { client: c, browser, ...(scopes.length ? { scopes } : {}), pkce });
    assert.ok(r.code, `no code: ${r.location}`);
    return { code: r.code, verifier: pkce?.verifier };
  }

  async function tokensFor(c: CreatedClient, scopes = ['read:messages']) {
    const { code: value, verifier } = await code(c, { scopes });
    const form: Record<string, string> = { grant_type: 'authorization_code', code: value, redirect_uri: c.client.redirectUris[0]! };
    if (verifier) form.code_verifier = verifier;
    if (c.clientSecret === null) form.client_id = c.clientId;
    const res = await postForm(srv, '/o/token/', form, c.clientSecret ? basic(c) : {});
    assert.equal(res.status, 200, JSON.stringify(res.body));
    return res.body as { access_token: string; refresh_token: string; scope: string };
  }

  const active = async (c: CreatedClient, token: string) =>
    (await postForm(srv, '/o/introspect/', c.clientSecret ? { token } : { token, client_id: c.clientId }, c.clientSecret ? basic(c) : {})).body.active as boolean;

  describe('authorization endpoint', () => {
    let c: CreatedClient;
    let strict: CreatedClient;
    let pub: CreatedClient;
    before(async () => {
      c = await createOAuthClient(srv, { redirect_uris: [REDIRECT], scopes: ['read:messages', 'send:messages'] });
      strict = await createOAuthClient(srv, { redirect_uris: [REDIRECT], scopes: ['read:messages'], require_pkce: true });
      pub = await createOAuthClient(srv, { type: 'public', redirect_uris: [REDIRECT], scopes: ['read:messages'] });
    });

    it('A1: an unregistered redirect_uri (any variant) gets a 400 page and no redirect', async () => {
      for (const uri of [`${REDIRECT}/`, 'https://APP.example/cb', 'https://app.example/CB', `${REDIRECT}?x=1`, 'http://app.example/cb', 'https://evil.example/cb']) {
        const res = await browser.get(authorizeUrl({ client_id: c.clientId, response_type: 'code', redirect_uri: uri, state: 's', scope: 'read:messages' }));
        assert.equal(res.status, 400, uri);
        assert.equal(res.headers.get('location'), null, uri);
        assert.match(res.text, /redirect_uri/);
      }
    });

    it('A2: an unknown or missing client_id gets a 400 page and no redirect', async () => {
      for (const q of [{ client_id: 'no-such-client' }, {}] as Array<Record<string, string>>) {
        const res = await browser.get(authorizeUrl({ ...q, response_type: 'code', redirect_uri: REDIRECT, state: 's' }));
        assert.equal(res.status, 400);
        assert.equal(res.headers.get('location'), null);
      }
    });

    const redirectError = async (params: Record<string, string>) => {
      const res = await browser.get(authorizeUrl({ redirect_uri: REDIRECT, state: 'xyz', response_type: 'code', ...params }));
      assert.equal(res.status, 303);
      const loc = new URL(res.headers.get('location')!);
      assert.equal(loc.origin + loc.pathname, REDIRECT);
      const p = loc.hash ? new URLSearchParams(loc.hash.slice(1)) : loc.searchParams;
      assert.equal(p.get('state'), 'xyz');
      assert.equal(p.get('iss'), srv.url);
      assert.equal(p.get('code'), null);
      return { error: p.get('error'), fragment: !!loc.hash };
    };

    it('A3: PKCE is required for public clients and for confidential clients that ask for it', async () => {
      assert.equal((await redirectError({ client_id: pub.clientId, scope: 'read:messages' })).error, 'invalid_request');
      assert.equal((await redirectError({ client_id: strict.clientId, scope: 'read:messages' })).error, 'invalid_request');
    });

    it('A4/A5: plain, missing-method and malformed challenges are refused', async () => {
      const { challenge } = pkcePair();
      assert.equal((await redirectError({ client_id: pub.clientId, code_challenge: challenge, code_challenge_method: 'plain' })).error, 'invalid_request');
      assert.equal((await redirectError({ client_id: pub.clientId, code_challenge: challenge })).error, 'invalid_request');
      assert.equal((await redirectError({ client_id: pub.clientId, code_challenge: 'short', code_challenge_method: 'S256' })).error, 'invalid_request');
    });

    it('A6: response_type=token is refused (in the fragment)', async () => {
      const r = await redirectError({ client_id: c.clientId, response_type: 'token' });
      assert.equal(r.error, 'unsupported_response_type');
      assert.equal(r.fragment, true);
    });

    it('A7: a scope outside the client allow-list is invalid_scope', async () => {
      assert.equal((await redirectError({ client_id: c.clientId, scope: 'read:messages smarthome' })).error, 'invalid_scope');
    });

    it('A8: denying consent returns access_denied with the state', async () => {
      const r = await authorizeInBrowser(srv, { client: c, browser: (await srv.signedIn()).client, scopes: ['send:messages'], approve: false, state: 'keep-me' });
      assert.equal(r.location.origin + r.location.pathname, REDIRECT);
      assert.equal(r.location.searchParams.get('error'), 'access_denied');
      assert.equal(r.location.searchParams.get('state'), 'keep-me');
      assert.equal(r.code, null);
    });

    it('A9: not signed in → the sign-in page with next = the same interaction', async () => {
      const anon = srv.client();
      const { challenge } = pkcePair();
      const first = await anon.get(authorizeUrl({ client_id: c.clientId, response_type: 'code', redirect_uri: REDIRECT, code_challenge: challenge, code_challenge_method: 'S256', scope: 'read:messages' }));
      assert.equal(first.status, 303);
      const interaction = first.headers.get('location')!;
      assert.match(interaction, /^\/o\/interaction\/[\w-]+$/);
      const bridge = await anon.get(interaction);
      assert.equal(bridge.status, 302);
      assert.equal(bridge.headers.get('location'), `/auth/login?next=${encodeURIComponent(interaction)}`);
    });

    it('A10: POST /o/authorize/ is not served', async () => {
      const res = await browser.request('POST', '/o/authorize/', { form: { client_id: c.clientId, response_type: 'code', redirect_uri: REDIRECT } });
      assert.ok(res.status === 404 || res.status === 405, String(res.status));
      assert.equal(res.headers.get('location'), null);
    });

    it('A11: the consent page and the provider pages cannot be framed, and are not cached', async () => {
      const { challenge } = pkcePair();
      const fresh = (await srv.signedIn()).client;
      const first = await fresh.get(authorizeUrl({ client_id: c.clientId, response_type: 'code', redirect_uri: REDIRECT, code_challenge: challenge, code_challenge_method: 'S256', scope: 'read:messages' }));
      const login = await fresh.get(first.headers.get('location')!);
      const resumed = await fresh.get(new URL(login.headers.get('location')!, srv.url).pathname);
      const consent = await fresh.get(resumed.headers.get('location')!);
      assert.equal(consent.status, 200);
      assert.match(consent.text, /Read your conversations and messages/);
      assert.equal(consent.headers.get('x-frame-options'), 'DENY');
      assert.match(consent.headers.get('content-security-policy') ?? '', /frame-ancestors 'none'/);
      assert.equal(consent.headers.get('cache-control'), 'no-store');
      const errorPage = await browser.get(authorizeUrl({ client_id: 'nope' }));
      assert.equal(errorPage.headers.get('x-frame-options'), 'DENY');
    });

    it('the consent form needs its CSRF token', async () => {
      const { challenge } = pkcePair();
      const fresh = (await srv.signedIn()).client;
      const first = await fresh.get(authorizeUrl({ client_id: c.clientId, response_type: 'code', redirect_uri: REDIRECT, code_challenge: challenge, code_challenge_method: 'S256', scope: 'read:messages' }));
      const login = await fresh.get(first.headers.get('location')!);
      const resumed = await fresh.get(new URL(login.headers.get('location')!, srv.url).pathname);
      const consentPath = resumed.headers.get('location')!;
      await fresh.get(consentPath);
      const forged = await fresh.request('POST', `${consentPath}/confirm`, { form: { decision: 'allow', _csrf: 'forged' } });
      assert.equal(forged.status, 403);
      assert.equal(forged.body.error.code, 'csrf_token');
      const bad = await fresh.request('POST', `${consentPath}/confirm`, { form: { decision: 'maybe' } });
      assert.equal(bad.status, 400);
      assert.equal(bad.body.error.code, 'validation_failed');
      const unknown = await fresh.get('/o/interaction/not-a-real-uid');
      assert.equal(unknown.status, 400);
    });

    it('A12: the sign-in page ignores absolute and protocol-relative next values', async () => {
      const user = await srv.createUser();
      for (const next of ['https://evil.example/x', '//evil.example/x', '/\\evil.example']) {
        const anon = srv.client();
        const pageRes = await anon.get(`/auth/login?next=${encodeURIComponent(next)}`);
        const csrf = /name="_csrf" value="([^"]+)"/.exec(pageRes.text)![1]!;
        const res = await anon.request('POST', '/auth/login', { form: { _csrf: csrf, next, email: user.email, password: 'correct horse battery staple' } });
        assert.equal(res.status, 302);
        assert.equal(res.headers.get('location'), '/home/');
      }
    });

    it('a request naming no scope gets only the client default (closed by default)', async () => {
      const none = await createOAuthClient(srv, { redirect_uris: [REDIRECT], scopes: ['read:messages', 'send:messages'] });
      const denied = await authorizeInBrowser(srv, { client: none, browser, state: 'st' });
      assert.equal(denied.location.searchParams.get('error'), 'access_denied', 'nothing to authorize');
      assert.equal(denied.code, null);
      const withDefault = await createOAuthClient(srv, { redirect_uris: [REDIRECT], scopes: ['read:messages', 'send:messages'], default_scopes: ['read:messages'] });
      const t = await tokensFor(withDefault, []);
      assert.equal(t.scope, 'read:messages');
      assert.deepEqual((await srv.app.bearer.verify(t.access_token))?.scopes, ['read:messages']);
    });
  });

  describe('token endpoint', () => {
    let c: CreatedClient;
    let other: CreatedClient;
    let loose: CreatedClient;
    before(async () => {
      c = await createOAuthClient(srv, { redirect_uris: [REDIRECT] });
      other = await createOAuthClient(srv, { redirect_uris: [REDIRECT] });
      loose = await createOAuthClient(srv, { redirect_uris: [REDIRECT], require_pkce: false });
    });
    const exchange = (form: Record<string, string>, headers: Record<string, string> = basic(c)) =>
      postForm(srv, '/o/token/', { grant_type: 'authorization_code', redirect_uri: REDIRECT, ...form }, headers);

    it('T1: a wrong client secret is 401 invalid_client', async () => {
      const { code: value, verifier } = await code(c);
      const res = await exchange({ code: value, code_verifier: verifier! }, { authorization: basicAuth(c.clientId, 'wrong') });
      assert.equal(res.status, 401);
      assert.equal(res.body.error, 'invalid_client');
    });

    it('T2: no client authentication is 400 invalid_request', async () => {
      const res = await exchange({ code: 'x', code_verifier: 'y' }, {});
      assert.equal(res.status, 400);
      assert.equal(res.body.error, 'invalid_request');
    });

    it('T3: two authentication methods at once are 400 invalid_request', async () => {
      const res = await exchange({ code: 'x', client_id: c.clientId, client_secret: c.clientSecret! });
      assert.equal(res.status, 400);
      assert.equal(res.body.error, 'invalid_request');
    });

    it('T4: a wrong or missing code_verifier is 400 invalid_grant', async () => {
      let x = await code(c);
      let res = await exchange({ code: x.code, code_verifier: pkcePair().verifier });
      assert.equal(res.status, 400);
      assert.equal(res.body.error, 'invalid_grant');
      x = await code(c);
      res = await exchange({ code: x.code });
      assert.equal(res.status, 400);
      assert.equal(res.body.error, 'invalid_grant');
    });

    it('T5: a code_verifier for a code issued without a challenge is 400 invalid_grant', async () => {
      const x = await code(loose, { pkce: false });
      const res = await exchange({ code: x.code, code_verifier: pkcePair().verifier }, basic(loose));
      assert.equal(res.status, 400);
      assert.equal(res.body.error, 'invalid_grant');
    });

    it('T6: a redirect_uri different from the authorization request is 400 invalid_grant', async () => {
      const multi = await createOAuthClient(srv, { redirect_uris: [REDIRECT, 'https://app.example/other'] });
      const x = await code(multi);
      const res = await exchange({ code: x.code, code_verifier: x.verifier!, redirect_uri: 'https://app.example/other' }, basic(multi));
      assert.equal(res.status, 400);
      assert.equal(res.body.error, 'invalid_grant');
    });

    it('T7: a reused code is 400 invalid_grant and the first exchange’s tokens die', async () => {
      const x = await code(c);
      const first = await exchange({ code: x.code, code_verifier: x.verifier! });
      assert.equal(first.status, 200);
      const again = await exchange({ code: x.code, code_verifier: x.verifier! });
      assert.equal(again.status, 400);
      assert.equal(again.body.error, 'invalid_grant');
      assert.equal(await active(c, first.body.access_token), false);
      assert.equal(await active(c, first.body.refresh_token), false);
      assert.equal((await srv.client().get('/api/me', { bearer: first.body.access_token })).status, 401);
    });

    it('T8: client B cannot redeem client A’s code', async () => {
      const x = await code(c);
      const res = await exchange({ code: x.code, code_verifier: x.verifier! }, basic(other));
      assert.equal(res.status, 400);
      assert.equal(res.body.error, 'invalid_grant');
    });

    it('T9: an expired code is 400 invalid_grant', async () => {
      const x = await code(c);
      // Age the stored code past its lifetime (the provider checks both the row and the payload).
      await srv.app.db.db
        .updateTable('oauth_models')
        .set({ expires_at: sql`now() - interval '1 second'`, payload: sql`jsonb_set(payload, '{exp}', to_jsonb(extract(epoch from now())::int - 1))` as never })
        .where('model', '=', 'AuthorizationCode')
        .where('id', '=', digest(x.code))
        .execute();
      const res = await exchange({ code: x.code, code_verifier: x.verifier! });
      assert.equal(res.status, 400);
      assert.equal(res.body.error, 'invalid_grant');
    });

    it('T10: the same code redeemed 8 times in parallel yields exactly one token response', async () => {
      const x = await code(c);
      const results = await Promise.all(Array.from({ length: 8 }, () => exchange({ code: x.code, code_verifier: x.verifier! })));
      const ok = results.filter((r) => r.status === 200);
      assert.equal(ok.length, 1, results.map((r) => `${r.status} ${r.body.error ?? ''}`).join(', '));
      for (const r of results.filter((r) => r.status !== 200)) {
        assert.equal(r.status, 400);
        assert.equal(r.body.error, 'invalid_grant');
      }
      // A code presented more than once revokes what it issued (RFC 6749 §4.1.2): losers that read it as
      // consumed do so at once, losers of the atomic update do not; a later replay always does.
      const replay = await exchange({ code: x.code, code_verifier: x.verifier! });
      assert.equal(replay.status, 400);
      assert.equal(replay.body.error, 'invalid_grant');
      assert.equal((await srv.client().get('/api/me', { bearer: ok[0]!.body.access_token })).status, 401);
    });

    it('T11: grant_type=password and unknown grants are 400 unsupported_grant_type', async () => {
      for (const grant_type of ['password', 'urn:example:nope']) {
        const res = await postForm(srv, '/o/token/', { grant_type, username: 'a', password: 'b' }, basic(c));
        assert.equal(res.status, 400);
        assert.equal(res.body.error, 'unsupported_grant_type');
      }
    });

    it('T12: a grant type the client is not registered for is refused', async () => {
      const res = await postForm(srv, '/o/token/', { grant_type: 'client_credentials', scope: 'read:messages' }, basic(c));
      assert.equal(res.status, 400);
      assert.equal(res.body.error, 'unauthorized_client');
    });

    it('T13: GET and JSON bodies get no tokens', async () => {
      const get = await fetch(new URL('/o/token/?grant_type=client_credentials', srv.url), { headers: basic(c) });
      assert.ok(get.status >= 400 && get.status < 500, String(get.status));
      const json = await fetch(new URL('/o/token/', srv.url), { method: 'POST', headers: { ...basic(c), 'content-type': 'application/json' }, body: JSON.stringify({ grant_type: 'client_credentials' }) });
      assert.equal(json.status, 400);
      assert.equal(((await json.json()) as { error: string }).error, 'invalid_request');
    });

    it('T14: token responses are not cached; paths work without the trailing slash', async () => {
      const x = await code(c);
      const res = await postForm(srv, '/o/token', { grant_type: 'authorization_code', redirect_uri: REDIRECT, code: x.code, code_verifier: x.verifier! }, basic(c));
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('cache-control'), 'no-store');
    });
  });

  describe('refresh', () => {
    let pub: CreatedClient;
    let conf: CreatedClient;
    before(async () => {
      pub = await createOAuthClient(srv, { type: 'public', redirect_uris: [REDIRECT] });
      conf = await createOAuthClient(srv, { redirect_uris: [REDIRECT], token_endpoint_auth_method: 'client_secret_post' });
    });
    const refreshPublic = (rt: string, extra: Record<string, string> = {}) => postForm(srv, '/o/token/', { grant_type: 'refresh_token', refresh_token: rt, client_id: pub.clientId, ...extra });
    const refreshConf = (rt: string, extra: Record<string, string> = {}) =>
      postForm(srv, '/o/token/', { grant_type: 'refresh_token', refresh_token: rt, client_id: conf.clientId, client_secret: conf.clientSecret!, ...extra });

    /** Make a stored refresh token look `ageDays` old out of a 7-day life (confidential clients rotate past 70 %). */
    const ageRefreshToken = (rt: string, ageSeconds: number) =>
      srv.app.db.db
        .updateTable('oauth_models')
        .set({ payload: sql`payload || jsonb_build_object('iat', extract(epoch from now())::int - ${ageSeconds}::int, 'iiat', extract(epoch from now())::int - ${ageSeconds}::int, 'exp', extract(epoch from now())::int - ${ageSeconds}::int + 604800)` as never })
        .where('model', '=', 'RefreshToken')
        .where('id', '=', digest(rt))
        .execute();

    it('R2: replaying a rotated-out public refresh token revokes the whole grant', async () => {
      const t = await tokensFor(pub);
      const r1 = await refreshPublic(t.refresh_token);
      assert.equal(r1.status, 200);
      assert.notEqual(r1.body.refresh_token, t.refresh_token);
      const replay = await refreshPublic(t.refresh_token);
      assert.equal(replay.status, 400);
      assert.equal(replay.body.error, 'invalid_grant');
      const next = await refreshPublic(r1.body.refresh_token);
      assert.equal(next.status, 400);
      assert.equal(next.body.error, 'invalid_grant');
      assert.equal((await srv.client().get('/api/me', { bearer: r1.body.access_token })).status, 401);
    });

    it('R3: concurrent refreshes by a confidential client all succeed and the grant stays intact', async () => {
      const t = await tokensFor(conf);
      const results = await Promise.all(Array.from({ length: 5 }, () => refreshConf(t.refresh_token)));
      for (const r of results) assert.equal(r.status, 200, JSON.stringify(r.body));
      assert.equal(new Set(results.map((r) => r.body.access_token)).size, 5, 'a new access token each time');
      for (const r of results) assert.equal(r.body.refresh_token, t.refresh_token);
      for (const r of results) assert.equal((await srv.client().get('/api/me', { bearer: r.body.access_token })).status, 200);
    });

    it('R3: around a rotation, concurrent and retried refreshes get the single successor; the old one dies once it is used', async () => {
      const t = await tokensFor(conf);
      await ageRefreshToken(t.refresh_token, 6 * 24 * 3600);
      const results = await Promise.all(Array.from({ length: 5 }, () => refreshConf(t.refresh_token)));
      for (const r of results) assert.equal(r.status, 200, JSON.stringify(r.body));
      const successors = new Set(results.map((r) => r.body.refresh_token));
      assert.equal(successors.size, 1, 'single successor');
      const successor = [...successors][0] as string;
      assert.notEqual(successor, t.refresh_token, 'rotated near expiry');
      // A retry with the old token (lost response) still works within the window.
      const retry = await refreshConf(t.refresh_token);
      assert.equal(retry.status, 200);
      assert.equal(retry.body.refresh_token, successor);
      // Once the client uses the successor, the old token is a replay.
      const used = await refreshConf(successor);
      assert.equal(used.status, 200);
      const replay = await refreshConf(t.refresh_token);
      assert.equal(replay.status, 400);
      assert.equal(replay.body.error, 'invalid_grant');
    });

    it('R4: client B cannot use client A’s refresh token', async () => {
      const t = await tokensFor(conf);
      const res = await postForm(srv, '/o/token/', { grant_type: 'refresh_token', refresh_token: t.refresh_token, client_id: pub.clientId });
      assert.equal(res.status, 400);
      assert.equal(res.body.error, 'invalid_grant');
      assert.equal((await refreshConf(t.refresh_token)).status, 200, 'the owner still can');
    });

    it('R5: a refresh token unused for more than its lifetime is 400 {"error":"invalid_grant"}', async () => {
      const t = await tokensFor(conf);
      await ageRefreshToken(t.refresh_token, 8 * 24 * 3600);
      const res = await refreshConf(t.refresh_token);
      assert.equal(res.status, 400);
      assert.equal(res.body.error, 'invalid_grant');
    });

    it('R6: asking for a wider scope than granted is 400 invalid_scope', async () => {
      const t = await tokensFor(conf, ['read:messages']);
      const res = await refreshConf(t.refresh_token, { scope: 'read:messages send:messages' });
      assert.equal(res.status, 400);
      assert.equal(res.body.error, 'invalid_scope');
      const narrower = await refreshConf(t.refresh_token, { scope: 'read:messages' });
      assert.equal(narrower.status, 200);
    });

    it('R7: past the absolute lifetime a refresh token is no longer rotated or extended', async () => {
      const t = await tokensFor(pub);
      // The family started more than a year ago (iiat); the token itself is still within its period.
      await srv.app.db.db
        .updateTable('oauth_models')
        .set({ payload: sql`payload || jsonb_build_object('iiat', extract(epoch from now())::int - ${366 * 24 * 3600}::int)` as never })
        .where('model', '=', 'RefreshToken')
        .where('id', '=', digest(t.refresh_token))
        .execute();
      const res = await refreshPublic(t.refresh_token);
      assert.equal(res.status, 200);
      assert.equal(res.body.refresh_token, t.refresh_token, 'not rotated any more');
    });

    it('R8: after the user revokes the authorization, refresh is 400 invalid_grant', async () => {
      const t = await tokensFor(conf);
      const grants = await srv.app.services.oauth.listClientGrants(conf.clientId);
      for (const g of grants) await srv.app.services.oauth.revokeGrant(g.grantId);
      const res = await refreshConf(t.refresh_token);
      assert.equal(res.status, 400);
      assert.equal(res.body.error, 'invalid_grant');
    });

    it('S5: a refresh token is not a bearer token, and an access token is not a refresh token', async () => {
      const t = await tokensFor(conf);
      const asBearer = await srv.client().get('/api/me', { bearer: t.refresh_token });
      assert.equal(asBearer.status, 401);
      assert.equal(asBearer.body.error.code, 'invalid_token');
      const asRefresh = await refreshConf(t.access_token);
      assert.equal(asRefresh.status, 400);
      assert.equal(asRefresh.body.error, 'invalid_grant');
    });
  });

  describe('revocation, introspection and the resource server', () => {
    let c: CreatedClient;
    let other: CreatedClient;
    let pub: CreatedClient;
    before(async () => {
      c = await createOAuthClient(srv, { redirect_uris: [REDIRECT] });
      other = await createOAuthClient(srv, { redirect_uris: [REDIRECT] });
      pub = await createOAuthClient(srv, { type: 'public', redirect_uris: [REDIRECT] });
    });

    it('V1: revocation without client authentication is 400 invalid_request', async () => {
      const res = await postForm(srv, '/o/revoke_token/', { token: 'whatever' });
      assert.equal(res.status, 400);
      assert.equal(res.body.error, 'invalid_request');
    });

    it('V2: revoking an unknown token is 200 with an empty body', async () => {
      const res = await postForm(srv, '/o/revoke_token/', { token: 'garbage' }, basic(c));
      assert.equal(res.status, 200);
      assert.equal(res.body, '');
    });

    it('V3: revoking a refresh token ends it and the grant’s access tokens', async () => {
      const t = await tokensFor(c);
      const res = await postForm(srv, '/o/revoke_token/', { token: t.refresh_token, token_type_hint: 'refresh_token' }, basic(c));
      assert.equal(res.status, 200);
      assert.equal(await active(c, t.refresh_token), false);
      assert.equal(await active(c, t.access_token), false);
      assert.equal((await srv.client().get('/api/me', { bearer: t.access_token })).status, 401);
    });

    it('revocations by the provider itself are announced (oauth.grant_revoked)', async () => {
      const seen: Array<{ grantId: string; userId: string; clientId: string }> = [];
      const off = srv.app.events.on('oauth.grant_revoked', (e) => void seen.push(e));
      try {
        // Revoking a refresh token at the endpoint.
        const t1 = await tokensFor(c);
        const g1 = (await srv.app.bearer.verify(t1.access_token))!;
        assert.equal((await postForm(srv, '/o/revoke_token/', { token: t1.refresh_token }, basic(c))).status, 200);
        assert.deepEqual(seen.find((e) => e.grantId === g1.grantId), { grantId: g1.grantId, userId: g1.userId, clientId: c.clientId });
        // Reuse detection of a public client's refresh token.
        const t2 = await tokensFor(pub);
        const g2 = (await srv.app.bearer.verify(t2.access_token))!;
        assert.equal((await postForm(srv, '/o/token/', { grant_type: 'refresh_token', refresh_token: t2.refresh_token, client_id: pub.clientId })).status, 200);
        assert.equal((await postForm(srv, '/o/token/', { grant_type: 'refresh_token', refresh_token: t2.refresh_token, client_id: pub.clientId })).status, 400);
        assert.ok(seen.some((e) => e.grantId === g2.grantId && e.clientId === pub.clientId));
      } finally {
        off();
      }
    });

    it('V4: a confidential client cannot revoke another client’s token (400 invalid_request)', async () => {
      const t = await tokensFor(c);
      const res = await postForm(srv, '/o/revoke_token/', { token: t.access_token }, basic(other));
      assert.equal(res.status, 400);
      assert.equal(res.body.error, 'invalid_request');
      assert.equal(await active(c, t.access_token), true);
      // A public client asking for it is a silent no-op.
      const quiet = await postForm(srv, '/o/revoke_token/', { token: t.access_token, client_id: pub.clientId });
      assert.equal(quiet.status, 200);
      assert.equal(await active(c, t.access_token), true);
    });

    it('V5: introspection about another client’s token answers active:false', async () => {
      const t = await tokensFor(c);
      const res = await postForm(srv, '/o/introspect/', { token: t.access_token }, basic(other));
      assert.equal(res.status, 200);
      assert.deepEqual(res.body, { active: false });
      const noAuth = await postForm(srv, '/o/introspect/', { token: t.access_token });
      assert.equal(noAuth.status, 400);
      assert.equal(noAuth.body.error, 'invalid_request');
    });

    it('S3: a token without the route’s scope is 403 insufficient_scope', async () => {
      const user = await srv.createUser();
      const token = await issueAccessToken(srv, { user, scopes: ['read:messages'] });
      const res = await srv.client().get('/api/devices', { bearer: token });
      assert.equal(res.status, 403);
      assert.equal(res.body.error.code, 'insufficient_scope');
      assert.match(res.headers.get('www-authenticate') ?? '', /error="insufficient_scope"/);
      const ok = await srv.client().get('/api/devices', { bearer: await issueAccessToken(srv, { user, scopes: ['devices'] }) });
      assert.equal(ok.status, 200);
    });
  });
});

describe('token endpoint rate limit (L1)', () => {
  let srv: TestServer;
  before(async () => {
    srv = await startTestServer({ env: { OAUTH_TOKEN_MAX_FAILURES: '5' } });
  });
  after(() => srv.close());

  it('the 6th failed token request from an IP is 429 with Retry-After, even with good credentials', async () => {
    const c = await createOAuthClient(srv, { grant_types: ['client_credentials'], redirect_uris: [], owner_user_id: (await srv.createUser()).id });
    for (let i = 0; i < 5; i++) {
      const res = await postForm(srv, '/o/token/', { grant_type: 'client_credentials' }, { authorization: basicAuth(c.clientId, 'wrong') });
      assert.equal(res.status, 401);
    }
    const limited = await postForm(srv, '/o/token/', { grant_type: 'client_credentials', scope: 'read:messages' }, { authorization: basicAuth(c.clientId, c.clientSecret!) });
    assert.equal(limited.status, 429);
    assert.equal(limited.body.error, 'rate_limited');
    assert.ok(Number(limited.headers.get('retry-after')) > 0);
    const revoke = await postForm(srv, '/o/revoke_token/', { token: 'x' }, { authorization: basicAuth(c.clientId, c.clientSecret!) });
    assert.equal(revoke.status, 429);
  });

  it('device polling and invalid grants do not count as failures', async () => {
    const other = await startTestServer({ env: { OAUTH_TOKEN_MAX_FAILURES: '3' } });
    try {
      const c = await createOAuthClient(other, { type: 'public', grant_types: ['urn:ietf:params:oauth:grant-type:device_code', 'refresh_token'], redirect_uris: [], scopes: ['devices'] });
      const da = await postForm(other, '/o/device_authorization/', { client_id: c.clientId, scope: 'devices' });
      assert.equal(da.status, 200);
      for (let i = 0; i < 6; i++) {
        const poll = await postForm(other, '/o/token/', { grant_type: 'urn:ietf:params:oauth:grant-type:device_code', device_code: da.body.device_code, client_id: c.clientId });
        assert.equal(poll.status, 400);
        assert.ok(['authorization_pending', 'slow_down'].includes(poll.body.error), poll.body.error);
        const bad = await postForm(other, '/o/token/', { grant_type: 'refresh_token', refresh_token: 'nope', client_id: c.clientId });
        assert.equal(bad.status, 400);
        assert.equal(bad.body.error, 'invalid_grant');
      }
    } finally {
      await other.close();
    }
  });
});
