import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { AppError } from '../../src/errors.ts';
import { ALL_SCOPES, basicAuth, clientCredentialsToken, createOAuthClient, issueAccessToken, postForm } from '../support/oauth.ts';
import { startTestServer, type TestServer } from '../support/server.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function rejects(p: Promise<unknown>, status: number, code: string): Promise<AppError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof AppError, `expected AppError, got ${err}`);
    assert.equal(err.status, status);
    assert.equal(err.code, code);
    return err;
  }
  assert.fail('expected a rejection');
}

describe('OAuth bearer tokens on the API and the client/grant service', () => {
  let srv: TestServer;
  before(async () => {
    srv = await startTestServer();
  });
  after(() => srv.close());

  it('accepts a real access token on GET /api/me and resolves its user', async () => {
    const user = await srv.createUser();
    const token = await issueAccessToken(srv, { user, scopes: ['read:messages'] });
    const res = await srv.client().get('/api/me', { bearer: token });
    assert.equal(res.status, 200);
    assert.equal(res.body.user_id, user.id);
    const info = await srv.app.bearer.verify(token);
    assert.deepEqual(info?.scopes, ['read:messages']);
    assert.equal(info?.userId, user.id);
    assert.ok(info?.grantId);
  });

  it('answers 401 with a Bearer challenge without a token, and invalid_token for unknown ones (S1, S2)', async () => {
    const none = await srv.client().get('/api/me');
    assert.equal(none.status, 401);
    assert.match(none.headers.get('www-authenticate') ?? '', /^Bearer/);
    const unknown = await srv.client().get('/api/me', { bearer: 'A'.repeat(43) });
    assert.equal(unknown.status, 401);
    assert.equal(unknown.body.error.code, 'invalid_token');
    assert.match(unknown.headers.get('www-authenticate') ?? '', /error="invalid_token"/);
    const malformed = await srv.client().get('/api/me', { headers: { authorization: 'Bearer a b c' } });
    assert.equal(malformed.status, 401);
    assert.equal(malformed.body.error.code, 'invalid_request');
  });

  it('refuses an expired token (S2)', async () => {
    const user = await srv.createUser();
    const token = await issueAccessToken(srv, { user, scopes: ['read:messages'], ttl: 1 });
    await sleep(2100);
    const res = await srv.client().get('/api/me', { bearer: token });
    assert.equal(res.status, 401);
    assert.equal(res.body.error.code, 'invalid_token');
  });

  it('refuses a token issued for another audience (S4)', async () => {
    const user = await srv.createUser();
    const { provider } = srv.app.oauthServer;
    const { clientId } = await createOAuthClient(srv);
    const client = await provider.Client.find(clientId);
    const grant = new provider.Grant({ accountId: user.id, clientId });
    grant.addResourceScope('urn:example:other-api', 'read:messages');
    const grantId = await grant.save();
    const at = new provider.AccessToken({ accountId: user.id, client, grantId, scope: 'read:messages' } as never);
    at.resourceServer = new provider.ResourceServer('urn:example:other-api', { scope: 'read:messages', accessTokenFormat: 'opaque', audience: 'urn:example:other-api' } as never);
    const token = await at.save();
    const res = await srv.client().get('/api/me', { bearer: token });
    assert.equal(res.status, 401);
    assert.equal(res.body.error.code, 'invalid_token');
  });

  it('stores token keys and client secrets only as digests', async () => {
    const user = await srv.createUser();
    const c = await createOAuthClient(srv);
    const token = await issueAccessToken(srv, { user, scopes: ['read:messages'], clientId: c.clientId });
    const db = srv.app.db.db;
    const rows = await db.selectFrom('oauth_models').select(['id', sql<string>`payload::text`.as('payload')]).where('model', '=', 'AccessToken').execute();
    assert.ok(rows.length > 0);
    for (const r of rows) {
      assert.notEqual(r.id, token);
      assert.ok(!r.payload.includes(token), 'token value inside the payload');
    }
    const stored = await db.selectFrom('oauth_clients').select('secret_hash').where('client_id', '=', c.clientId).executeTakeFirstOrThrow();
    assert.ok(stored.secret_hash?.startsWith('sha256:'));
    assert.ok(!stored.secret_hash!.includes(c.clientSecret!));
  });

  it('client-credentials tokens act as the client owner; a disabled owner stops them at once', async () => {
    const owner = await srv.createUser();
    const hub = await createOAuthClient(srv, { name: 'Hub', grant_types: ['client_credentials'], redirect_uris: [], owner_user_id: owner.id, scopes: ['devices'] });
    const token = await clientCredentialsToken(srv, hub, ['devices']);
    const res = await srv.client().get('/api/me', { bearer: token });
    assert.equal(res.status, 200);
    assert.equal(res.body.user_id, owner.id);
    const info = await srv.app.bearer.verify(token);
    assert.deepEqual(info?.scopes, ['devices']);
    assert.equal(info?.clientId, hub.clientId);
    await srv.app.services.users.setActive(owner.id, false);
    assert.equal((await srv.client().get('/api/me', { bearer: token })).status, 401);
  });

  it('a deactivated user loses every grant and token immediately', async () => {
    const user = await srv.createUser();
    const token = await issueAccessToken(srv, { user, scopes: ['read:messages'] });
    await issueAccessToken(srv, { user, scopes: ['send:messages'] });
    assert.equal((await srv.app.services.oauth.listUserGrants(user.id)).length, 2);
    await srv.app.services.users.setActive(user.id, false);
    assert.equal((await srv.client().get('/api/me', { bearer: token })).status, 401);
    assert.equal((await srv.app.services.oauth.listUserGrants(user.id)).length, 0);
    // Reactivating does not bring the tokens back.
    await srv.app.services.users.setActive(user.id, true);
    assert.equal((await srv.client().get('/api/me', { bearer: token })).status, 401);
  });

  it('lists grants per user and per client, and revokes one grant with its tokens', async () => {
    const oauth = srv.app.services.oauth;
    const alice = await srv.createUser();
    const bob = await srv.createUser();
    const c = await createOAuthClient(srv, { name: 'Listed app' });
    const ta = await issueAccessToken(srv, { user: alice, scopes: ['read:messages', 'send:messages'], clientId: c.clientId });
    const tb = await issueAccessToken(srv, { user: bob, scopes: ['read:messages'], clientId: c.clientId });
    const mine = await oauth.listUserGrants(alice.id);
    assert.equal(mine.length, 1);
    assert.equal(mine[0]!.clientId, c.clientId);
    assert.equal(mine[0]!.clientName, 'Listed app');
    assert.deepEqual(mine[0]!.scopes, ['read:messages', 'send:messages']);
    assert.equal((await oauth.listClientGrants(c.clientId)).length, 2);
    // Bob cannot revoke Alice's grant (404, no probing).
    await rejects(oauth.revokeGrant(mine[0]!.grantId, { userId: bob.id }), 404, 'grant_not_found');
    await rejects(oauth.revokeGrant('no-such-grant'), 404, 'grant_not_found');
    await oauth.revokeGrant(mine[0]!.grantId, { userId: alice.id });
    assert.equal((await srv.client().get('/api/me', { bearer: ta })).status, 401);
    assert.equal((await srv.client().get('/api/me', { bearer: tb })).status, 200);
    assert.equal(await oauth.revokeUserGrants(bob.id, { clientId: c.clientId }), 1);
    assert.equal((await srv.client().get('/api/me', { bearer: tb })).status, 401);
  });

  it('creates, updates, lists and deletes clients; deleting a client ends its tokens', async () => {
    const oauth = srv.app.services.oauth;
    const user = await srv.createUser();
    const created = await oauth.createClient({ name: 'CLI app', redirect_uris: ['https://app.example/cb'], scopes: ['read:messages'] });
    assert.equal(created.client.confidential, true);
    assert.equal(created.client.tokenEndpointAuthMethod, 'client_secret_basic');
    assert.ok(created.clientSecret && created.clientSecret.length >= 43);
    const pub = await oauth.createClient({ name: 'Native', type: 'public', redirect_uris: ['com.example.app:/cb'], scopes: ['read:messages'] });
    assert.equal(pub.clientSecret, null);
    assert.equal(pub.client.requirePkce, true);
    const updated = await oauth.updateClient(created.client.clientId, { name: 'Renamed', scopes: ['read:messages', 'send:messages'], default_scopes: ['read:messages'] });
    assert.equal(updated.name, 'Renamed');
    assert.deepEqual(updated.defaultScopes, ['read:messages']);
    const ids = (await oauth.listClients()).map((c) => c.clientId);
    assert.ok(ids.includes(created.client.clientId) && ids.includes(pub.client.clientId));
    const token = await issueAccessToken(srv, { user, scopes: ['read:messages'], clientId: created.client.clientId });
    await oauth.deleteClient(created.client.clientId);
    assert.equal((await srv.client().get('/api/me', { bearer: token })).status, 401);
    await rejects(oauth.deleteClient(created.client.clientId), 404, 'client_not_found');
    await rejects(oauth.getClient('nope'), 404, 'client_not_found');
  });

  it('refuses inconsistent clients with field errors', async () => {
    const oauth = srv.app.services.oauth;
    const paths = (e: AppError) => (e.details as { fields: Array<{ path: string }> }).fields.map((f) => f.path);
    let e = await rejects(oauth.createClient({ name: 'x', type: 'public', grant_types: ['client_credentials'], scopes: ['devices'] }), 400, 'validation_failed');
    assert.ok(paths(e).includes('grant_types'));
    e = await rejects(oauth.createClient({ name: 'x', redirect_uris: [], scopes: ['devices'] }), 400, 'validation_failed');
    assert.ok(paths(e).includes('redirect_uris'));
    e = await rejects(oauth.createClient({ name: 'x', redirect_uris: ['http://evil.example/cb'], scopes: ['devices'] }), 400, 'validation_failed');
    assert.ok(paths(e).some((p) => p.startsWith('redirect_uris')));
    e = await rejects(oauth.createClient({ name: 'x', redirect_uris: ['https://a.example/cb#frag'], scopes: ['devices'] }), 400, 'validation_failed');
    e = await rejects(oauth.createClient({ name: 'x', redirect_uris: ['https://a.example/cb'], scopes: ['devices'], default_scopes: ['smarthome'] }), 400, 'validation_failed');
    assert.ok(paths(e).includes('default_scopes'));
    e = await rejects(oauth.createClient({ name: 'x', grant_types: ['client_credentials'], scopes: ['devices'] }), 400, 'validation_failed');
    assert.ok(paths(e).includes('owner_user_id'));
    e = await rejects(
      oauth.createClient({ name: 'x', grant_types: ['client_credentials'], scopes: ['devices'], owner_user_id: '00000000-0000-4000-8000-000000000000' }),
      400,
      'validation_failed',
    );
    assert.ok(paths(e).includes('owner_user_id'));
    e = await rejects(oauth.createClient({ name: '', scopes: ['nope' as never] }), 400, 'validation_failed');
    assert.ok(paths(e).includes('name'));
    e = await rejects(oauth.createClient({ name: 'x', redirect_uris: ['https://a.example/cb'], scopes: [] }), 400, 'validation_failed');
    assert.ok(paths(e).includes('scopes'));
  });

  it('rotates a secret: the new one is returned once and the old one stops working', async () => {
    const c = await createOAuthClient(srv, { grant_types: ['client_credentials'], redirect_uris: [], owner_user_id: (await srv.createUser()).id });
    const rotated = await srv.app.services.oauth.rotateSecret(c.clientId);
    assert.notEqual(rotated.clientSecret, c.clientSecret);
    const old = await postForm(srv, '/o/token/', { grant_type: 'client_credentials', scope: 'read:messages' }, { authorization: basicAuth(c.clientId, c.clientSecret!) });
    assert.equal(old.status, 401);
    assert.equal(old.body.error, 'invalid_client');
    const fresh = await postForm(srv, '/o/token/', { grant_type: 'client_credentials', scope: 'read:messages' }, { authorization: basicAuth(c.clientId, rotated.clientSecret!) });
    assert.equal(fresh.status, 200);
    assert.equal(fresh.body.scope, 'read:messages');
    const pub = await createOAuthClient(srv, { type: 'public' });
    await rejects(srv.app.services.oauth.rotateSecret(pub.clientId), 400, 'validation_failed');
  });

  it('sweeps expired rows', async () => {
    const user = await srv.createUser();
    await issueAccessToken(srv, { user, scopes: ['read:messages'], ttl: 1 });
    await sleep(1500);
    const expiredBefore = await srv.app.db.db.selectFrom('oauth_models').select(sql<number>`count(*)`.as('n')).where('expires_at', '<', sql<Date>`now()`).executeTakeFirstOrThrow();
    assert.ok(expiredBefore.n >= 1);
    const removed = await srv.app.services.oauth.cleanupExpired();
    assert.ok(removed >= 1);
    const expiredAfter = await srv.app.db.db.selectFrom('oauth_models').select(sql<number>`count(*)`.as('n')).where('expires_at', '<', sql<Date>`now()`).executeTakeFirstOrThrow();
    assert.equal(expiredAfter.n, 0);
  });

  it('exposes every scope in the metadata', async () => {
    const res = await srv.client().get('/.well-known/oauth-authorization-server');
    assert.equal(res.status, 200);
    for (const s of ALL_SCOPES) assert.ok(res.body.scopes_supported.includes(s));
    assert.equal(res.body.token_endpoint, `${srv.url}/o/token/`);
  });
});
