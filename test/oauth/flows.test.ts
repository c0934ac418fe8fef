/**
 * The authorization server's flows end to end with a real OAuth client library (oauth4webapi) over HTTP:
 * code + PKCE, refresh rotation, revocation, introspection, client credentials, device authorization.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as oauth from 'oauth4webapi';
import { createOAuthClient, driveAuthorization, type CreatedClient } from '../support/oauth.ts';
import { startTestServer, type TestServer } from '../support/server.ts';

const insecure = { [oauth.allowInsecureRequests]: true } as const;

describe('OAuth flows with a real client library', () => {
  let srv: TestServer;
  let as: oauth.AuthorizationServer;
  before(async () => {
    srv = await startTestServer();
    const issuer = new URL(srv.url);
    as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, { algorithm: 'oauth2', ...insecure }));
  });
  after(() => srv.close());

  const auth = (c: CreatedClient) =>
    c.client.tokenEndpointAuthMethod === 'none'
      ? oauth.None()
      : c.client.tokenEndpointAuthMethod === 'client_secret_post'
        ? oauth.ClientSecretPost(c.clientSecret!)
        : oauth.ClientSecretBasic(c.clientSecret!);

  /** Authorization code + PKCE through the sign-in page and consent, as a browser would. */
  async function codeFlow(c: CreatedClient, scope: string, opts: { signedIn?: boolean } = {}) {
    const client: oauth.Client = { client_id: c.clientId };
    const verifier = oauth.generateRandomCodeVerifier();
    const state = oauth.generateRandomState();
    const url = new URL(as.authorization_endpoint!);
    url.search = new URLSearchParams({
      client_id: c.clientId,
      redirect_uri: c.client.redirectUris[0]!,
      response_type: 'code',
      scope,
      state,
      code_challenge: await oauth.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
    }).toString();
    const user = await srv.createUser();
    const browser = srv.client();
    let start = url;
    if (opts.signedIn === false) {
      // Not signed in: the bridge sends the browser to the existing sign-in page with next=<interaction>.
      const first = await driveAuthorization(srv, browser, url);
      assert.equal(first.pathname, '/auth/login');
      const next = first.searchParams.get('next')!;
      assert.match(next, /^\/o\/interaction\/[\w-]+$/);
      const pageRes = await browser.get(first.pathname + first.search);
      const csrf = /name="_csrf" value="([^"]+)"/.exec(pageRes.text)![1]!;
      const login = await browser.request('POST', '/auth/login', { form: { _csrf: csrf, next, email: user.email, password: 'correct horse battery staple' } });
      assert.equal(login.status, 302);
      assert.equal(login.headers.get('location'), next);
      start = new URL(next, srv.url);
    } else {
      await browser.post('/auth/login', { email: user.email, password: 'correct horse battery staple' });
    }
    const back = await driveAuthorization(srv, browser, start);
    const params = oauth.validateAuthResponse(as, client, back, state);
    const response = await oauth.authorizationCodeGrantRequest(as, client, auth(c), params, c.client.redirectUris[0]!, verifier, insecure);
    assert.equal(response.headers.get('cache-control'), 'no-store');
    const tokens = await oauth.processAuthorizationCodeResponse(as, client, response);
    return { tokens, client, user, browser };
  }

  it('public client: code + PKCE (sign-in page first), /api/me, rotating refresh, revoke', async () => {
    const c = await createOAuthClient(srv, { type: 'public', name: 'Mobile app', redirect_uris: ['com.example.mobile:/oauth/callback'] });
    const { tokens, client, user } = await codeFlow(c, 'read:messages send:messages', { signedIn: false });
    assert.equal(tokens.token_type.toLowerCase(), 'bearer');
    assert.equal(tokens.expires_in, 3600);
    assert.equal(tokens.scope, 'read:messages send:messages');
    assert.ok(tokens.refresh_token);
    assert.equal(tokens.access_token.split('.').length, 1, 'opaque, not a JWT');
    const me = await srv.client().get('/api/me', { bearer: tokens.access_token });
    assert.equal(me.status, 200);
    assert.equal(me.body.user_id, user.id);

    // R1: every refresh of a public client rotates.
    const refreshed = await oauth.processRefreshTokenResponse(as, client, await oauth.refreshTokenGrantRequest(as, client, auth(c), tokens.refresh_token!, insecure));
    assert.notEqual(refreshed.refresh_token, tokens.refresh_token);
    assert.notEqual(refreshed.access_token, tokens.access_token);
    assert.equal((await srv.client().get('/api/me', { bearer: refreshed.access_token })).status, 200);

    // Revoking the refresh token ends the grant: the access token stops at once.
    await oauth.processRevocationResponse(await oauth.revocationRequest(as, client, auth(c), refreshed.refresh_token!, insecure));
    const after = await srv.client().get('/api/me', { bearer: refreshed.access_token });
    assert.equal(after.status, 401);
    assert.equal(after.body.error.code, 'invalid_token');
    await assert.rejects(
      oauth.processRefreshTokenResponse(as, client, await oauth.refreshTokenGrantRequest(as, client, auth(c), refreshed.refresh_token!, insecure)),
      (err: oauth.ResponseBodyError) => err.error === 'invalid_grant' && err.status === 400,
    );
  });

  it('confidential client: introspection of own tokens, refresh keeps the refresh token until near expiry', async () => {
    const c = await createOAuthClient(srv, { name: 'Web app', redirect_uris: ['https://app.example/callback'], token_endpoint_auth_method: 'client_secret_post' });
    const { tokens, client, user } = await codeFlow(c, 'read:messages');
    const info = await oauth.processIntrospectionResponse(as, client, await oauth.introspectionRequest(as, client, auth(c), tokens.access_token, insecure));
    assert.equal(info.active, true);
    assert.equal(info.client_id, c.clientId);
    assert.equal(info.sub, user.id);
    assert.equal(info.scope, 'read:messages');
    const refreshed = await oauth.processRefreshTokenResponse(as, client, await oauth.refreshTokenGrantRequest(as, client, auth(c), tokens.refresh_token!, insecure));
    assert.notEqual(refreshed.access_token, tokens.access_token, 'a new access token on every refresh');
    assert.equal(refreshed.refresh_token, tokens.refresh_token, 'confidential clients rotate only near expiry');
    // Revoking an access token ends every token of its grant (the consent itself is kept).
    await oauth.processRevocationResponse(await oauth.revocationRequest(as, client, auth(c), tokens.access_token, insecure));
    const gone = await oauth.processIntrospectionResponse(as, client, await oauth.introspectionRequest(as, client, auth(c), tokens.access_token, insecure));
    assert.equal(gone.active, false);
    assert.equal((await srv.client().get('/api/me', { bearer: refreshed.access_token })).status, 401);
    assert.equal((await srv.app.services.oauth.listUserGrants(user.id)).length, 1);
  });

  it('remembers consent: a second authorization of the same scopes skips the consent page', async () => {
    const c = await createOAuthClient(srv, { name: 'Remembered' });
    const { user, browser } = await codeFlow(c, 'read:messages');
    const url = new URL(`/o/authorize/?${new URLSearchParams({ client_id: c.clientId, redirect_uri: c.client.redirectUris[0]!, response_type: 'code', scope: 'read:messages', state: 's' })}`, srv.url);
    const seen: string[] = [];
    let u = url;
    for (let i = 0; i < 10 && u.origin === new URL(srv.url).origin; i++) {
      const r = await browser.get(u.pathname + u.search);
      seen.push(`${r.status} ${u.pathname}`);
      assert.doesNotMatch(r.text, /name="decision"/, 'no consent page the second time');
      u = new URL(r.headers.get('location')!, u);
    }
    assert.ok(u.searchParams.get('code'), seen.join(', '));
    assert.equal((await srv.app.services.oauth.listUserGrants(user.id)).length, 1);
  });

  it('client credentials: the token acts as the owner with the requested (or default) scopes', async () => {
    const owner = await srv.createUser();
    const c = await createOAuthClient(srv, { name: 'Hub', grant_types: ['client_credentials'], redirect_uris: [], owner_user_id: owner.id, scopes: ['devices', 'read:messages'], default_scopes: ['devices'] });
    const client: oauth.Client = { client_id: c.clientId };
    const explicit = await oauth.processClientCredentialsResponse(as, client, await oauth.clientCredentialsGrantRequest(as, client, auth(c), { scope: 'read:messages' }, insecure));
    assert.equal(explicit.scope, 'read:messages');
    assert.equal(explicit.refresh_token, undefined);
    const byDefault = await oauth.processClientCredentialsResponse(as, client, await oauth.clientCredentialsGrantRequest(as, client, auth(c), {}, insecure));
    assert.equal(byDefault.scope, 'devices');
    const devices = await srv.client().get('/api/devices', { bearer: byDefault.access_token });
    assert.equal(devices.status, 200);
    const me = await srv.client().get('/api/me', { bearer: explicit.access_token });
    assert.equal(me.body.user_id, owner.id);
    await assert.rejects(
      oauth.processClientCredentialsResponse(as, client, await oauth.clientCredentialsGrantRequest(as, client, auth(c), { scope: 'smarthome' }, insecure)),
      (err: oauth.ResponseBodyError) => err.error === 'invalid_scope',
    );
  });

  it('device authorization grant (RFC 8628) with the verification page on the session', async () => {
    const c = await createOAuthClient(srv, { type: 'public', name: 'Kitchen display', grant_types: ['urn:ietf:params:oauth:grant-type:device_code', 'refresh_token'], redirect_uris: [], scopes: ['devices', 'read:messages'] });
    const client: oauth.Client = { client_id: c.clientId };
    const da = await oauth.processDeviceAuthorizationResponse(as, client, await oauth.deviceAuthorizationRequest(as, client, auth(c), { scope: 'devices' }, insecure));
    assert.match(da.user_code, /^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$/);
    assert.equal(da.verification_uri, `${srv.url}/o/device/`);
    // Before approval the device is told to keep polling.
    await assert.rejects(
      oauth.processDeviceCodeResponse(as, client, await oauth.deviceCodeGrantRequest(as, client, auth(c), da.device_code, insecure)),
      (err: oauth.ResponseBodyError) => err.error === 'authorization_pending',
    );
    // The user opens the verification page in a signed-in browser and types the code.
    const { client: browser, user } = await srv.signedIn();
    const input = await browser.get('/o/device/');
    assert.equal(input.status, 200);
    assert.match(input.headers.get('content-security-policy') ?? '', /frame-ancestors 'none'/);
    const xsrf = /name="xsrf" value="([^"]+)"/.exec(input.text)![1]!;
    const confirm = await browser.request('POST', '/o/device/', { form: { xsrf, user_code: da.user_code.toLowerCase().replace('-', '') } });
    assert.equal(confirm.status, 200);
    assert.match(confirm.text, /Kitchen display/);
    const xsrf2 = /name="xsrf" value="([^"]+)"/.exec(confirm.text)![1]!;
    const go = await browser.request('POST', '/o/device/', { form: { xsrf: xsrf2, user_code: /name="user_code" value="([^"]+)"/.exec(confirm.text)![1]!, confirm: 'yes' } });
    assert.equal(go.status, 303);
    const done = await driveAuthorization(srv, browser, new URL(go.headers.get('location')!, srv.url));
    assert.equal(done.status, 200);
    assert.match(done.text ?? '', /Device connected/);
    const tokens = await oauth.processDeviceCodeResponse(as, client, await oauth.deviceCodeGrantRequest(as, client, auth(c), da.device_code, insecure));
    assert.equal(tokens.scope, 'devices');
    const me = await srv.client().get('/api/me', { bearer: tokens.access_token });
    assert.equal(me.body.user_id, user.id);
    // The device code is single-use.
    await assert.rejects(
      oauth.processDeviceCodeResponse(as, client, await oauth.deviceCodeGrantRequest(as, client, auth(c), da.device_code, insecure)),
      (err: oauth.ResponseBodyError) => err.error === 'invalid_grant',
    );
  });

  it('device flow: a wrong user code shows an error; cancelling denies the device', async () => {
    const c = await createOAuthClient(srv, { type: 'public', name: 'TV', grant_types: ['urn:ietf:params:oauth:grant-type:device_code'], redirect_uris: [], scopes: ['devices'] });
    const client: oauth.Client = { client_id: c.clientId };
    const da = await oauth.processDeviceAuthorizationResponse(as, client, await oauth.deviceAuthorizationRequest(as, client, auth(c), { scope: 'devices' }, insecure));
    const { client: browser } = await srv.signedIn();
    const input = await browser.get('/o/device/');
    const xsrf = /name="xsrf" value="([^"]+)"/.exec(input.text)![1]!;
    const wrong = await browser.request('POST', '/o/device/', { form: { xsrf, user_code: 'BBBB-BBBB' } });
    assert.match(wrong.text, /not valid or has expired/);
    const input2 = await browser.get('/o/device/');
    const confirm = await browser.request('POST', '/o/device/', { form: { xsrf: /name="xsrf" value="([^"]+)"/.exec(input2.text)![1]!, user_code: da.user_code } });
    const xsrf2 = /name="xsrf" value="([^"]+)"/.exec(confirm.text)![1]!;
    await browser.request('POST', '/o/device/', { form: { xsrf: xsrf2, user_code: /name="user_code" value="([^"]+)"/.exec(confirm.text)![1]!, abort: 'yes' } });
    await assert.rejects(
      oauth.processDeviceCodeResponse(as, client, await oauth.deviceCodeGrantRequest(as, client, auth(c), da.device_code, insecure)),
      (err: oauth.ResponseBodyError) => err.error === 'access_denied',
    );
  });
});
