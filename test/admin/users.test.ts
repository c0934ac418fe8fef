import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { adminClient, csrfFrom, type AdminClient } from '../support/admin.ts';
import { DEFAULT_PASSWORD, startTestServer, type TestServer } from '../support/server.ts';

describe('admin shell, users and audit log', () => {
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

  async function pages(): Promise<string[]> {
    const target = await srv.createUser();
    return ['/admin/', '/admin/users/', '/admin/users/?q=x&active=yes&staff=no&sort=email&page=1', '/admin/users/new/', `/admin/users/${target.id}/`, `/admin/users/${target.id}/deactivate/`, '/admin/audit/'];
  }

  async function actions(): Promise<Array<[string, Record<string, string>]>> {
    const target = await srv.createUser();
    return [
      ['/admin/users/new/', { email: `x-${Date.now()}@example.test` }],
      [`/admin/users/${target.id}/`, { first_name: 'Changed', is_active: 'true' }],
      [`/admin/users/${target.id}/password/`, { password: 'a brand new passphrase' }],
      [`/admin/users/${target.id}/deactivate/`, { confirm: 'yes' }],
      [`/admin/users/${target.id}/activate/`, {}],
    ];
  }

  it('sends anonymous visitors of every page and action to the admin sign-in with next', async () => {
    const anon = srv.client();
    for (const p of await pages()) {
      const res = await anon.get(p);
      assert.equal(res.status, 303, p);
      assert.equal(res.headers.get('location'), `/admin/login/?next=${encodeURIComponent(p)}`, p);
    }
    for (const [p, form] of await actions()) {
      const res = await anon.request('POST', p, { form });
      assert.equal(res.status, 303, p);
      assert.equal(res.headers.get('location'), '/admin/login/?next=%2Fadmin%2F', p);
    }
  });

  it('shows the admin sign-in page at /admin/login/, keeping a same-origin next only', async () => {
    const res = await srv.client().get('/admin/login/?next=/admin/users/');
    assert.equal(res.status, 200);
    assert.match(res.text, /name="next" value="\/admin\/users\/"/);
    const evil = await srv.client().get('/admin/login/?next=//evil.example/');
    assert.match(evil.text, /name="next" value="\/admin\/"/);
  });

  it('signs in through the form and lands on the admin', async () => {
    const user = await srv.createUser({ staff: true });
    const c = srv.client();
    const start = await c.get('/admin/', { followRedirects: true });
    assert.equal(start.status, 200);
    assert.match(start.text, /name="next" value="\/admin\/"/);
    const res = await c.request('POST', '/auth/login', { form: { email: user.email, password: DEFAULT_PASSWORD, next: '/admin/', _csrf: csrfFrom(start.text) } });
    assert.equal(res.status, 302);
    assert.equal(res.headers.get('location'), '/admin/');
    const dash = await c.get('/admin/');
    assert.equal(dash.status, 200);
    assert.match(dash.text, /MessageBridge administration/);
  });

  it('refuses signed-in non-staff on every page and action with 403, changing nothing', async () => {
    for (const p of await pages()) {
      const res = await plain.client.get(p);
      assert.equal(res.status, 403, p);
      assert.match(res.text, /data-code="staff_only"/);
    }
    for (const [p, form] of await actions()) {
      const res = await plain.post(p, form);
      assert.equal(res.status, 403, p);
    }
    const target = await srv.createUser();
    await plain.post(`/admin/users/${target.id}/deactivate/`, { confirm: 'yes' });
    assert.equal((await srv.app.services.users.findById(target.id))!.isActive, true);
  });

  it('refuses every admin POST without the session form token (403 csrf_token)', async () => {
    for (const [p, form] of await actions()) {
      const missing = await staff.post(p, form, { noCsrf: true });
      assert.equal(missing.status, 403, p);
      assert.match(missing.text, /data-code="csrf_token"/, p);
      const forged = await staff.post(p, { ...form, _csrf: 'x'.repeat(43) });
      assert.equal(forged.status, 403, p);
    }
    // A token of another session is no good either.
    const target = await srv.createUser();
    const res = await staff.post(`/admin/users/${target.id}/deactivate/`, { confirm: 'yes', _csrf: su.csrf });
    assert.equal(res.status, 403);
    assert.equal((await srv.app.services.users.findById(target.id))!.isActive, true);
  });

  it('renders every page for staff, not frameable and not cached', async () => {
    for (const p of await pages()) {
      const res = await staff.client.get(p);
      assert.equal(res.status, 200, p);
      assert.match(res.headers.get('content-type') ?? '', /text\/html/);
      assert.equal(res.headers.get('x-frame-options'), 'DENY');
      assert.match(res.headers.get('content-security-policy') ?? '', /frame-ancestors 'none'/);
      assert.equal(res.headers.get('cache-control'), 'no-store');
      assert.match(res.text, /name="_csrf"/);
    }
    const missing = await staff.client.get('/admin/users/not-a-uuid/');
    assert.equal(missing.status, 404);
    const unknown = await staff.client.get('/admin/users/00000000-0000-4000-8000-000000000000/');
    assert.equal(unknown.status, 404);
    assert.equal((await staff.client.get('/admin/no-such-page/')).status, 404);
  });

  it('lists users with search on email, name and phone, filters, sorting and bounded paging', async () => {
    const tag = `zq${Date.now().toString(36)}`;
    for (let i = 0; i < 52; i++) await srv.createUser({ email: `${tag}-${String(i).padStart(2, '0')}@example.test` });
    const named = await srv.createUser({ firstName: `Quentin${tag}` });
    const staffer = await srv.createUser({ email: `${tag}-staff@example.test`, staff: true });
    await srv.app.services.users.updateProfile(named.id, { phone_number: '+14155550199' });

    const page1 = await staff.client.get(`/admin/users/?q=${tag}&sort=email`);
    assert.equal(page1.status, 200);
    assert.match(page1.text, new RegExp(`${tag}-00@`));
    assert.doesNotMatch(page1.text, new RegExp(`${tag}-51@`));
    assert.match(page1.text, /rel="next"/);
    const page2 = await staff.client.get(`/admin/users/?q=${tag}&sort=email&page=2`);
    assert.match(page2.text, new RegExp(`${tag}-51@`));
    assert.match(page2.text, /rel="prev"/);
    const desc = await staff.client.get(`/admin/users/?q=${tag}&sort=-email`);
    assert.ok(desc.text.indexOf(`${tag}-staff@`) < desc.text.indexOf(`${tag}-51@`));

    assert.match((await staff.client.get(`/admin/users/?q=quentin${tag}`)).text, new RegExp(named.email));
    assert.match((await staff.client.get('/admin/users/?q=415-555-0199')).text, new RegExp(named.email));
    const filtered = await staff.client.get(`/admin/users/?q=${tag}&staff=yes`);
    assert.match(filtered.text, new RegExp(staffer.email));
    assert.doesNotMatch(filtered.text, new RegExp(`${tag}-00@`));
    // LIKE wildcards are literal; absurd sort and page values fall back to the defaults.
    assert.doesNotMatch((await staff.client.get('/admin/users/?q=%25')).text, new RegExp(`${tag}-00@`));
    assert.equal((await staff.client.get('/admin/users/?sort=password_hash&page=-4&active=maybe')).status, 200);
    assert.equal((await staff.client.get('/admin/users/?page=999999')).status, 200);
  });

  it('creates a user, showing field errors next to the fields for bad input and duplicates', async () => {
    const bad = await staff.post('/admin/users/new/', { email: 'not-an-email', phone_number: '12', password: 'short' });
    assert.equal(bad.status, 400);
    assert.match(bad.text, /id="email-error"[^>]*>must be a valid email address/);
    assert.match(bad.text, /id="phone_number-error"/);
    assert.match(bad.text, /value="not-an-email"/, 'the form keeps what was typed');

    const email = `new-${Date.now()}@example.test`;
    const ok = await staff.post('/admin/users/new/', { email, first_name: 'Nina', last_name: 'New', password: 'a long enough passphrase', is_staff: 'false' });
    assert.equal(ok.status, 303);
    const created = await srv.app.services.users.findByEmail(email);
    assert.ok(created);
    assert.equal(ok.headers.get('location'), `/admin/users/${created.id}/`);
    assert.equal(created.firstName, 'Nina');
    assert.ok(await srv.app.services.users.authenticate(email, 'a long enough passphrase'));

    const dup = await staff.post('/admin/users/new/', { email: email.toUpperCase() });
    assert.equal(dup.status, 400);
    assert.match(dup.text, /id="email-error"[^>]*>already in use/);
    const weak = await staff.post('/admin/users/new/', { email: `w-${email}`, password: 'password' });
    assert.equal(weak.status, 400);
    assert.match(weak.text, /id="password-error"/);
    // Only a superuser may create a superuser.
    const escalate = await staff.post('/admin/users/new/', { email: `su-${email}`, is_superuser: 'true' });
    assert.equal(escalate.status, 403);
    assert.equal(await srv.app.services.users.findByEmail(`su-${email}`), null);
    const bySu = await su.post('/admin/users/new/', { email: `su2-${email}`, is_superuser: 'true' });
    assert.equal(bySu.status, 303);
    assert.equal((await srv.app.services.users.findByEmail(`su2-${email}`))!.isStaff, true);
  });

  it('edits names, phone and flags; the superuser flag only for superusers; nobody locks themselves out', async () => {
    const target = await srv.createUser();
    const ok = await staff.post(`/admin/users/${target.id}/`, { first_name: 'Edited', last_name: 'Person', display_name: '', phone_number: '+44 20 7946 0000', is_active: 'true', is_staff: 'true' });
    assert.equal(ok.status, 303);
    let u = (await srv.app.services.users.findById(target.id))!;
    assert.deepEqual([u.firstName, u.displayName, u.phoneNumber, u.isStaff, u.isSuperuser], ['Edited', 'Edited Person', '+442079460000', true, false]);

    const bad = await staff.post(`/admin/users/${target.id}/`, { first_name: 'x'.repeat(151), phone_number: 'call me', is_active: 'true' });
    assert.equal(bad.status, 400);
    assert.match(bad.text, /id="first_name-error"/);
    assert.match(bad.text, /id="phone_number-error"/);

    const escalate = await staff.post(`/admin/users/${target.id}/`, { is_active: 'true', is_staff: 'true', is_superuser: 'true' });
    assert.equal(escalate.status, 403);
    assert.match(escalate.text, /data-code="superuser_only"/);
    assert.equal((await srv.app.services.users.findById(target.id))!.isSuperuser, false);
    assert.doesNotMatch((await staff.client.get(`/admin/users/${target.id}/`)).text, /name="is_superuser"/);

    const promote = await su.post(`/admin/users/${target.id}/`, { is_active: 'true', is_staff: 'false', is_superuser: 'true' });
    assert.equal(promote.status, 303);
    u = (await srv.app.services.users.findById(target.id))!;
    assert.equal(u.isSuperuser, true);
    assert.equal(u.isStaff, true, 'a superuser is always staff');
    // Staff cannot touch a superuser's account.
    assert.equal((await staff.post(`/admin/users/${target.id}/`, { is_active: 'false', is_staff: 'true' })).status, 403);

    const self = await su.post(`/admin/users/${su.user.id}/`, { is_active: 'false', is_staff: 'false', is_superuser: 'false' });
    assert.equal(self.status, 400);
    assert.match(self.text, /id="is_active-error"[^>]*>You cannot deactivate your own account/);
    assert.match(self.text, /id="is_staff-error"/);
    assert.equal((await srv.app.services.users.findById(su.user.id))!.isActive, true);

    const taken = await srv.createUser();
    await srv.app.services.users.updateProfile(taken.id, { phone_number: '+14155550123' });
    const dup = await staff.post(`/admin/users/${target.id}/`, { phone_number: '+14155550123', is_active: 'true', is_staff: 'true' });
    assert.equal(dup.status, 403, 'target is a superuser now: staff are refused before the duplicate check');
    const other = await srv.createUser();
    const dup2 = await staff.post(`/admin/users/${other.id}/`, { phone_number: '+14155550123', is_active: 'true' });
    assert.equal(dup2.status, 409);
    assert.match(dup2.text, /id="phone_number-error"[^>]*>already in use/);
  });

  it('resets a password (superusers only): weak passwords are field errors, sessions of the user end', async () => {
    const target = await srv.createUser();
    const victim = await srv.signedIn(target);
    assert.equal((await staff.post(`/admin/users/${target.id}/password/`, { password: 'a brand new passphrase' })).status, 403);
    assert.doesNotMatch((await staff.client.get(`/admin/users/${target.id}/`)).text, /Reset password/);
    const weak = await su.post(`/admin/users/${target.id}/password/`, { password: 'short' });
    assert.equal(weak.status, 400);
    assert.match(weak.text, /id="password-error"/);
    const empty = await su.post(`/admin/users/${target.id}/password/`, {});
    assert.equal(empty.status, 400);
    const ok = await su.post(`/admin/users/${target.id}/password/`, { password: 'a brand new passphrase' });
    assert.equal(ok.status, 303);
    assert.equal((await victim.client.get('/api/me')).status, 401, 'the user was signed out');
    assert.ok(await srv.app.services.users.authenticate(target.email, 'a brand new passphrase'));
    const entry = (await srv.app.services.audit.list({ q: '', target_type: 'user', target_id: target.id, sort: '-at', page: 1 })).entries[0]!;
    assert.equal(entry.action, 'user.password_reset');
    assert.doesNotMatch(JSON.stringify(entry), /brand new/);
  });

  it('deactivates only after confirmation; sessions end at once and the audit log says who did it', async () => {
    const target = await srv.createUser();
    const victim = await srv.signedIn(target);
    const confirm = await staff.client.get(`/admin/users/${target.id}/deactivate/`);
    assert.equal(confirm.status, 200);
    assert.match(confirm.text, /name="confirm" value="yes"/);
    const unconfirmed = await staff.post(`/admin/users/${target.id}/deactivate/`, {});
    assert.equal(unconfirmed.status, 200);
    assert.match(unconfirmed.text, /Yes, deactivate/);
    assert.equal((await srv.app.services.users.findById(target.id))!.isActive, true);
    assert.equal((await victim.client.get('/api/me')).status, 200);

    const done = await staff.post(`/admin/users/${target.id}/deactivate/`, { confirm: 'yes' });
    assert.equal(done.status, 303);
    assert.equal((await srv.app.services.users.findById(target.id))!.isActive, false);
    assert.equal((await victim.client.get('/api/me')).status, 401);
    const page = await staff.client.get(done.headers.get('location')!);
    assert.match(page.text, /deactivated; their sessions, sockets and tokens have ended/);

    const log = await staff.client.get(`/admin/audit/?target_type=user&target_id=${target.id}`);
    assert.match(log.text, /user\.deactivate/);
    assert.match(log.text, new RegExp(staff.user.email));

    assert.equal((await staff.post(`/admin/users/${target.id}/activate/`)).status, 303);
    assert.equal((await srv.app.services.users.findById(target.id))!.isActive, true);
    // Deactivating oneself is refused.
    const selfDeact = await staff.post(`/admin/users/${staff.user.id}/deactivate/`, { confirm: 'yes' });
    assert.equal(selfDeact.status, 303);
    assert.equal((await srv.app.services.users.findById(staff.user.id))!.isActive, true);
  });

  it('shows the audit log with search, filters and sort, and the dashboard counts', async () => {
    const target = await srv.createUser();
    await staff.post(`/admin/users/${target.id}/`, { first_name: 'Audited', is_active: 'true' });
    const all = await staff.client.get('/admin/audit/');
    assert.equal(all.status, 200);
    assert.match(all.text, /user\.update/);
    const searched = await staff.client.get(`/admin/audit/?q=${encodeURIComponent(target.email)}`);
    assert.match(searched.text, /changed first_name/);
    const none = await staff.client.get('/admin/audit/?q=no-such-thing-at-all');
    assert.match(none.text, /No entries match/);
    assert.equal((await staff.client.get('/admin/audit/?sort=action&target_type=device')).status, 200);

    const dash = await staff.client.get('/admin/');
    const users = /data-stat="users"><div class="n"><a[^>]*>(\d+)</.exec(dash.text)?.[1];
    assert.equal(Number(users), await srv.app.services.users.count());
    assert.match(dash.text, /data-stat="changes-today"/);
    assert.match(dash.text, /Recent changes/);
  });

  it('escapes user-controlled text in every page', async () => {
    const target = await srv.createUser({ firstName: '<script>alert(1)</script>' });
    const list = await staff.client.get('/admin/users/?q=' + encodeURIComponent('<script>'));
    assert.doesNotMatch(list.text, /<script>alert/);
    assert.match(list.text, /&lt;script&gt;/);
    const detail = await staff.client.get(`/admin/users/${target.id}/`);
    assert.doesNotMatch(detail.text, /<script>alert/);
  });

  it('never copies secret-looking values into the audit log', async () => {
    await srv.app.services.audit.record({
      actor: null,
      action: 'test.secret',
      targetType: 'test',
      details: { password: 'hunter2-hunter2', client_secret: 's3cr3t', pin: '1234', pinChanged: true, name: 'kept' },
    });
    const [e] = (await srv.app.services.audit.list({ q: 'test.secret', target_type: '', target_id: '', sort: '-at', page: 1 })).entries;
    assert.deepEqual(e!.details, { password: '[redacted]', client_secret: '[redacted]', pin: '[redacted]', pinChanged: true, name: 'kept' });
  });
});
