import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { adminClient, type AdminClient } from '../support/admin.ts';
import { createOAuthClient, issueAccessToken } from '../support/oauth.ts';
import { startTestServer, type TestServer } from '../support/server.ts';

const GOOGLE_REDIRECT = 'https://oauth-redirect.googleusercontent.com/r/my-project';

describe('admin OAuth clients and grants (superusers only)', () => {
  let srv: TestServer;
  let su: AdminClient;
  let staff: AdminClient;
  let plain: AdminClient;

  before(async () => {
    srv = await startTestServer();
    su = await adminClient(srv, { superuser: true });
    staff = await adminClient(srv, { staff: true });
    plain = await adminClient(srv, { staff: false });
  });
  after(() => srv.close());

  async function client(name = 'Some app') {
    return srv.app.services.oauth.createClient({ name, redirect_uris: ['https://app.example/cb'], scopes: ['read:messages'] });
  }

  it('guards every page and action: anonymous → sign-in, non-staff and non-superuser staff → 403, no CSRF → 403', async () => {
    const { client: c } = await client();
    const base = `/admin/oauth/clients/${c.clientId}/`;
    const pages = ['/admin/oauth/clients/', '/admin/oauth/clients/?q=x&sort=-created', '/admin/oauth/clients/new/', base, `${base}rotate/`, `${base}delete/`];
    const actions: Array<[string, Record<string, string>]> = [
      ['/admin/oauth/clients/new/', { name: 'X', scopes: 'read:messages', redirect_uris: GOOGLE_REDIRECT }],
      [base, { name: 'Y', scopes: 'read:messages', grant_types: 'authorization_code' }],
      [`${base}rotate/`, { confirm: 'yes' }],
      ['/admin/oauth/grants/abc/revoke/', { confirm: 'yes' }],
      [`${base}delete/`, { confirm: 'yes' }],
    ];
    const anon = srv.client();
    for (const p of pages) {
      assert.equal((await anon.get(p)).status, 303, p);
      assert.equal((await plain.client.get(p)).status, 403, p);
      const s = await staff.client.get(p);
      assert.equal(s.status, 403, p);
      assert.match(s.text, /data-code="superuser_only"/);
      assert.equal((await su.client.get(p)).status, 200, p);
    }
    for (const [p, form] of actions) {
      assert.equal((await anon.request('POST', p, { form })).status, 303, p);
      assert.equal((await plain.post(p, form)).status, 403, p);
      assert.equal((await staff.post(p, form)).status, 403, p);
      const noToken = await su.post(p, form, { noCsrf: true });
      assert.equal(noToken.status, 403, p);
      assert.match(noToken.text, /data-code="csrf_token"/);
    }
    assert.ok(await srv.app.services.oauth.findClient(c.clientId), 'nothing was deleted');
    assert.doesNotMatch((await staff.client.get('/admin/')).text, /OAuth clients<\/a>/, 'the navigation hides superuser pages from staff');
    assert.equal((await su.client.get('/admin/oauth/clients/no-such-client/')).status, 404);
  });

  it('registers a client for Google: field errors first, then the secret shown once', async () => {
    const bad = await su.post('/admin/oauth/clients/new/', { name: '', redirect_uris: 'http://evil.example/cb\njavascript:alert(1)', access_token_ttl: 'soon', owner_email: 'nobody@example.test' });
    assert.equal(bad.status, 400);
    assert.match(bad.text, /id="access_token_ttl-error"/);
    assert.match(bad.text, /id="owner_email-error"[^>]*>no user with this email/);
    const bad2 = await su.post('/admin/oauth/clients/new/', { name: '', redirect_uris: 'http://evil.example/cb', grant_types: 'authorization_code' });
    assert.equal(bad2.status, 400);
    assert.match(bad2.text, /id="name-error"/);
    assert.match(bad2.text, /id="redirect_uris-error"[^>]*>http is only allowed for loopback/);
    assert.match(bad2.text, /id="scopes-error"/);

    const ok = await su.post('/admin/oauth/clients/new/', {
      name: 'Google Home',
      type: 'confidential',
      redirect_uris: GOOGLE_REDIRECT,
      grant_types: ['authorization_code', 'refresh_token'],
      scopes: ['smarthome', 'devices'],
      default_scopes: 'smarthome',
      require_pkce: 'false',
      refresh_token_ttl: '',
    });
    assert.equal(ok.status, 200);
    assert.equal(ok.headers.get('cache-control'), 'no-store');
    const clientId = /data-client-id>([^<]+)</.exec(ok.text)?.[1];
    const secret = /data-client-secret>([^<]+)</.exec(ok.text)?.[1];
    assert.ok(clientId && secret);
    const c = (await srv.app.services.oauth.clientRecord(clientId))!;
    assert.deepEqual(c.client.redirectUris, [GOOGLE_REDIRECT]);
    assert.deepEqual(c.client.scopes.sort(), ['devices', 'smarthome']);
    assert.notEqual(c.secretHash, secret, 'only a digest is stored');
    const detail = await su.client.get(`/admin/oauth/clients/${clientId}/`);
    assert.doesNotMatch(detail.text, new RegExp(secret), 'never shown again');
    const log = await su.client.get(`/admin/audit/?target_type=oauth_client&target_id=${clientId}`);
    assert.match(log.text, /oauth_client\.create/);
    assert.doesNotMatch(log.text, new RegExp(secret));
    assert.match((await su.client.get('/admin/oauth/clients/?q=google')).text, /Google Home/);
  });

  it('edits redirect URIs, grant types, scopes, PKCE and the refresh lifetime; rotates and deletes after confirmation', async () => {
    const owner = await srv.createUser();
    const { client: c } = await client('Editable');
    const base = `/admin/oauth/clients/${c.clientId}/`;
    const bad = await su.post(base, { name: 'Editable', redirect_uris: 'not a uri', scopes: 'read:messages', grant_types: 'authorization_code' });
    assert.equal(bad.status, 400);
    assert.match(bad.text, /id="redirect_uris-error"/);
    const ok = await su.post(base, {
      name: 'Edited',
      redirect_uris: 'https://a.example/cb\nhttps://b.example/cb',
      grant_types: ['authorization_code', 'refresh_token', 'client_credentials'],
      scopes: ['read:messages', 'send:messages'],
      require_pkce: 'true',
      owner_email: owner.email,
      refresh_token_ttl: '86400',
    });
    assert.equal(ok.status, 303);
    const now = (await srv.app.services.oauth.findClient(c.clientId))!;
    assert.equal(now.name, 'Edited');
    assert.deepEqual(now.redirectUris, ['https://a.example/cb', 'https://b.example/cb']);
    assert.equal(now.requirePkce, true);
    assert.equal(now.refreshTokenTtl, 86400);
    assert.equal(now.ownerUserId, owner.id);

    const before = (await srv.app.services.oauth.clientRecord(c.clientId))!.secretHash;
    assert.match((await su.post(`${base}rotate/`, {})).text, /Yes, rotate/);
    assert.equal((await srv.app.services.oauth.clientRecord(c.clientId))!.secretHash, before, 'not rotated before confirmation');
    const rotated = await su.post(`${base}rotate/`, { confirm: 'yes' });
    assert.equal(rotated.status, 200);
    assert.match(rotated.text, /data-client-secret>/);
    assert.notEqual((await srv.app.services.oauth.clientRecord(c.clientId))!.secretHash, before);

    assert.equal((await su.post(`${base}delete/`, {})).status, 200);
    assert.ok(await srv.app.services.oauth.findClient(c.clientId));
    assert.equal((await su.post(`${base}delete/`, { confirm: 'yes' })).status, 303);
    assert.equal(await srv.app.services.oauth.findClient(c.clientId), null);
  });

  it('revokes an unknown grant with a 404 and asks for confirmation first', async () => {
    const ask = await su.post('/admin/oauth/grants/some-grant/revoke/', { back: '/admin/users/' });
    assert.equal(ask.status, 200);
    assert.match(ask.text, /Revoke this grant\?/);
    const missing = await su.post('/admin/oauth/grants/some-grant/revoke/', { confirm: 'yes' });
    assert.equal(missing.status, 404);
    assert.equal((await su.post('/admin/oauth/grants/bad%20id!/revoke/', { confirm: 'yes' })).status, 404);
    const evilBack = await su.post('/admin/oauth/grants/some-grant/revoke/', { back: '//evil.example/' });
    assert.doesNotMatch(evilBack.text, /evil\.example/);
  });

  it('lists grants per user and per client and revokes one: its token stops working at once', async () => {
    const user = await srv.createUser();
    const c = await createOAuthClient(srv, { name: 'Grant holder' });
    const token = await issueAccessToken(srv, { user, scopes: ['read:messages'], clientId: c.clientId });
    assert.equal((await srv.client().get('/api/me', { bearer: token })).status, 200);
    const [grant] = await srv.app.services.oauth.listUserGrants(user.id);
    assert.ok(grant);
    const userPage = await su.client.get(`/admin/users/${user.id}/`);
    assert.match(userPage.text, /OAuth grants \(1\)/);
    assert.match(userPage.text, new RegExp(`/admin/oauth/grants/${grant.grantId}/revoke/`));
    assert.doesNotMatch((await staff.client.get(`/admin/users/${user.id}/`)).text, /OAuth grants/, 'grants are for superusers');
    const clientPage = await su.client.get(`/admin/oauth/clients/${c.clientId}/`);
    assert.match(clientPage.text, /Grants \(1\)/);
    assert.match(clientPage.text, new RegExp(user.email));

    const done = await su.post(`/admin/oauth/grants/${grant.grantId}/revoke/`, { confirm: 'yes', back: `/admin/users/${user.id}/` });
    assert.equal(done.status, 303);
    assert.equal(done.headers.get('location'), `/admin/users/${user.id}/`);
    assert.equal((await srv.client().get('/api/me', { bearer: token })).status, 401);
    assert.deepEqual(await srv.app.services.oauth.listUserGrants(user.id), []);
  });
});
