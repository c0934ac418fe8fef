import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DEFAULT_PASSWORD, startTestServer, type TestServer } from '../support/server.ts';

describe('local sign-in and the session (BFF base)', () => {
  let srv: TestServer;
  before(async () => {
    srv = await startTestServer({ env: { LOGIN_MAX_FAILURES_PER_ACCOUNT: '3' } });
  });
  after(() => srv.close());

  it('signs in with email + password and GET /api/me returns the user, never a token', async () => {
    const user = await srv.createUser({ email: 'Alice.Example@Example.test' });
    const c = srv.client();
    const res = await c.post('/auth/login', { email: 'alice.example@example.TEST', password: DEFAULT_PASSWORD });
    assert.equal(res.status, 200);
    assert.equal(res.body.user.user_id, user.id);
    assert.equal(res.body.user.email, 'Alice.Example@Example.test');
    const setCookie = res.headers.getSetCookie().join('\n');
    assert.match(setCookie, /sid=[A-Za-z0-9_-]{43};/);
    assert.match(setCookie, /httponly/i);
    assert.match(setCookie, /samesite=lax/i);
    assert.doesNotMatch(res.text, /token|password|hash/i);
    const me = await c.get('/api/me');
    assert.equal(me.status, 200);
    assert.equal(me.body.user_id, user.id);
    assert.equal(me.body.is_staff, false);
    assert.equal('password_hash' in me.body, false);
  });

  it('regenerates the session id at sign-in (no fixation)', async () => {
    const user = await srv.createUser();
    const c = srv.client();
    await c.get('/auth/login'); // the sign-in page creates an anonymous session (CSRF secret)
    const before = c.cookies.get('sid');
    assert.ok(before);
    await c.post('/auth/login', { email: user.email, password: DEFAULT_PASSWORD });
    const afterLogin = c.cookies.get('sid');
    assert.ok(afterLogin);
    assert.notEqual(afterLogin, before);
  });

  it('rejects a wrong password with 401 invalid_credentials-style error and no session', async () => {
    const user = await srv.createUser();
    const c = srv.client();
    const res = await c.post('/auth/login', { email: user.email, password: 'not the password' });
    assert.equal(res.status, 401);
    assert.equal(res.body.error.code, 'unauthenticated');
    assert.equal((await c.get('/api/me')).status, 401);
  });

  it('answers the same for an unknown email (no enumeration)', async () => {
    const res = await srv.client().post('/auth/login', { email: 'nobody@example.test', password: 'whatever123' });
    assert.equal(res.status, 401);
    assert.equal(res.body.error.code, 'unauthenticated');
  });

  it('rate-limits failed sign-ins per account with 429 and Retry-After', async () => {
    const user = await srv.createUser();
    const c = srv.client();
    for (let i = 0; i < 3; i++) assert.equal((await c.post('/auth/login', { email: user.email, password: 'wrong-password' })).status, 401);
    const limited = await c.post('/auth/login', { email: user.email, password: DEFAULT_PASSWORD });
    assert.equal(limited.status, 429);
    assert.equal(limited.body.error.code, 'rate_limited');
    assert.ok(Number(limited.headers.get('retry-after')) > 0);
    // Another account from the same IP is unaffected.
    const other = await srv.createUser();
    assert.equal((await c.post('/auth/login', { email: other.email, password: DEFAULT_PASSWORD })).status, 200);
  });

  it('counts parallel guesses before checking them: a burst cannot exceed the per-account limit', async () => {
    const user = await srv.createUser();
    const c = srv.client();
    const results = await Promise.all(Array.from({ length: 10 }, () => c.post('/auth/login', { email: user.email, password: 'wrong-password' })));
    const statuses = results.map((r) => r.status).sort();
    assert.equal(statuses.filter((s) => s === 401).length, 3, statuses.join(','));
    assert.equal(statuses.filter((s) => s === 429).length, 7);
  });

  it('refuses a JSON sign-in without the custom header or from a foreign Origin (CSRF)', async () => {
    const user = await srv.createUser();
    const noHeader = await srv.client().post('/auth/login', { email: user.email, password: DEFAULT_PASSWORD }, { csrfHeader: false });
    assert.equal(noHeader.status, 403);
    assert.equal(noHeader.body.error.code, 'csrf_header');
    const foreign = await srv.client().post('/auth/login', { email: user.email, password: DEFAULT_PASSWORD }, { origin: 'https://evil.example' });
    assert.equal(foreign.status, 403);
    assert.equal(foreign.body.error.code, 'csrf_origin');
    const noOrigin = await srv.client().post('/auth/login', { email: user.email, password: DEFAULT_PASSWORD }, { origin: false });
    assert.equal(noOrigin.status, 403);
  });

  it('refuses cookie-authenticated state changes without CSRF proofs', async () => {
    const { client } = await srv.signedIn();
    const res = await client.post('/auth/logout', {}, { csrfHeader: false });
    assert.equal(res.status, 403);
    assert.equal((await client.get('/api/me')).status, 200, 'still signed in');
    const foreign = await client.post('/auth/logout', {}, { origin: 'http://127.0.0.1:1' });
    assert.equal(foreign.status, 403);
  });

  it('answers malformed JSON, wrong types, missing fields and oversized bodies with 4xx', async () => {
    const c = srv.client();
    const bad = await c.request('POST', '/auth/login', { body: '{"email":', headers: { 'content-type': 'application/json' } });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error.code, 'invalid_json');
    const types = await c.post('/auth/login', { email: 42, password: ['x'] });
    assert.equal(types.status, 400);
    assert.equal(types.body.error.code, 'validation_failed');
    const paths = types.body.error.details.fields.map((f: { path: string }) => f.path).sort();
    assert.deepEqual(paths, ['email', 'password']);
    const missing = await c.post('/auth/login', {});
    assert.equal(missing.status, 400);
    const huge = await c.post('/auth/login', { email: 'a@b.test', password: 'x'.repeat(200_000) });
    assert.equal(huge.status, 413);
    assert.equal(huge.body.error.code, 'payload_too_large');
    const text = await c.request('POST', '/auth/login', { body: 'email=a', headers: { 'content-type': 'text/plain' } });
    assert.equal(text.status, 415);
  });

  it('treats a tampered or unknown session cookie as anonymous', async () => {
    const { client } = await srv.signedIn();
    const sid = client.cookies.get('sid')!;
    const tampered = srv.client();
    tampered.cookies.set('sid', sid.slice(0, -2) + (sid.endsWith('A') ? 'BB' : 'AA'));
    tampered.cookies.set('sid.sig', client.cookies.get('sid.sig')!);
    assert.equal((await tampered.get('/api/me')).status, 401);
    const unsigned = srv.client();
    unsigned.cookies.set('sid', sid);
    assert.equal((await unsigned.get('/api/me')).status, 401);
  });

  it('signs out: the server-side session is gone even if the cookie is replayed', async () => {
    const { client } = await srv.signedIn();
    const replay = srv.client();
    for (const [k, v] of client.cookies) replay.cookies.set(k, v);
    const index = `${srv.config.redis.prefix}user-sess:${(await client.get('/api/me')).body.user_id}`;
    assert.equal((await srv.app.redis!.client.smembers(index)).length, 1);
    const out = await client.post('/auth/logout', {});
    assert.equal(out.status, 204);
    assert.deepEqual(await srv.app.redis!.client.smembers(index), [], 'the per-user index forgets an ended session');
    assert.equal((await client.get('/api/me')).status, 401);
    assert.equal((await replay.get('/api/me')).status, 401);
  });

  it('ends every session of a deactivated user at once', async () => {
    const user = await srv.createUser();
    const a = await srv.signedIn(user);
    const b = await srv.signedIn(user);
    await srv.app.services.users.setActive(user.id, false);
    assert.equal((await a.client.get('/api/me')).status, 401);
    assert.equal((await b.client.get('/api/me')).status, 401);
    assert.equal((await srv.client().post('/auth/login', { email: user.email, password: DEFAULT_PASSWORD })).status, 401);
  });

  it('signs in through the HTML form with its CSRF token and redirects only to a same-origin next', async () => {
    const user = await srv.createUser();
    const c = srv.client();
    const pageRes = await c.get('/auth/login?next=/api/me');
    assert.equal(pageRes.status, 200);
    assert.match(pageRes.headers.get('content-security-policy') ?? '', /frame-ancestors 'none'/);
    const token = /name="_csrf" value="([^"]+)"/.exec(pageRes.text)?.[1];
    assert.ok(token);
    const noToken = await c.request('POST', '/auth/login', { form: { email: user.email, password: DEFAULT_PASSWORD, next: '/api/me' } });
    assert.equal(noToken.status, 403);
    const evil = await c.request('POST', '/auth/login', { form: { email: user.email, password: DEFAULT_PASSWORD, next: '//evil.example/x', _csrf: token! } });
    assert.equal(evil.status, 302);
    assert.equal(evil.headers.get('location'), '/home/');
    // Signed in now: GET /auth/login redirects to next at once, so dot segments must not smuggle in a host.
    for (const next of ['/.//evil.example', '/a/..//evil.example', '/%2e//evil.example', '/./\\evil.example', 'https://evil.example']) {
      const r = await c.get(`/auth/login?next=${encodeURIComponent(next)}`);
      assert.equal(r.status, 302, next);
      assert.equal(r.headers.get('location'), '/home/', next);
    }
    const c2 = srv.client();
    const p2 = await c2.get('/auth/login');
    const t2 = /name="_csrf" value="([^"]+)"/.exec(p2.text)![1]!;
    const ok = await c2.request('POST', '/auth/login', { form: { email: user.email, password: DEFAULT_PASSWORD, next: '/api/me?x=1', _csrf: t2 } });
    assert.equal(ok.status, 302);
    assert.equal(ok.headers.get('location'), '/api/me?x=1');
    const wrong = await srv.client().request('POST', '/auth/login', { form: { email: user.email, password: 'nope-nope', _csrf: 'forged' } });
    assert.equal(wrong.status, 403);
  });

  it('rejects a malformed Authorization header and an unknown bearer token with 401 invalid_token', async () => {
    const c = srv.client();
    const bad = await c.get('/api/me', { headers: { authorization: 'Basic Zm9vOmJhcg==' } });
    assert.equal(bad.status, 401);
    assert.match(bad.headers.get('www-authenticate') ?? '', /Bearer/);
    const unknown = await c.get('/api/me', { bearer: 'not-a-real-token' });
    assert.equal(unknown.status, 401);
    assert.equal(unknown.body.error.code, 'invalid_token');
    assert.match(unknown.headers.get('www-authenticate') ?? '', /error="invalid_token"/);
  });
});
