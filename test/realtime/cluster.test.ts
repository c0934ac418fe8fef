import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Actor, User } from '../../src/domain/users/user.types.ts';
import { collect, connectSocket, emitAck, socketTokens, nextEvent, quiet, startCluster, type ClientSocket, type Cluster } from '../support/socket.ts';
import { HttpClient } from '../support/http.ts';
import type { TestServer } from '../support/server.ts';

const asActor = (user: User): Actor => ({ user, via: 'session', scopes: null });

describe('membership, catch-up and long-poll across two nodes', () => {
  let cluster: Cluster;
  let a: TestServer;
  let b: TestServer;
  let alice: { client: HttpClient; user: User };
  let bob: { client: HttpClient; user: User };
  let carol: { client: HttpClient; user: User };
  const sockets: ClientSocket[] = [];
  const open = async (srv: TestServer, who: { client: HttpClient }) => {
    const s = await connectSocket(srv.url, { client: who.client });
    sockets.push(s);
    return s;
  };

  before(async () => {
    cluster = await startCluster(2);
    [a, b] = cluster.nodes as [TestServer, TestServer];
    alice = await a.signedIn();
    bob = await b.signedIn();
    carol = await b.signedIn();
  });
  after(async () => {
    for (const s of sockets) s.close();
    await cluster.close();
  });

  it('creates a conversation over the socket on A; members on B join its room and receive its messages', async () => {
    const aliceA = await open(a, alice);
    const carolB = await open(b, carol);
    const created = nextEvent(carolB, 'conversation:created');
    const res = await emitAck(aliceA, 'conversation:create', { participants: [carol.user.id], title: 'Plans' });
    assert.equal(res.data.created, true);
    const conv = res.data.conversation;
    assert.deepEqual([...conv.participants].sort(), [alice.user.id, carol.user.id].sort());
    assert.equal((await created).conversation_id, conv.conversation_id);
    const live = nextEvent(carolB, 'message:new', (m) => m.conversation === conv.conversation_id);
    const sent = await emitAck(aliceA, 'message:send', { conversation_id: conv.conversation_id, body: 'first' });
    assert.equal((await live).message_id, sent.data.message_id);
    assert.equal((await emitAck(aliceA, 'conversation:create', { participants: ['nope'] })).error.code, 'validation_failed');
    const unknown = await emitAck(aliceA, 'conversation:create', { participants: [crypto.randomUUID()] });
    assert.equal(unknown.error.code, 'validation_failed');
  });

  it('adds and removes members on every node: a removed member stops receiving', async () => {
    const aliceA = await open(a, alice);
    const bobB = await open(b, bob);
    const carolB = await open(b, carol);
    const { conversation } = await a.app.services.conversations.create(asActor(alice.user), { participants: [carol.user.id], title: 'Team' });
    const cid = conversation.id;
    await new Promise((r) => setTimeout(r, 100));
    const added = nextEvent(bobB, 'conversation:member_added', (e) => e.conversation.conversation_id === cid);
    const res = await emitAck(aliceA, 'conversation:add_members', { conversation_id: cid, user_ids: [bob.user.id] });
    assert.ok(res.data.conversation.participants.includes(bob.user.id));
    assert.deepEqual((await added).added_user_ids, [bob.user.id]);
    const toBob = nextEvent(bobB, 'message:new', (m) => m.conversation === cid);
    await emitAck(aliceA, 'message:send', { conversation_id: cid, body: 'welcome bob' });
    assert.equal((await toBob).message_body, 'welcome bob');

    assert.equal((await emitAck(bobB, 'conversation:remove_member', { conversation_id: cid, user_id: carol.user.id })).error.code, 'not_conversation_owner');
    const removed = nextEvent(carolB, 'conversation:member_removed', (e) => e.conversation_id === cid);
    const rm = await emitAck(aliceA, 'conversation:remove_member', { conversation_id: cid, user_id: carol.user.id });
    assert.deepEqual(rm.data, { deleted: false });
    assert.deepEqual(await removed, { conversation_id: cid, user_id: carol.user.id, removed_by: alice.user.id, deleted: false });
    await new Promise((r) => setTimeout(r, 100));
    const carolGot = collect(carolB, 'message:new');
    const bobStill = nextEvent(bobB, 'message:new', (m) => m.message_body === 'carol is gone');
    await emitAck(aliceA, 'message:send', { conversation_id: cid, body: 'carol is gone' });
    await bobStill;
    await quiet(carolGot);
    assert.equal((await emitAck(carolB, 'typing', { conversation_id: cid })).error.code, 'not_found');

    const renamed = nextEvent(bobB, 'conversation:updated', (c) => c.conversation_id === cid);
    await emitAck(aliceA, 'conversation:rename', { conversation_id: cid, title: 'Core team' });
    assert.equal((await renamed).title, 'Core team');
    const left = await emitAck(bobB, 'conversation:leave', { conversation_id: cid });
    assert.deepEqual(left.data, { deleted: false });
  });

  it('a client that moves from A to B catches up with no gap and no duplicate', async () => {
    const { conversation } = await a.app.services.conversations.create(asActor(alice.user), { participants: [bob.user.id], title: 'Move' });
    const cid = conversation.id;
    const aliceA = await open(a, alice);
    const bobA = await open(a, bob);
    const seen = new Map<string, { seq: number; change_seq: number; body: string | null }>();
    let cursor = 0;
    bobA.on('message:new', (m) => {
      if (m.conversation !== cid) return;
      seen.set(m.message_id, { seq: m.seq, change_seq: m.change_seq, body: m.message_body });
      cursor = Math.max(cursor, m.change_seq);
    });
    for (let i = 1; i <= 3; i++) await emitAck(aliceA, 'message:send', { conversation_id: cid, body: `online ${i}` });
    const deadline = Date.now() + 5000;
    while (seen.size < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.equal(seen.size, 3);
    bobA.close();
    // While bob is away: new messages, an edit of one he saw, a deletion.
    const missed = [];
    for (let i = 1; i <= 5; i++) missed.push((await emitAck(aliceA, 'message:send', { conversation_id: cid, body: `offline ${i}` })).data);
    const firstId = [...seen.keys()][0]!;
    await emitAck(aliceA, 'message:edit', { message_id: firstId, body: 'online 1 (edited)' });
    await emitAck(aliceA, 'message:delete', { message_id: missed[1].message_id });

    const bobB = await open(b, bob);
    const live = collect(bobB, 'message:new');
    const cursors: Record<string, number> = { [cid]: cursor };
    const changes: any[] = [];
    for (let round = 0; ; round++) {
      assert.ok(round < 20, 'sync ends');
      const res = await emitAck(bobB, 'sync', { cursors, limit: 3 });
      assert.ok(res.data, JSON.stringify(res));
      for (const c of res.data.conversations) {
        cursors[c.conversation_id] = c.last_change_seq;
        if (c.conversation_id === cid) changes.push(...c.changes);
      }
      if (!res.data.has_more) break;
    }
    for (const m of changes) seen.set(m.message_id, { seq: m.seq, change_seq: m.change_seq, body: m.message_body });
    const seqs = [...seen.values()].map((m) => m.seq).sort((x, y) => x - y);
    assert.deepEqual(seqs, [1, 2, 3, 4, 5, 6, 7, 8], 'every message, once');
    const changeSeqs = changes.map((m) => m.change_seq);
    assert.deepEqual(changeSeqs, [...new Set(changeSeqs)].sort((x, y) => x - y), 'changes in order, no duplicate');
    assert.equal(seen.get(firstId)!.body, 'online 1 (edited)');
    assert.equal(seen.get(missed[1].message_id)!.body, null);
    assert.equal(live.length, 0);
    // And it is live again on B.
    const next = nextEvent(bobB, 'message:new', (m) => m.conversation === cid);
    await emitAck(aliceA, 'message:send', { conversation_id: cid, body: 'welcome back' });
    assert.equal((await next).seq, 9);
  });

  it('long-poll on B is woken by a send on A, statelessly', async () => {
    const { conversation } = await a.app.services.conversations.create(asActor(alice.user), { participants: [bob.user.id], title: 'Poll' });
    const cid = conversation.id;
    await a.app.services.messages.send(asActor(alice.user), { conversationId: cid, body: 'before' });
    const start = await bob.client.get('/api/sync');
    assert.equal(start.status, 200);
    assert.deepEqual(start.body.conversations, []);
    const cursor = start.body.cursor;
    // Nothing new: waits, then answers empty with a cursor.
    const t0 = Date.now();
    const empty = await bob.client.get(`/api/sync?cursor=${cursor}&timeout=300`);
    assert.equal(empty.status, 200);
    assert.ok(Date.now() - t0 >= 280, 'it waited');
    assert.deepEqual(empty.body.conversations, []);
    // A send on A wakes the poll held on B.
    const t1 = Date.now();
    const polled = bob.client.get(`/api/sync?cursor=${empty.body.cursor}&timeout=20000`);
    await new Promise((r) => setTimeout(r, 300));
    await a.app.services.messages.send(asActor(alice.user), { conversationId: cid, body: 'wake up' });
    const res = await polled;
    const took = Date.now() - t1;
    assert.equal(res.status, 200);
    assert.ok(took >= 250 && took < 5000, `answered in ${took} ms`);
    const c = res.body.conversations.find((x: { conversation_id: string }) => x.conversation_id === cid);
    assert.deepEqual(c.changes.map((m: { message_body: string }) => m.message_body), ['wake up']);
    // The new cursor is past it: a node that never saw this client answers from the cursor alone.
    const after = await bob.client.get(`/api/sync?cursor=${res.body.cursor}&timeout=0`);
    assert.deepEqual(after.body.conversations, []);
    const bobOnA = new HttpClient(a.url);
    for (const [k, v] of bob.client.cookies) bobOnA.cookies.set(k, v);
    const viaA = await bobOnA.get(`/api/sync?cursor=${empty.body.cursor}`);
    assert.equal(viaA.status, 200);
    assert.deepEqual(viaA.body.conversations.map((x: { conversation_id: string }) => x.conversation_id), [cid]);
  });

  it('rejects bad long-poll requests with exact codes', async () => {
    const anon = b.client();
    assert.equal((await anon.get('/api/sync')).status, 401);
    const bad = await bob.client.get('/api/sync?cursor=garbage');
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error.code, 'invalid_cursor');
    const forged = Buffer.from(JSON.stringify({ v: 1, c: { x: 1 } })).toString('base64url');
    assert.equal((await bob.client.get(`/api/sync?cursor=${forged}`)).body.error.code, 'invalid_cursor');
    const tooLong = await bob.client.get(`/api/sync?cursor=${(await bob.client.get('/api/sync')).body.cursor}&timeout=${b.config.realtime.longPollMaxMs + 1}`);
    assert.equal(tooLong.status, 400);
    assert.equal(tooLong.body.error.code, 'validation_failed');
    const tokens = socketTokens(b);
    const noScope = await b.client().get('/api/sync', { bearer: await tokens.issue(bob.user, ['devices']) });
    assert.equal(noScope.status, 403);
    assert.equal(noScope.body.error.code, 'insufficient_scope');
    const withScope = await b.client().get('/api/sync', { bearer: await tokens.issue(bob.user, ['read:messages']) });
    assert.equal(withScope.status, 200);
  });
});
