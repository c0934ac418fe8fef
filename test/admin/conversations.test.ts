import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Actor, User } from '../../src/domain/users/user.types.ts';
import { adminClient, type AdminClient } from '../support/admin.ts';
import { startTestServer, type TestServer } from '../support/server.ts';

const actorOf = (user: User): Actor => ({ user, via: 'session', scopes: null });

describe('admin conversations (moderation)', () => {
  let srv: TestServer;
  let staff: AdminClient;
  let plain: AdminClient;

  before(async () => {
    srv = await startTestServer();
    staff = await adminClient(srv, { staff: true });
    plain = await adminClient(srv, { staff: false });
  });
  after(() => srv.close());

  async function conversation(title = `Team ${Math.random().toString(36).slice(2, 7)}`, messages = 2) {
    const a = await srv.createUser();
    const b = await srv.createUser();
    const { conversation: c } = await srv.app.services.conversations.create(actorOf(a), { participants: [b.id], title });
    const sent = [];
    for (let i = 0; i < messages; i++) sent.push((await srv.app.services.messages.send(actorOf(i % 2 ? b : a), { conversationId: c.id, body: `hello ${i}` })).message);
    return { c, a, b, sent };
  }

  it('guards every page and action: anonymous → sign-in, non-staff → 403, no CSRF token → 403', async () => {
    const { c, b, sent } = await conversation();
    const pages = ['/admin/conversations/', '/admin/conversations/?q=team&sort=created', `/admin/conversations/${c.id}/`, `/admin/conversations/${c.id}/?before=2`];
    const actions: Array<[string, Record<string, string>]> = [
      [`/admin/conversations/${c.id}/participants/`, { email: plain.user.email }],
      [`/admin/conversations/${c.id}/participants/${b.id}/remove/`, { confirm: 'yes' }],
      [`/admin/conversations/${c.id}/messages/${sent[0]!.id}/delete/`, { confirm: 'yes' }],
    ];
    for (const p of pages) {
      assert.equal((await srv.client().get(p)).status, 303, p);
      assert.equal((await plain.client.get(p)).status, 403, p);
      assert.equal((await staff.client.get(p)).status, 200, p);
    }
    for (const [p, form] of actions) {
      assert.equal((await srv.client().request('POST', p, { form })).status, 303, p);
      assert.equal((await plain.post(p, form)).status, 403, p);
      const noToken = await staff.post(p, form, { noCsrf: true });
      assert.equal(noToken.status, 403, p);
      assert.match(noToken.text, /data-code="csrf_token"/);
    }
    const still = await srv.app.services.moderation.get(c.id);
    assert.equal(still.members.length, 2);
    assert.equal((await staff.client.get('/admin/conversations/not-a-uuid/')).status, 404);
    assert.equal((await staff.client.get('/admin/conversations/00000000-0000-4000-8000-000000000000/')).status, 404);
  });

  it('lists and searches conversations by title and participant email, with paging', async () => {
    const { c, a } = await conversation('Weekend plans');
    const list = await staff.client.get('/admin/conversations/?q=weekend');
    assert.match(list.text, /Weekend plans/);
    const byEmail = await staff.client.get(`/admin/conversations/?q=${encodeURIComponent(a.email)}`);
    assert.match(byEmail.text, new RegExp(c.id));
    const byMember = await staff.client.get(`/admin/conversations/?member=${a.id}`);
    assert.match(byMember.text, /Weekend plans/);
    assert.match((await staff.client.get('/admin/conversations/?q=nothing-like-this')).text, /No conversations match/);
    assert.equal((await staff.client.get('/admin/conversations/?sort=bogus&page=0')).status, 200);
  });

  it('shows participants and pages messages; adds and removes participants; deletes a message after confirmation', async () => {
    const { c, b, sent } = await conversation('Moderated', 55);
    const page = await staff.client.get(`/admin/conversations/${c.id}/`);
    assert.match(page.text, /hello 54/);
    assert.doesNotMatch(page.text, /hello 0</);
    const older = /href="([^"]+\?before=\d+)" rel="prev"/.exec(page.text)?.[1];
    assert.ok(older);
    assert.match((await staff.client.get(older!.replace(/&amp;/g, '&'))).text, /hello 0</);

    const unknown = await staff.post(`/admin/conversations/${c.id}/participants/`, { email: 'nobody@example.test' });
    assert.equal(unknown.status, 400);
    assert.match(unknown.text, /id="email-error"[^>]*>no active user/);
    const dup = await staff.post(`/admin/conversations/${c.id}/participants/`, { email: b.email });
    assert.equal(dup.status, 400);
    assert.match(dup.text, /already a participant/);
    const newcomer = await srv.createUser();
    assert.equal((await staff.post(`/admin/conversations/${c.id}/participants/`, { email: newcomer.email })).status, 303);
    assert.ok((await srv.app.services.moderation.get(c.id)).members.some((m) => m.userId === newcomer.id));

    const ask = await staff.post(`/admin/conversations/${c.id}/participants/${newcomer.id}/remove/`, {});
    assert.equal(ask.status, 200);
    assert.match(ask.text, /Yes, remove/);
    assert.ok((await srv.app.services.moderation.get(c.id)).members.some((m) => m.userId === newcomer.id));
    assert.equal((await staff.post(`/admin/conversations/${c.id}/participants/${newcomer.id}/remove/`, { confirm: 'yes' })).status, 303);
    assert.ok(!(await srv.app.services.moderation.get(c.id)).members.some((m) => m.userId === newcomer.id));
    assert.equal((await staff.post(`/admin/conversations/${c.id}/participants/${newcomer.id}/remove/`, { confirm: 'yes' })).status, 404);

    const target = sent[54]!;
    assert.match((await staff.post(`/admin/conversations/${c.id}/messages/${target.id}/delete/`, {})).text, /Delete this message\?/);
    assert.equal((await srv.app.services.moderation.message(target.id))!.deletedAt, null);
    assert.equal((await staff.post(`/admin/conversations/${c.id}/messages/${target.id}/delete/`, { confirm: 'yes' })).status, 303);
    const gone = (await srv.app.services.moderation.message(target.id))!;
    assert.ok(gone.deletedAt);
    assert.equal(gone.body, null);
    const other = await conversation();
    assert.equal((await staff.post(`/admin/conversations/${c.id}/messages/${other.sent[0]!.id}/delete/`, { confirm: 'yes' })).status, 404, 'a message of another conversation');
    const log = await srv.app.services.audit.list({ q: '', target_type: '', target_id: '', sort: '-at', page: 1 });
    assert.deepEqual(log.entries.slice(0, 3).map((e) => e.action), ['message.delete', 'conversation.remove_participant', 'conversation.add_participant']);
  });

  it('counts conversations and messages today on the dashboard', async () => {
    await conversation('Counted', 3);
    const dash = await staff.client.get('/admin/');
    const n = (id: string) => Number(new RegExp(`data-stat="${id}"><div class="n">(?:<a[^>]*>)?(\\d+)<`).exec(dash.text)?.[1]);
    assert.equal(n('conversations'), await srv.app.services.moderation.countConversations());
    assert.ok(n('messages-today') >= 3);
  });
});
