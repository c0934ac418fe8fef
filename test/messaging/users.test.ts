import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { issueAccessToken } from '../support/oauth.ts';
import { startTestServer, type TestServer } from '../support/server.ts';

describe('users over REST', () => {
  let srv: TestServer;
  before(async () => {
    srv = await startTestServer();
  });
  after(() => srv.close());

  it('lists yourself (never a password), looks others up by exact email only', async () => {
    const { client, user: me } = await srv.signedIn();
    const other = await srv.createUser({ email: `Other.${Date.now()}@Example.test` });
    await srv.app.services.users.updateProfile(other.id, { phone_number: '+14155550100' });
    const self = await client.get('/api/users/');
    assert.equal(self.status, 200);
    assert.equal(self.body.count, 1);
    assert.equal(self.body.results[0].user_id, me.id);
    assert.doesNotMatch(self.text, /password|hash/i);
    const found = await client.get(`/api/users/?email=${encodeURIComponent(other.email.toLowerCase())}`);
    assert.equal(found.body.count, 1);
    assert.equal(found.body.results[0].user_id, other.id);
    assert.equal(found.body.results[0].phone_number, null, 'a phone number is only shown to its owner and staff');
    assert.equal('is_staff' in found.body.results[0], false);
    assert.equal((await client.get('/api/users/?email=nobody@example.test')).body.count, 0);
    assert.equal((await client.get('/api/users/?email=not-an-email')).status, 400);
    assert.equal((await client.get(`/api/users/?user_id=${other.id}`)).body.count, 0, 'no listing by id of strangers');
  });

  it('shows a user to themselves, their conversation partners and staff; 404 to strangers', async () => {
    const { client, user: me } = await srv.signedIn();
    const partner = await srv.createUser({ password: null });
    const stranger = await srv.createUser({ password: null });
    await srv.app.services.conversations.create({ user: me, via: 'session', scopes: null }, { participants: [partner.id] });
    assert.equal((await client.get(`/api/users/${me.id}/`)).body.is_staff, false);
    const p = await client.get(`/api/users/${partner.id}/`);
    assert.equal(p.status, 200);
    assert.equal(p.body.user_id, partner.id);
    assert.equal((await client.get(`/api/users/${stranger.id}/`)).status, 404);
    assert.equal((await client.get('/api/users/12/')).status, 404);
    const staff = await srv.signedIn(await srv.createUser({ staff: true }));
    const seen = await staff.client.get(`/api/users/${stranger.id}/`);
    assert.equal(seen.status, 200);
    assert.equal(seen.body.is_staff, false);
    const all = await staff.client.get('/api/users/?page_size=2');
    assert.ok(all.body.count >= 5);
    assert.equal(all.body.results.length, 2);
    assert.ok(all.body.next);
    const byEmail = await staff.client.get(`/api/users/?email=${encodeURIComponent(stranger.email)}`);
    assert.deepEqual(byEmail.body.results.map((u: { user_id: string }) => u.user_id), [stranger.id]);
  });

  it('gives staff powers to a staff member\'s browser session only, never to an app holding their token', async () => {
    const staff = await srv.createUser({ staff: true });
    const stranger = await srv.createUser();
    const token = await issueAccessToken(srv, { user: staff, scopes: ['read:messages'] });
    const c = srv.client();
    const list = await c.get('/api/users/', { bearer: token });
    assert.equal(list.status, 200);
    assert.deepEqual(list.body.results.map((u: { user_id: string }) => u.user_id), [staff.id], 'only themselves');
    assert.equal((await c.get(`/api/users/${stranger.id}/`, { bearer: token })).status, 404);
    const byEmail = await c.get(`/api/users/?email=${encodeURIComponent(stranger.email)}`, { bearer: token });
    assert.equal(byEmail.body.results[0].phone_number, null);
    assert.equal('is_staff' in byEmail.body.results[0], false);
  });

  it('updates only your own profile fields; privilege fields, email and password are refused', async () => {
    const { client, user: me } = await srv.signedIn();
    const partner = await srv.signedIn();
    await srv.app.services.conversations.create({ user: me, via: 'session', scopes: null }, { participants: [partner.user.id] });
    const ok = await client.patch(`/api/users/${me.id}/`, { display_name: 'Me Myself', phone_number: '+1 415 555 0199' });
    assert.equal(ok.status, 200);
    assert.equal(ok.body.display_name, 'Me Myself');
    assert.equal(ok.body.phone_number, '+14155550199');
    assert.equal((await client.put(`/api/users/${me.id}/`, { first_name: 'Put' })).body.first_name, 'Put');
    for (const body of [{ is_staff: true }, { is_superuser: true }, { password: 'a new passphrase' }, { email: 'x@example.test' }, { is_active: false }, { phone_number: 'call me' }, { avatar_url: 'javascript:alert(1)' }]) {
      const res = await client.patch(`/api/users/${me.id}/`, body);
      assert.equal(res.status, 400, JSON.stringify(body));
      assert.equal(res.body.error.code, 'validation_failed');
    }
    const after = await srv.app.services.users.findById(me.id);
    assert.deepEqual([after!.isStaff, after!.isSuperuser, after!.email], [false, false, me.email]);
    const foreign = await partner.client.patch(`/api/users/${me.id}/`, { display_name: 'hacked' });
    assert.equal(foreign.status, 403);
    assert.equal(foreign.body.error.code, 'not_your_profile');
    const stranger = await srv.createUser({ password: null });
    assert.equal((await client.patch(`/api/users/${stranger.id}/`, { display_name: 'x' })).status, 404);
    const taken = await partner.client.patch(`/api/users/${partner.user.id}/`, { phone_number: '+14155550199' });
    assert.equal(taken.status, 409);
    assert.equal(taken.body.error.code, 'phone_number_taken');
    assert.equal((await client.patch(`/api/users/${me.id}/`, { display_name: 'x' }, { csrfHeader: false })).status, 403);
    assert.equal((await srv.client().patch(`/api/users/${me.id}/`, { display_name: 'x' })).status, 401);
  });

  it('refuses self-registration while ALLOW_REGISTRATION is off; staff may still create accounts', async () => {
    const res = await srv.client().post('/api/users/', { email: 'new@example.test', password: 'a long passphrase' });
    assert.equal(res.status, 403);
    assert.equal(res.body.error.code, 'registration_disabled');
    const staff = await srv.signedIn(await srv.createUser({ staff: true }));
    const made = await staff.client.post('/api/users/', { email: `made${Date.now()}@example.test`, password: 'a long passphrase' });
    assert.equal(made.status, 201);
    assert.equal(made.body.is_staff, false);
    const member = await srv.signedIn();
    assert.equal((await member.client.post('/api/users/', { email: 'x2@example.test', password: 'a long passphrase' })).status, 403);
  });
});

describe('self-registration (ALLOW_REGISTRATION=true)', () => {
  let srv: TestServer;
  before(async () => {
    srv = await startTestServer({ env: { ALLOW_REGISTRATION: 'true' } });
  });
  after(() => srv.close());

  it('creates an account with a hashed password that is never echoed, then signs in', async () => {
    const c = srv.client();
    const res = await c.post('/api/users/', { first_name: 'Joe', last_name: 'Unique', email: 'Uniquejoe@example.test', password: 'a long passphrase', phone_number: '+2349012345210' });
    assert.equal(res.status, 201);
    assert.doesNotMatch(res.text, /passphrase|password|hash/i);
    assert.deepEqual([res.body.is_staff, res.body.is_superuser, res.body.first_name], [false, false, 'Joe']);
    const row = await srv.app.db.db.selectFrom('users').select('password_hash').where('id', '=', res.body.user_id).executeTakeFirstOrThrow();
    assert.match(row.password_hash!, /^\$argon2id\$/);
    assert.equal((await c.post('/auth/login', { email: 'uniquejoe@example.test', password: 'a long passphrase' })).status, 200);
  });

  it('refuses privilege fields, weak passwords, duplicates and malformed input', async () => {
    const c = srv.client();
    const priv = await c.post('/api/users/', { email: 'p@example.test', password: 'a long passphrase', is_staff: true, is_superuser: true });
    assert.equal(priv.status, 400);
    assert.equal((await srv.app.services.users.findByEmail('p@example.test')), null);
    const weak = await c.post('/api/users/', { email: 'w@example.test', password: 'short' });
    assert.equal(weak.status, 400);
    assert.equal(weak.body.error.details.fields[0].code, 'weak_password');
    assert.equal((await c.post('/api/users/', { email: 'nopass@example.test' })).status, 400);
    assert.equal((await c.post('/api/users/', { email: 'not-an-email', password: 'a long passphrase' })).status, 400);
    await c.post('/api/users/', { email: 'dup@example.test', password: 'a long passphrase' });
    const dup = await c.post('/api/users/', { email: 'DUP@example.test', password: 'another long passphrase' });
    assert.equal(dup.status, 409);
    assert.equal(dup.body.error.code, 'email_taken');
  });
});
