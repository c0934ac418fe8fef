import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Actor, User } from '../../src/domain/users/user.types.ts';
import type { AppEvents } from '../../src/infra/events.ts';
import { startTestServer, type TestServer } from '../support/server.ts';

const actor = (user: User): Actor => ({ user, via: 'session', scopes: null });

describe('messaging core: conversations, sends, history, receipts', () => {
  let srv: TestServer;
  before(async () => {
    srv = await startTestServer();
  });
  after(() => srv.close());

  it('runs the seed README flow with a browser session: create a conversation, send, list', async () => {
    const { client, user: alice } = await srv.signedIn();
    const bob = await srv.createUser();
    const created = await client.post('/api/conversations/', { participants: [bob.id] });
    assert.equal(created.status, 201);
    assert.deepEqual(new Set(created.body.participants), new Set([alice.id, bob.id]), 'the creator is always added');
    assert.equal(created.body.participants_count, 2);
    assert.equal(created.body.last_message_preview, 'No messages yet');
    const cid = created.body.conversation_id;

    const sent = await client.post('/api/messages/', { conversation: cid, message_body: 'Hello, how are you?' });
    assert.equal(sent.status, 201);
    assert.equal(sent.body.conversation, cid);
    assert.equal(sent.body.message_body, 'Hello, how are you?');
    assert.equal(sent.body.status, 'sent');
    assert.equal(sent.body.seq, 1);
    assert.equal(sent.body.sender, alice.id);
    assert.match(sent.body.sent_at, /^\d{4}-\d\d-\d\dT.*Z$/);

    const list = await client.get(`/api/conversations/${cid}/messages/`);
    assert.equal(list.status, 200);
    assert.equal(list.body.count, 1);
    assert.equal(list.body.next, null);
    assert.equal(list.body.previous, null);
    assert.equal(list.body.results[0].message_id, sent.body.message_id);

    const again = await client.post('/api/conversations/', { participants: [bob.id] });
    assert.equal(again.status, 200, 'the existing 1:1 conversation is returned');
    assert.equal(again.body.conversation_id, cid);
    assert.equal(again.body.last_message_preview, 'Hello, how are you?');
  });

  it('assigns seqs 1..100 with no gaps or duplicates to 100 parallel sends, in one or a few transactions', async () => {
    const a = await srv.createUser();
    const b = await srv.createUser();
    const { conversation } = await srv.app.services.conversations.create(actor(a), { participants: [b.id] });
    const results = await Promise.all(
      Array.from({ length: 100 }, (_, i) => srv.app.services.messages.send(actor(i % 2 ? a : b), { conversationId: conversation.id, body: `m${i}` })),
    );
    const seqs = results.map((r) => r.message.seq).sort((x, y) => x - y);
    assert.deepEqual(seqs, Array.from({ length: 100 }, (_, i) => i + 1));
    // Arrival order is kept: the i-th submitted message has seq i + 1.
    results.forEach((r, i) => assert.deepEqual([r.message.body, r.message.seq], [`m${i}`, i + 1]));
    const conv = await srv.app.services.conversations.get(actor(a), conversation.id);
    assert.equal(conv.lastSeq, 100);
    assert.equal(conv.lastChangeSeq, 100);
  });

  it('keeps 100 parallel REST sends gap-free too', async () => {
    const { client, user } = await srv.signedIn();
    const other = await srv.createUser();
    const c = await client.post('/api/conversations/', { participants: [other.id], title: 'load' });
    const cid = c.body.conversation_id;
    const res = await Promise.all(Array.from({ length: 100 }, (_, i) => client.post(`/api/conversations/${cid}/messages/`, { message_body: `hello ${i}` })));
    assert.ok(res.every((r) => r.status === 201));
    assert.deepEqual(
      res.map((r) => r.body.seq).sort((x: number, y: number) => x - y),
      Array.from({ length: 100 }, (_, i) => i + 1),
    );
    assert.equal(new Set(res.map((r) => r.body.message_id)).size, 100);
    const chats = await client.get('/api/chats/');
    const entry = chats.body.results.find((e: { conversation_id: string }) => e.conversation_id === cid);
    assert.equal(entry.last_seq, 100);
    assert.equal(entry.unread_count, 0, 'your own messages are read by you');
    assert.equal(entry.read_seq, 100);
    void user;
  });

  it('emits events after commit and wakes every member over pub/sub', async () => {
    const a = await srv.createUser();
    const b = await srv.createUser();
    const seen: Array<AppEvents['message.created']> = [];
    const off = srv.app.events.on('message.created', (p) => void seen.push(p));
    const wakes: unknown[] = [];
    const unsub = await srv.app.pubsub.subscribe(`user:${b.id}`, (p) => void wakes.push(p));
    try {
      const { conversation } = await srv.app.services.conversations.create(actor(a), { participants: [b.id] });
      const { message } = await srv.app.services.messages.send(actor(a), { conversationId: conversation.id, body: 'hi' });
      const ev = seen.find((e) => e.message.id === message.id);
      assert.ok(ev);
      assert.deepEqual(new Set(ev.memberIds), new Set([a.id, b.id]));
      assert.equal(ev.conversationId, conversation.id);
      // The event handler could already read the committed row.
      assert.equal((await srv.app.services.messages.get(actor(b), message.id)).id, message.id);
      for (let i = 0; i < 50 && !wakes.some((w) => (w as { kind: string }).kind === 'message'); i++) await new Promise((r) => setTimeout(r, 20));
      assert.ok(wakes.some((w) => (w as { kind: string; conversation_id: string; change_seq: number }).kind === 'message' && (w as { change_seq: number }).change_seq === 1));
    } finally {
      off();
      unsub();
    }
  });

  it('moves receipts forward only, derives status, and reports the senders whose messages changed', async () => {
    const a = await srv.createUser();
    const b = await srv.createUser();
    const c = await srv.createUser();
    const svc = srv.app.services;
    const { conversation } = await svc.conversations.create(actor(a), { participants: [b.id, c.id], title: 'group' });
    const m1 = (await svc.messages.send(actor(a), { conversationId: conversation.id, body: 'one' })).message;
    const m2 = (await svc.messages.send(actor(b), { conversationId: conversation.id, body: 'two' })).message;
    const events: Array<AppEvents['receipt.updated']> = [];
    const off = srv.app.events.on('receipt.updated', (p) => void events.push(p));
    try {
      let w = await svc.messages.markReceipts(actor(c), conversation.id, { deliveredSeq: 2 });
      assert.deepEqual([w.deliveredSeq, w.readSeq], [2, 0]);
      // b has everything up to 2 (it sent m2); a is still at 1, so b's m2 is not delivered yet.
      assert.equal((await svc.messages.get(actor(a), m1.id)).status, 'delivered', 'm1: b (sent after it) and c have it');
      assert.equal((await svc.messages.get(actor(b), m2.id)).status, 'sent', 'm2: a has not received it');
      const ev = events.at(-1)!;
      assert.equal(ev.readerId, c.id);
      assert.deepEqual(ev.senders.map((s) => s.userId).sort(), [a.id].sort(), 'only a’s message changed status');
      assert.equal(ev.senders[0]!.deliveredSeq, 2, 'a’s messages are delivered up to seq 2');

      w = await svc.messages.markReceipts(actor(c), conversation.id, { readSeq: 1, deliveredSeq: 0 });
      assert.deepEqual([w.deliveredSeq, w.readSeq], [2, 1], 'never moves back');
      w = await svc.messages.markReceipts(actor(a), conversation.id, { readSeq: 99 });
      assert.deepEqual([w.deliveredSeq, w.readSeq, w.lastSeq], [2, 2, 2], 'capped at the last seq; read implies delivered');
      assert.equal((await svc.messages.get(actor(a), m1.id)).status, 'read');
      const last = events.at(-1)!;
      assert.deepEqual(last.senders.map((s) => [s.userId, s.readSeq, s.deliveredSeq]), [[b.id, 1, 2]]);

      const r = await svc.messages.receipts(actor(b), m2.id);
      assert.deepEqual(
        r.receipts.map((x) => [x.userId, x.delivered, x.read]).sort(),
        [[a.id, true, true], [c.id, true, false]].sort(),
      );
      const before = events.length;
      await svc.messages.markReceipts(actor(a), conversation.id, { readSeq: 1 });
      assert.equal(events.length, before, 'no event when nothing moved');
    } finally {
      off();
    }
  });

  it('syncs changes by change_seq, including edits and deletions', async () => {
    const a = await srv.createUser();
    const b = await srv.createUser();
    const svc = srv.app.services.messages;
    const { conversation } = await srv.app.services.conversations.create(actor(a), { participants: [b.id] });
    const ms = [];
    for (let i = 0; i < 5; i++) ms.push((await svc.send(actor(a), { conversationId: conversation.id, body: `m${i}` })).message);
    const s1 = await svc.syncConversation(actor(b), conversation.id, 0, 3);
    assert.deepEqual(s1.changes.map((m) => m.seq), [1, 2, 3]);
    assert.equal(s1.hasMore, true);
    await svc.edit(actor(a), ms[1]!.id, 'edited');
    await svc.remove(actor(a), ms[3]!.id);
    const s2 = await svc.syncConversation(actor(b), conversation.id, s1.lastChangeSeq, 10);
    assert.deepEqual(s2.changes.map((m) => [m.seq, m.body]), [[5, 'm4'], [2, 'edited'], [4, null]]);
    assert.equal(s2.hasMore, false);
    assert.equal(s2.lastChangeSeq, 7);
    const all = await svc.syncAll(actor(b), { [conversation.id]: 5 });
    const mine = all.conversations.find((c) => c.conversationId === conversation.id)!;
    assert.deepEqual(mine.changes.map((m) => m.changeSeq), [6, 7]);
    const none = await svc.syncAll(actor(b), { [conversation.id]: 7 });
    assert.equal(none.conversations.some((c) => c.conversationId === conversation.id), false);
    await assert.rejects(svc.syncConversation(actor(await srv.createUser()), conversation.id, 0), { status: 404 });
  });
});
