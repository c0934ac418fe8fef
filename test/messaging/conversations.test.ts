import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { AppEvents } from '../../src/infra/events.ts';
import { startTestServer, type TestServer } from '../support/server.ts';

describe('conversations over REST (browser session)', () => {
  let srv: TestServer;
  before(async () => {
    srv = await startTestServer();
  });
  after(() => srv.close());

  const user = () => srv.createUser({ password: null });

  it('creates with the creator always added; a 1:1 pair is returned, groups are not deduplicated', async () => {
    const { client, user: me } = await srv.signedIn();
    const bob = await user();
    const carol = await user();
    const c1 = await client.post('/api/conversations/', { participants: [bob.id, bob.id] });
    assert.equal(c1.status, 201);
    assert.deepEqual(c1.body.participants.sort(), [me.id, bob.id].sort());
    assert.equal(c1.body.is_direct, true);
    assert.deepEqual(c1.body.owners, [me.id]);
    assert.equal(c1.body.created_by, me.id);
    // The same pair, started from either side, is the same conversation.
    const c2 = await client.post('/api/conversations/', { participants: [me.id, bob.id] });
    assert.deepEqual([c2.status, c2.body.conversation_id], [200, c1.body.conversation_id]);
    const fromBob = await srv.app.services.conversations.create({ user: bob, via: 'session', scopes: null }, { participants: [me.id] });
    assert.deepEqual([fromBob.created, fromBob.conversation.id], [false, c1.body.conversation_id]);
    // A titled conversation or a group is always new.
    const g1 = await client.post('/api/conversations/', { participants: [bob.id, carol.id], title: 'trio' });
    const g2 = await client.post('/api/conversations/', { participants: [bob.id, carol.id] });
    assert.deepEqual([g1.status, g2.status], [201, 201]);
    assert.notEqual(g1.body.conversation_id, g2.body.conversation_id);
    assert.equal(g1.body.participants_count, 3);
    assert.equal(g1.body.title, 'trio');
    const self = await client.post('/api/conversations/', { participants: [me.id] });
    assert.deepEqual([self.status, self.body.participants_count, self.body.is_direct], [201, 1, false]);
  });

  it('deduplicates a 1:1 pair under concurrent creates', async () => {
    const { client } = await srv.signedIn();
    const bob = await user();
    const res = await Promise.all(Array.from({ length: 8 }, () => client.post('/api/conversations/', { participants: [bob.id] })));
    assert.equal(new Set(res.map((r) => r.body.conversation_id)).size, 1);
    assert.equal(res.filter((r) => r.status === 201).length, 1);
  });

  it('rejects bad input with 400 and field paths', async () => {
    const { client } = await srv.signedIn();
    const bob = await user();
    const ghost = '6a1f2b3c-4d5e-4f60-8a1b-2c3d4e5f6a7b';
    const cases: Array<[unknown, string]> = [
      [{}, 'participants'],
      [{ participants: [] }, 'participants'],
      [{ participants: 'everyone' }, 'participants'],
      [{ participants: [1, 2] }, 'participants.0'],
      [{ participants: ['not-a-uuid'] }, 'participants.0'],
      [{ participants: [bob.id, ghost] }, 'participants.1'],
      [{ participants: [bob.id], title: 'x'.repeat(201) }, 'title'],
      [{ participants: [bob.id], title: 7 }, 'title'],
      [{ participants: Array.from({ length: 257 }, () => bob.id) }, 'participants'],
    ];
    for (const [body, path] of cases) {
      const res = await client.post('/api/conversations/', body);
      assert.equal(res.status, 400, JSON.stringify(body).slice(0, 80));
      assert.equal(res.body.error.code, 'validation_failed');
      assert.ok(res.body.error.details.fields.some((f: { path: string }) => f.path === path), `${path}: ${JSON.stringify(res.body.error.details.fields)}`);
    }
    const inactive = await user();
    await srv.app.services.users.setActive(inactive.id, false);
    const res = await client.post('/api/conversations/', { participants: [inactive.id] });
    assert.equal(res.status, 400, 'a deactivated user cannot be added');
    assert.equal((await client.get('/api/conversations/')).body.count, 0, 'nothing was created');
  });

  it('lists my conversations by latest activity, paged; others see 404', async () => {
    const { client, user: me } = await srv.signedIn();
    const stranger = await srv.signedIn();
    const ids: string[] = [];
    for (let i = 0; i < 23; i++) {
      const res = await client.post('/api/conversations/', { participants: [me.id], title: `c${i}` });
      ids.push(res.body.conversation_id);
    }
    // Activity moves c5 to the top.
    assert.equal((await client.post(`/api/conversations/${ids[5]}/messages/`, { message_body: 'bump' })).status, 201);
    const p1 = await client.get('/api/conversations/');
    assert.equal(p1.body.count, 23);
    assert.equal(p1.body.results.length, 20);
    assert.equal(p1.body.results[0].conversation_id, ids[5]);
    assert.equal(p1.body.results[0].last_message_preview, 'bump');
    assert.equal(p1.body.results[1].conversation_id, ids[22]);
    const p2 = await client.get('/api/conversations/?page=2');
    assert.equal(p2.body.results.length, 3);
    assert.equal(p2.body.next, null);
    assert.equal((await client.get('/api/conversations/?page=3')).status, 404);
    assert.equal((await client.get('/api/conversations/?page_size=500')).status, 400);
    assert.equal((await stranger.client.get('/api/conversations/')).body.count, 0);
    assert.equal((await stranger.client.get(`/api/conversations/${ids[0]}/`)).status, 404);
    assert.equal((await stranger.client.get('/api/conversations/not-an-id/')).status, 404);
  });

  it('truncates the last message preview to 50 characters', async () => {
    const { client, user: me } = await srv.signedIn();
    const c = await client.post('/api/conversations/', { participants: [me.id], title: 'long' });
    const body = 'a'.repeat(60);
    await client.post(`/api/conversations/${c.body.conversation_id}/messages/`, { message_body: body });
    const res = await client.get(`/api/conversations/${c.body.conversation_id}/`);
    assert.equal(res.body.last_message_preview, `${'a'.repeat(50)}...`);
    assert.equal(res.body.last_seq, 1);
  });

  it('renames (PATCH and PUT) for participants only; clears with null', async () => {
    const { client, user: me } = await srv.signedIn();
    const other = await srv.signedIn();
    const c = await client.post('/api/conversations/', { participants: [me.id], title: 'old' });
    const path = `/api/conversations/${c.body.conversation_id}/`;
    const events: Array<AppEvents['conversation.updated']> = [];
    const off = srv.app.events.on('conversation.updated', (p) => void events.push(p));
    try {
      assert.equal((await client.patch(path, { title: '  new  ' })).body.title, 'new');
      assert.equal((await client.put(path, { title: null })).body.title, null);
      assert.equal(events.length, 2);
      assert.equal((await client.patch(path, { title: 5 })).status, 400);
      assert.equal((await client.patch(path, {})).status, 400);
      assert.equal((await other.client.patch(path, { title: 'mine now' })).status, 404);
    } finally {
      off();
    }
  });

  it('adds and removes participants: owner rules, 1:1 turns into a group, last one out deletes', async () => {
    const owner = await srv.signedIn();
    const member = await srv.signedIn();
    const carol = await user();
    const dave = await user();
    const c = await owner.client.post('/api/conversations/', { participants: [member.user.id] });
    const cid = c.body.conversation_id;
    assert.equal(c.body.is_direct, true);
    const added = await member.client.post(`/api/conversations/${cid}/participants/`, { participants: [carol.id, owner.user.id] });
    assert.equal(added.status, 200);
    assert.equal(added.body.participants_count, 3);
    assert.equal(added.body.is_direct, false, 'no longer the pair’s 1:1 conversation');
    const fresh = await owner.client.post('/api/conversations/', { participants: [member.user.id] });
    assert.equal(fresh.status, 201, 'a new 1:1 conversation can be started');

    const bad = await owner.client.post(`/api/conversations/${cid}/participants/`, { participants: ['6a1f2b3c-4d5e-4f60-8a1b-2c3d4e5f6a7b'] });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error.details.fields[0].path, 'participants.0');
    assert.equal((await owner.client.post(`/api/conversations/${cid}/participants/`, { participants: [] })).status, 400);

    const notOwner = await member.client.delete(`/api/conversations/${cid}/participants/${carol.id}/`);
    assert.equal(notOwner.status, 403);
    assert.equal(notOwner.body.error.code, 'not_conversation_owner');
    assert.equal((await owner.client.delete(`/api/conversations/${cid}/participants/${dave.id}/`)).status, 404, 'not a participant');
    assert.equal((await owner.client.delete(`/api/conversations/${cid}/participants/nope/`)).status, 404);
    assert.equal((await owner.client.delete(`/api/conversations/${cid}/participants/${carol.id}/`)).status, 204);

    // The owner leaves: the remaining member becomes owner and can remove others.
    assert.equal((await owner.client.delete(`/api/conversations/${cid}/`)).status, 204);
    assert.equal((await owner.client.get(`/api/conversations/${cid}/`)).status, 404, 'gone for the one who left');
    const now = await member.client.get(`/api/conversations/${cid}/`);
    assert.deepEqual(now.body.owners, [member.user.id]);
    assert.equal((await owner.client.post(`/api/conversations/${cid}/messages/`, { message_body: 'still here?' })).status, 404);

    await member.client.post(`/api/conversations/${cid}/messages/`, { message_body: 'bye' });
    const removed: Array<AppEvents['conversation.member_removed']> = [];
    const off = srv.app.events.on('conversation.member_removed', (p) => void removed.push(p));
    try {
      assert.equal((await member.client.delete(`/api/conversations/${cid}/participants/${member.user.id}/`)).status, 204);
    } finally {
      off();
    }
    assert.equal(removed[0]!.deleted, true);
    const left = await srv.app.db.db.selectFrom('messages').select('id').where('conversation_id', '=', cid).execute();
    assert.equal(left.length, 0, 'the conversation and its messages are deleted with the last member');
    assert.equal((await member.client.get(`/api/conversations/${cid}/`)).status, 404);
  });

  it('emits membership events with every member id after commit', async () => {
    const { client, user: me } = await srv.signedIn();
    const bob = await user();
    const carol = await user();
    const created: Array<AppEvents['conversation.created']> = [];
    const addedEv: Array<AppEvents['conversation.member_added']> = [];
    const offs = [srv.app.events.on('conversation.created', (p) => void created.push(p)), srv.app.events.on('conversation.member_added', (p) => void addedEv.push(p))];
    try {
      const c = await client.post('/api/conversations/', { participants: [bob.id], title: 'ev' });
      await client.post(`/api/conversations/${c.body.conversation_id}/participants/`, { participants: [carol.id, bob.id] });
      assert.deepEqual(created.at(-1)!.memberIds.sort(), [me.id, bob.id].sort());
      assert.deepEqual(addedEv.at(-1)!.addedUserIds, [carol.id]);
      assert.deepEqual(addedEv.at(-1)!.memberIds.sort(), [me.id, bob.id, carol.id].sort());
    } finally {
      for (const off of offs) off();
    }
  });
});
