import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { buildConfig, ConfigError } from '../../src/config.ts';
import { createLogger } from '../../src/logger.ts';
import { freePort } from '../support/config.ts';
import { HttpClient, type TestResponse } from '../support/http.ts';
import { basicAuth, createOAuthClient, pkcePair, postForm, TEST_REDIRECT_URI } from '../support/oauth.ts';
import { startTestIdp, type TestIdp } from '../support/oidc-idp.ts';
import { DEFAULT_PASSWORD, startTestServer, type TestServer } from '../support/server.ts';

/** Follow redirects like a browser (cookies per host) until `stop` matches a URL or a page is reached. */
async function browse(c: HttpClient, start: string, stop?: (u: URL) => boolean): Promise<{ url: string; res: TestResponse | null }> {
  let url = new URL(start, c.base).toString();
  for (let hops = 0; hops < 20; hops++) {
    if (stop?.(new URL(url))) return { url, res: null };
    const res = await c.get(url);
    const location = res.headers.get('location');
    if (res.status >= 300 && res.status < 400 && location) {
      url = new URL(location, url).toString();
      continue;
    }
    return { url, res };
  }
  throw new Error('too many redirects');
}

const isCallback = (u: URL) => u.hostname === '127.0.0.1' && u.pathname === '/auth/callback/';

describe('SSO through an external OpenID provider', () => {
  let idp: TestIdp;
  let srv: TestServer;
  const lines: string[] = [];
  const logged = (reason: string) => lines.some((l) => l.includes('SSO sign-in failed') && l.includes(`"reason":"${reason}"`));

  let explicitPort: number;
  before(async () => {
    const port = await freePort();
    explicitPort = await freePort();
    idp = await startTestIdp(`http://127.0.0.1:${port}`, `http://127.0.0.1:${explicitPort}`);
    const logger = createLogger({ log: { level: 'info', pretty: false } }, { write: (s: string) => void lines.push(s) });
    srv = await startTestServer({ port, env: idp.env(), logger });
  });
  after(async () => {
    await srv?.close();
    await idp?.close();
  });

  /** A new browser that goes through the provider as `accountId` and stops before the app's callback. */
  async function toCallback(accountId: string, start = '/auth/login/sso?next=/api/me'): Promise<{ c: HttpClient; callbackUrl: string }> {
    idp.nextLogin = { accountId };
    const c = srv.client();
    const { url, res } = await browse(c, start, isCallback);
    assert.equal(res, null, `the flow should reach the callback, got ${res?.status} ${res?.text.slice(0, 200)}`);
    return { c, callbackUrl: url };
  }

  /** Complete the callback and return the app's answer (no redirect followed). */
  async function signInAs(accountId: string, start?: string): Promise<{ c: HttpClient; res: TestResponse }> {
    const { c, callbackUrl } = await toCallback(accountId, start);
    return { c, res: await c.get(callbackUrl) };
  }

  async function assertRefused(c: HttpClient, res: TestResponse, reason: string, text: RegExp): Promise<void> {
    assert.equal(res.status, 401, res.text.slice(0, 300));
    assert.match(res.headers.get('content-type') ?? '', /html/);
    assert.match(res.text, /role="alert"/);
    assert.match(res.text, text);
    assert.match(res.text, /Sign in with Test IdP/, 'the page offers to start again');
    assert.equal((await c.get('/api/me')).status, 401, 'no session');
    assert.ok(logged(reason), `a log line names ${reason}`);
  }

  it('signs in through the provider with state, nonce and PKCE, creates the user, and reaches GET /api/me', async () => {
    idp.accounts.set('alice', { email: 'alice@corp.test', email_verified: true, given_name: 'Alice', family_name: 'Liddell', groups: ['mb-staff'] });
    idp.nextLogin = { accountId: 'alice' };
    const c = srv.client();
    const start = await c.get('/auth/login/sso?next=/api/me');
    assert.equal(start.status, 302);
    const authorize = new URL(start.headers.get('location')!);
    assert.equal(authorize.origin, idp.issuer);
    const q = authorize.searchParams;
    assert.equal(q.get('response_type'), 'code');
    assert.equal(q.get('client_id'), idp.clientId);
    assert.equal(q.get('redirect_uri'), `${srv.url}/auth/callback/`);
    assert.equal(q.get('scope'), 'openid email profile groups');
    assert.equal(q.get('code_challenge_method'), 'S256');
    assert.match(q.get('code_challenge') ?? '', /^[A-Za-z0-9_-]{43}$/);
    assert.match(q.get('state') ?? '', /^[0-9a-f]{40}$/);
    assert.match(q.get('nonce') ?? '', /^[0-9a-f]{40}$/);
    const preLoginSid = c.cookies.get('sid');
    assert.ok(preLoginSid, 'the flow state lives in the server-side session');

    const me = await c.get(start.headers.get('location')!, { followRedirects: true });
    assert.equal(me.status, 200, me.text.slice(0, 300));
    assert.equal(me.body.email, 'alice@corp.test');
    assert.equal(me.body.first_name, 'Alice');
    assert.equal(me.body.last_name, 'Liddell');
    assert.equal(me.body.is_staff, true);
    assert.equal(me.body.is_superuser, false);
    assert.notEqual(c.cookies.get('sid'), preLoginSid, 'the session id is regenerated at sign-in');
    // Nothing token-like reached the browser: only the session cookie pair on our host.
    assert.deepEqual([...c.cookies.keys()].sort(), ['sid', 'sid.sig']);

    const identities = await srv.app.services.identities.listForUser(me.body.user_id);
    assert.equal(identities.length, 1);
    assert.equal(identities[0]!.issuer, idp.issuer);
    assert.equal(identities[0]!.subject, 'alice');
    // A password-less account: the password form cannot sign it in.
    const pw = await srv.client().post('/auth/login', { email: 'alice@corp.test', password: DEFAULT_PASSWORD });
    assert.equal(pw.status, 401);
    // The server-side session holds no upstream token either.
    const stored = await srv.app.sessions.get(c.cookies.get('sid')!);
    assert.equal(stored?.method, 'sso');
    assert.doesNotMatch(JSON.stringify(stored), /eyJ|access_token|id_token|code_verifier/);
  });

  it('finds the same user on the next sign-in, in the same browser and in a new one', async () => {
    idp.accounts.set('carol', { email: 'carol@corp.test', given_name: 'Carol', family_name: 'C' });
    const first = await signInAs('carol');
    assert.equal(first.res.status, 302);
    const id = (await first.c.get('/api/me')).body.user_id;
    // Same browser: the provider remembers the person and skips its login prompt.
    const again = await first.c.get('/auth/login/sso?next=/api/me', { followRedirects: true });
    assert.equal(again.status, 200);
    assert.equal(again.body.user_id, id);
    const other = await signInAs('carol');
    assert.equal(other.res.status, 302);
    assert.equal((await other.c.get('/api/me')).body.user_id, id);
    assert.equal((await srv.app.services.identities.listForUser(id)).length, 1);
  });

  it('sets staff and superuser from the groups claim on every sign-in, on and off', async () => {
    idp.accounts.set('dave', { email: 'dave@corp.test', groups: [] });
    let r = await signInAs('dave');
    let me = (await r.c.get('/api/me')).body;
    assert.equal(me.is_staff, false);
    assert.equal(me.is_superuser, false);
    idp.accounts.set('dave', { email: 'dave@corp.test', groups: ['mb-staff', 'other'] });
    r = await signInAs('dave');
    me = (await r.c.get('/api/me')).body;
    assert.equal(me.is_staff, true);
    assert.equal(me.is_superuser, false);
    idp.accounts.set('dave', { email: 'dave@corp.test', groups: ['mb-admins'] });
    r = await signInAs('dave');
    me = (await r.c.get('/api/me')).body;
    assert.equal(me.is_staff, true, 'a superuser is staff');
    assert.equal(me.is_superuser, true);
    idp.accounts.set('dave', { email: 'dave@corp.test', groups: ['someone-else'] });
    r = await signInAs('dave');
    me = (await r.c.get('/api/me')).body;
    assert.equal(me.is_staff, false, 'removed from the group: no longer staff');
    assert.equal(me.is_superuser, false);
  });

  it('never links by email alone: a local account with the same email is not taken over', async () => {
    const local = await srv.createUser({ email: 'erin@corp.test' });
    idp.accounts.set('erin-at-idp', { email: 'erin@corp.test', email_verified: true });
    const { c, res } = await signInAs('erin-at-idp');
    await assertRefused(c, res, 'email_taken', /already exists/);
    assert.deepEqual(await srv.app.services.identities.listForUser(local.id), []);
  });

  it('refuses an account without a usable, verified email address', async () => {
    idp.accounts.set('noemail', { given_name: 'No', family_name: 'Mail' });
    let r = await signInAs('noemail');
    await assertRefused(r.c, r.res, 'missing_email', /email address/);
    idp.accounts.set('unverified', { email: 'unverified@corp.test', email_verified: false });
    r = await signInAs('unverified');
    await assertRefused(r.c, r.res, 'missing_email', /email address/);
    assert.equal(await srv.app.services.users.findByEmail('unverified@corp.test'), null);
  });

  it('refuses a disabled user and keeps refusing on later attempts', async () => {
    idp.accounts.set('frank', { email: 'frank@corp.test' });
    const first = await signInAs('frank');
    const me = (await first.c.get('/api/me')).body;
    await srv.app.services.users.setActive(me.user_id, false);
    assert.equal((await first.c.get('/api/me')).status, 401, 'existing sessions ended');
    const { c, res } = await signInAs('frank');
    await assertRefused(c, res, 'account_disabled', /disabled/);
  });

  it('refuses a state mismatch', async () => {
    idp.accounts.set('gina', { email: 'gina@corp.test' });
    const { c, callbackUrl } = await toCallback('gina');
    const u = new URL(callbackUrl);
    u.searchParams.set('state', 'f'.repeat(40));
    await assertRefused(c, await c.get(u.toString()), 'state_mismatch', /does not belong to a sign-in started here/);
    // The flow is single-use: the genuine answer is no longer accepted either.
    await assertRefused(c, await c.get(callbackUrl), 'missing_session', /No sign-in was in progress/);
    assert.equal(await srv.app.services.users.findByEmail('gina@corp.test'), null);
  });

  it('refuses a callback without the session that started the flow, and a replayed callback', async () => {
    idp.accounts.set('hank', { email: 'hank@corp.test' });
    const { c, callbackUrl } = await toCallback('hank');
    const stranger = srv.client();
    await assertRefused(stranger, await stranger.get(callbackUrl), 'missing_session', /No sign-in was in progress/);
    // The rightful browser still completes it once; a replay afterwards finds no flow.
    assert.equal((await c.get(callbackUrl)).status, 302);
    const replay = srv.client();
    for (const [k, v] of c.cookies) replay.cookies.set(k, v);
    const res = await replay.get(callbackUrl);
    assert.equal(res.status, 401);
    assert.match(res.text, /No sign-in was in progress/);
  });

  it('shows the provider’s error (e.g. the person declined) on the sign-in page', async () => {
    idp.nextLogin = { error: 'access_denied', description: 'The person declined' };
    const c = srv.client();
    const { res } = await browse(c, '/auth/login/sso?next=/api/me');
    await assertRefused(c, res!, 'provider_error', /did not complete the sign-in: access_denied \(The person declined\)/);
  });

  const tokenCases: Array<{ name: string; reason: string; tamper: (claims: Record<string, unknown>) => Record<string, unknown>; foreign?: boolean }> = [
    { name: 'an id_token signed by another key', reason: 'invalid_id_token', tamper: (c) => c, foreign: true },
    { name: 'a wrong issuer', reason: 'invalid_id_token', tamper: (c) => ({ ...c, iss: 'http://localhost:1/evil' }) },
    { name: 'a wrong audience', reason: 'invalid_id_token', tamper: (c) => ({ ...c, aud: 'another-client' }) },
    { name: 'a wrong nonce', reason: 'invalid_id_token', tamper: (c) => ({ ...c, nonce: 'not-the-nonce' }) },
    {
      name: 'an expired id_token',
      reason: 'invalid_id_token',
      tamper: (c) => ({ ...c, iat: Math.floor(Date.now() / 1000) - 7200, exp: Math.floor(Date.now() / 1000) - 3600 }),
    },
    { name: 'an id_token without sub', reason: 'invalid_id_token', tamper: ({ sub: _sub, ...c }) => c },
  ];
  for (const t of tokenCases) {
    it(`refuses ${t.name}`, async () => {
      const account = `tok-${tokenCases.indexOf(t)}`;
      idp.accounts.set(account, { email: `${account}@corp.test` });
      idp.tamper = t.tamper;
      idp.foreignKey = t.foreign ?? false;
      try {
        const { c, res } = await signInAs(account);
        await assertRefused(c, res, t.reason, /could not be verified/);
      } finally {
        idp.tamper = null;
        idp.foreignKey = false;
      }
      assert.equal(await srv.app.services.users.findByEmail(`${account}@corp.test`), null, 'no user created');
    });
  }

  it('ignores open-redirect attempts in next', async () => {
    idp.accounts.set('ivy', { email: 'ivy@corp.test' });
    for (const evil of ['//evil.example/x', 'https://evil.example/', '/\\evil.example', 'javascript:alert(1)', '%2F%2Fevil.example']) {
      const { res } = await signInAs('ivy', `/auth/login/sso?next=${encodeURIComponent(evil)}`);
      assert.equal(res.status, 302);
      assert.equal(res.headers.get('location'), '/home/', evil);
    }
    const { res } = await signInAs('ivy', `/auth/login/sso?next=${encodeURIComponent('/api/me?x=1#y')}`);
    assert.equal(res.headers.get('location'), '/api/me?x=1#y');
  });

  it('offers SSO on the sign-in page and keeps next through the flow', async () => {
    const page = await srv.client().get('/auth/login?next=/interaction/abc');
    assert.equal(page.status, 200);
    assert.match(page.text, /href="\/auth\/login\/sso\?next=%2Finteraction%2Fabc">Sign in with Test IdP</);
    idp.accounts.set('jack', { email: 'jack@corp.test' });
    const { res } = await signInAs('jack', '/auth/login/sso?next=%2Finteraction%2Fabc');
    assert.equal(res.headers.get('location'), '/interaction/abc');
  });

  it('GET /admin/login/ starts SSO towards /admin/; ?method=password shows the local form', async () => {
    const c = srv.client();
    const start = await c.get('/admin/login/');
    assert.equal(start.status, 302);
    assert.equal(new URL(start.headers.get('location')!).origin, idp.issuer);
    idp.accounts.set('kim', { email: 'kim@corp.test', groups: ['mb-staff'] });
    const { res } = await signInAs('kim', '/admin/login/');
    assert.equal(res.headers.get('location'), '/admin/');
    const local = await srv.client().get('/admin/login/?method=password');
    assert.equal(local.status, 200);
    assert.match(local.text, /name="next" value="\/admin\/"/);
    assert.match(local.text, /action="\/auth\/login"/);
    assert.match(local.text, /href="\/auth\/login\/sso\?next=%2Fadmin%2F"/);
    const staff = await srv.createUser({ staff: true });
    const form = await srv.client();
    const p = await form.get('/admin/login/?method=password');
    const token = /name="_csrf" value="([^"]+)"/.exec(p.text)![1]!;
    const done = await form.request('POST', '/auth/login', { form: { email: staff.email, password: DEFAULT_PASSWORD, next: '/admin/', _csrf: token } });
    assert.equal(done.status, 302);
    assert.equal(done.headers.get('location'), '/admin/');
    // Signed in already: straight on to a safe next, no new flow.
    const again = await form.get('/admin/login/?next=/admin/users/');
    assert.equal(again.status, 302);
    assert.equal(again.headers.get('location'), '/admin/users/');
    const evil = await form.get('/admin/login/?next=//evil.example/');
    assert.equal(evil.headers.get('location'), '/admin/');
  });

  it('signs out locally and offers RP-initiated logout at the provider', async () => {
    idp.accounts.set('lou', { email: 'lou@corp.test' });
    const { c } = await signInAs('lou');
    const out = await c.post('/auth/logout', {});
    assert.equal(out.status, 200);
    const end = new URL(out.body.end_session_url);
    assert.equal(`${end.origin}${end.pathname}`, `${idp.issuer}/session/end`);
    assert.equal(end.searchParams.get('client_id'), idp.clientId);
    assert.equal(end.searchParams.get('post_logout_redirect_uri'), `${srv.url}/home/`);
    assert.equal(end.searchParams.get('id_token_hint'), null, 'no token goes to the browser');
    assert.equal((await c.get('/api/me')).status, 401);
    // The provider accepts the request and asks the person to confirm.
    const confirm = await c.get(out.body.end_session_url);
    assert.equal(confirm.status, 200);
    assert.match(confirm.text, /logout|sign.?out/i);

    // The HTML form variant shows a page with the link.
    const r2 = await signInAs('lou');
    const p = await r2.c.get('/auth/login');
    assert.equal(p.status, 302, 'already signed in');
    const sessionCsrf = (await srv.app.sessions.get(r2.c.cookies.get('sid')!))!.csrf!;
    const page = await r2.c.request('POST', '/auth/logout', { form: { _csrf: sessionCsrf } });
    assert.equal(page.status, 200);
    assert.match(page.text, /Also sign out of Test IdP/);
    assert.match(page.text, new RegExp(`href="${idp.issuer}/session/end\\?client_id=`));
    assert.equal((await r2.c.get('/api/me')).status, 401);

    // A password session signs out as before.
    const { client } = await srv.signedIn();
    assert.equal((await client.post('/auth/logout', {})).status, 204);
  });

  it('completes an /o/authorize/ consent with the SSO session, and the token acts as that user', async () => {
    idp.accounts.set('olga', { email: 'olga@corp.test', given_name: 'Olga' });
    idp.nextLogin = { accountId: 'olga' };
    const app = await createOAuthClient(srv, { scopes: ['read:messages'] as never });
    const pkce = pkcePair();
    const q = new URLSearchParams({
      client_id: app.clientId,
      response_type: 'code',
      redirect_uri: TEST_REDIRECT_URI,
      scope: 'read:messages',
      state: 'xyz',
      code_challenge: pkce.challenge,
      code_challenge_method: 'S256',
    });
    const browser = srv.client();
    // Signed out: the authorization server sends the browser to the sign-in page, keeping the interaction.
    const signInPage = await browse(browser, `/o/authorize/?${q}`);
    assert.equal(new URL(signInPage.url).pathname, '/auth/login');
    const ssoHref = /href="(\/auth\/login\/sso\?next=[^"]+)"/.exec(signInPage.res!.text)?.[1]?.replace(/&amp;/g, '&');
    assert.ok(ssoHref, 'the sign-in page offers SSO with next');
    assert.match(decodeURIComponent(ssoHref), /next=\/o\/interaction\//);
    // Through the provider and back to the interaction, which now shows the consent page.
    const consent = await browse(browser, ssoHref);
    assert.equal(consent.res!.status, 200, consent.res!.text.slice(0, 300));
    assert.match(new URL(consent.url).pathname, /^\/o\/interaction\//);
    assert.match(consent.res!.text, /olga@corp\.test/);
    const csrf = /name="_csrf" value="([^"]+)"/.exec(consent.res!.text)![1]!;
    const action = /<form method="post" action="([^"]+)"/.exec(consent.res!.text)![1]!;
    const posted = await browser.request('POST', action, { form: { _csrf: csrf, decision: 'allow' } });
    const done = await browse(browser, new URL(posted.headers.get('location')!, consent.url).toString(), (u) => u.port === '9');
    const back = new URL(done.url);
    assert.equal(back.searchParams.get('state'), 'xyz');
    const code = back.searchParams.get('code');
    assert.ok(code, `a code comes back: ${done.url}`);
    const token = await postForm(
      srv,
      '/o/token/',
      { grant_type: 'authorization_code', code, redirect_uri: TEST_REDIRECT_URI, code_verifier: pkce.verifier },
      { authorization: basicAuth(app.clientId, app.clientSecret!) },
    );
    assert.equal(token.status, 200, JSON.stringify(token.body));
    const me = await srv.client().get('/api/me', { bearer: token.body.access_token });
    assert.equal(me.status, 200);
    assert.equal(me.body.email, 'olga@corp.test');
  });

  it('works with explicitly configured endpoints (no discovery)', async () => {
    const other = await startTestServer({
      port: explicitPort,
      env: idp.env({
        SSO_ISSUER: idp.issuer,
        SSO_AUTHORIZATION_URL: `${idp.issuer}/auth`,
        SSO_TOKEN_URL: `${idp.issuer}/token`,
        SSO_JWKS_URL: `${idp.issuer}/jwks`,
        SSO_USERINFO_URL: `${idp.issuer}/me`,
        SSO_TOKEN_AUTH_METHOD: 'client_secret_basic',
      }),
    });
    try {
      idp.accounts.set('nora', { email: 'nora@corp.test', groups: ['mb-staff'] });
      idp.nextLogin = { accountId: 'nora' };
      const c = other.client();
      const me = await c.get('/auth/login/sso?next=/api/me', { followRedirects: true });
      assert.equal(me.status, 200, me.text.slice(0, 300));
      assert.equal(me.body.email, 'nora@corp.test');
      assert.equal(me.body.is_staff, true);
      // Without an end-session endpoint, sign-out is local only.
      assert.equal((await c.post('/auth/logout', {})).status, 204);
    } finally {
      await other.close();
    }
  });

  it('refuses a provider whose discovery document names another issuer', async () => {
    // Same server, other spelling: the discovery document says http://localhost:…, not 127.0.0.1.
    const other = await startTestServer({ env: idp.env({ SSO_ISSUER: idp.issuer.replace('localhost', '127.0.0.1') }) });
    try {
      const res = await other.client().get('/auth/login/sso');
      assert.equal(res.status, 503);
      assert.match(res.text, /cannot be reached/);
    } finally {
      await other.close();
    }
  });

  it('answers malformed callbacks with the sign-in page, never a 500', async () => {
    const c = srv.client();
    for (const q of ['', '?code=x', '?state=a&state=b&code=c', `?code=x&state=${'a'.repeat(5000)}`, '?error=%00%ff', '?state[x]=1']) {
      const res = await c.get(`/auth/callback/${q}`);
      assert.equal(res.status, 401, q);
      assert.match(res.text, /No sign-in was in progress/);
    }
    // With a flow in progress, junk still ends on the page.
    idp.accounts.set('max', { email: 'max@corp.test' });
    const { c: c2, callbackUrl } = await toCallback('max');
    const u = new URL(callbackUrl);
    u.searchParams.set('code', 'not-a-real-code');
    const res = await c2.get(u.toString());
    assert.equal(res.status, 401);
    assert.match(res.text, /did not complete the sign-in/);
    assert.ok(logged('provider_error'));
  });
});

describe('SSO when the provider cannot be reached', () => {
  let srv: TestServer;
  before(async () => {
    const dead = await freePort();
    srv = await startTestServer({ env: { SSO_ISSUER: `http://localhost:${dead}`, SSO_CLIENT_ID: 'mb', SSO_CLIENT_SECRET: 'secret' } });
  });
  after(() => srv?.close());

  it('ends on the sign-in page with 503 and the reason', async () => {
    const c = srv.client();
    const res = await c.get('/auth/login/sso?next=/api/me');
    assert.equal(res.status, 503);
    assert.match(res.text, /cannot be reached/);
    assert.match(res.text, /name="next" value="\/api\/me"/);
    const admin = await c.get('/admin/login/');
    assert.equal(admin.status, 503);
    assert.match(admin.text, /name="next" value="\/admin\/"/);
  });
});

describe('without SSO configured', () => {
  let srv: TestServer;
  before(async () => {
    srv = await startTestServer();
  });
  after(() => srv?.close());

  it('offers only local sign-in; GET /admin/login/ shows it with next=/admin/', async () => {
    const c = srv.client();
    const page = await c.get('/auth/login');
    assert.equal(page.status, 200);
    assert.doesNotMatch(page.text, /\/auth\/login\/sso/);
    const admin = await c.get('/admin/login/');
    assert.equal(admin.status, 200);
    assert.match(admin.text, /name="next" value="\/admin\/"/);
    assert.doesNotMatch(admin.text, /\/auth\/login\/sso/);
    const deeper = await c.get('/admin/login/?next=/admin/users/');
    assert.match(deeper.text, /name="next" value="\/admin\/users\/"/);
    const evil = await c.get('/admin/login/?next=https://evil.example/');
    assert.match(evil.text, /name="next" value="\/admin\/"/);
    const sso = await c.get('/auth/login/sso');
    assert.equal(sso.status, 404);
    assert.equal(sso.body.error.code, 'sso_not_configured');
    const cb = await c.get('/auth/callback/?code=x&state=y');
    assert.equal(cb.status, 404);
    assert.equal(cb.body.error.code, 'sso_not_configured');
  });
});

describe('SSO configuration', () => {
  const base = { SSO_ISSUER: 'https://id.example.test', SSO_CLIENT_ID: 'mb', SSO_CLIENT_SECRET: 's3cret' };

  it('is off without SSO_ISSUER and on with issuer, client id and secret', () => {
    assert.equal(buildConfig({}).sso, null);
    const sso = buildConfig({ ...base, PUBLIC_URL: 'https://chat.example.test', SSO_SCOPES: 'openid,email groups' }).sso!;
    assert.deepEqual(sso.scopes, ['openid', 'email', 'groups']);
    assert.equal(sso.redirectUri, 'https://chat.example.test/auth/callback/');
    assert.equal(sso.claims.staff, null);
  });

  it('names the missing or bad variable', () => {
    assert.throws(() => buildConfig({ SSO_ISSUER: base.SSO_ISSUER, SSO_CLIENT_SECRET: 'x' }), (e: Error) => e instanceof ConfigError && /SSO_CLIENT_ID/.test(e.message));
    assert.throws(() => buildConfig({ SSO_ISSUER: base.SSO_ISSUER, SSO_CLIENT_ID: 'x' }), /SSO_CLIENT_SECRET/);
    assert.throws(() => buildConfig({ SSO_CLIENT_ID: 'x' }), /SSO_ISSUER/);
    assert.throws(() => buildConfig({ ...base, SSO_SCOPES: 'email profile' }), /SSO_SCOPES: must include openid/);
    assert.throws(() => buildConfig({ ...base, SSO_ISSUER: 'not a url' }), /SSO_ISSUER/);
    assert.throws(() => buildConfig({ ...base, SSO_TOKEN_AUTH_METHOD: 'none' }), /SSO_TOKEN_AUTH_METHOD/);
    assert.throws(
      () => buildConfig({ ...base, SSO_ISSUER: 'http://id.example.test', NODE_ENV: 'production', SESSION_KEYS: 'k'.repeat(40) }),
      /SSO_ISSUER: must be https in production/,
    );
  });
});
