import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Actor, User } from '../../src/domain/users/user.types.ts';
import {
  collect,
  connectSocket,
  emitAck,
  socketTokens,
  nextEvent,
  quiet,
  startCluster,
  type ClientSocket,
  type Cluster,
} from '../support/socket.ts';
import type { TestServer } from '../support/server.ts';

const asActor = (user: User): Actor => ({ user, via: 'session', scopes: null });

describe('chat over sockets across two nodes', () => {
  let cluster: Cluster;
  let a: TestServer;
  let b: TestServer;
  let alice: User;
  let bob: User;
  let carol: User;
  let aliceA: ClientSocket; // alice's first device, on node A
  let aliceB: ClientSocket; // alice's second device, on node B
  let bobB: ClientSocket;
  let carolA: ClientSocket;
  let convId: string;
  let tokens: ReturnType<typeof socketTokens>;
  const sockets: ClientSocket[] = [];

  before(async () => {
    cluster = await startCluster(2);
    [a, b] = cluster.nodes as [TestServer, TestServer];
    tokens = socketTokens(a);
    const sa = await a.signedIn();
    const sb = await b.signedIn();
    const sc = await a.signedIn();
    [alice, bob, carol] = [sa.user, sb.user, sc.user];
    // The conversation exists before the sockets connect: they join its room on connect.
    convId = (await a.app.services.conversations.create(asActor(alice), { participants: [bob.id] })).conversation.id;
    aliceA = await connectSocket(a.url, { client: sa.client });
    aliceB = await connectSocket(b.url, { client: sa.client });
    bobB = await connectSocket(b.url, { client: sb.client });
    carolA = await connectSocket(a.url, { client: sc.client });
    sockets.push(aliceA, aliceB, bobB, carolA);
  });
  after(async () => {
    for (const s of sockets) s.close();
    await cluster.close();
  });

  it('sends on A, acks after commit, delivers to the recipient and the sender\'s other device on B', async () => {
    const atBob = nextEvent(bobB, 'message:new', (m) => m.conversation === convId);
    const atAlice2 = nextEvent(aliceB, 'message:new', (m) => m.conversation === convId);
    const carolGot = collect(carolA, 'message:new');
    const ack = await emitAck(aliceA, 'message:send', { conversation_id: convId, body: 'Hello Bob', client_msg_id: 'm-1' });
    assert.ok(ack.data, JSON.stringify(ack));
    assert.equal(ack.data.seq, 1);
    assert.equal(ack.data.created, true);
    assert.match(ack.data.created_at, /^\d{4}-\d\d-\d\dT/);
    assert.equal(ack.data.message.message_body, 'Hello Bob');
    // Committed before the ack: the database has it.
    const stored = await b.app.services.messages.get(asActor(bob), ack.data.message_id);
    assert.equal(stored.seq, 1);
    const m = await atBob;
    assert.equal(m.message_id, ack.data.message_id);
    assert.equal(m.seq, 1);
    assert.equal(m.sender, alice.id);
    assert.equal((await atAlice2).message_id, ack.data.message_id);
    await quiet(carolGot);
  });

  it('an idempotent retry returns the original message and broadcasts nothing new', async () => {
    const bobGot = collect(bobB, 'message:new');
    const first = await emitAck(aliceA, 'message:send', { conversation_id: convId, body: 'once', client_msg_id: 'retry-1' });
    const again = await emitAck(aliceB, 'message:send', { conversation_id: convId, body: 'once', client_msg_id: 'retry-1' });
    assert.equal(again.data.created, false);
    assert.equal(again.data.message_id, first.data.message_id);
    assert.equal(again.data.seq, first.data.seq);
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(bobGot.filter((x) => x.message_id === first.data.message_id).length, 1);
  });

  it('delivers in seq order per conversation', async () => {
    const got = collect(bobB, 'message:new');
    const acks = await Promise.all(Array.from({ length: 20 }, (_, i) => emitAck(aliceA, 'message:send', { conversation_id: convId, body: `burst ${i}` })));
    const seqs = acks.map((x) => x.data.seq).sort((x, y) => x - y);
    for (let i = 1; i < seqs.length; i++) assert.equal(seqs[i], seqs[i - 1] + 1, 'no gaps');
    const last = seqs.at(-1);
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('missing messages')), 5000);
      const check = () => (got.some((m) => m.seq === last) ? (clearTimeout(t), resolve()) : setTimeout(check, 20));
      check();
    });
    const order = got.filter((m) => m.conversation === convId).map((m) => m.seq);
    assert.deepEqual(order, [...order].sort((x, y) => x - y));
    assert.equal(order.length, 20);
  });

  it('pushes message:status delivered then read to every device of the sender, across nodes', async () => {
    const sent = await emitAck(aliceA, 'message:send', { conversation_id: convId, body: 'did you get this?' });
    const seq = sent.data.seq;
    const statusA = collect(aliceA, 'message:status');
    const statusB = collect(aliceB, 'message:status');
    const bobStatus = collect(bobB, 'message:status');
    const delivered = await emitAck(bobB, 'receipt:delivered', { conversation_id: convId, seq });
    assert.equal(delivered.data.delivered_seq, seq);
    assert.equal(delivered.data.read_seq, 0);
    await nextEvent(aliceA, 'message:status', (e) => e.status === 'delivered' && e.up_to_seq === seq).catch(() => undefined);
    const read = await emitAck(bobB, 'receipt:read', { conversation_id: convId, seq });
    assert.equal(read.data.read_seq, seq);
    assert.equal(read.data.unread_count, 0);
    for (const got of [statusA, statusB]) {
      const deadline = Date.now() + 5000;
      while (got.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      assert.deepEqual(
        got.map((e) => [e.status, e.up_to_seq, e.by, e.conversation_id]),
        [
          ['delivered', seq, bob.id, convId],
          ['read', seq, bob.id, convId],
        ],
      );
      assert.equal(got[0].from_seq, 1);
    }
    // Watermarks only move forward: an older receipt changes nothing and pushes nothing.
    const older = await emitAck(bobB, 'receipt:read', { conversation_id: convId, seq: 1 });
    assert.equal(older.data.read_seq, seq);
    await quiet(statusA);
    assert.deepEqual(bobStatus, []);
  });

  it('edits and deletes reach the conversation; only the sender may change a message', async () => {
    const sent = await emitAck(aliceA, 'message:send', { conversation_id: convId, body: 'typo' });
    const id = sent.data.message_id;
    const updated = nextEvent(bobB, 'message:updated', (m) => m.message_id === id);
    const edit = await emitAck(aliceB, 'message:edit', { message_id: id, body: 'fixed' });
    assert.equal(edit.data.message.message_body, 'fixed');
    const u = await updated;
    assert.equal(u.message_body, 'fixed');
    assert.ok(u.edited_at);
    assert.ok(u.change_seq > sent.data.message.change_seq);
    assert.equal((await emitAck(bobB, 'message:edit', { message_id: id, body: 'mine now' })).error.code, 'not_message_sender');
    assert.equal((await emitAck(bobB, 'message:delete', { message_id: id })).error.code, 'not_message_sender');
    assert.equal((await emitAck(carolA, 'message:edit', { message_id: id, body: 'x' })).error.code, 'not_found');
    const deleted = nextEvent(bobB, 'message:deleted', (m) => m.message_id === id);
    const del = await emitAck(aliceA, 'message:delete', { message_id: id });
    assert.equal(del.data.message.message_body, null);
    const d = await deleted;
    assert.equal(d.message_body, null);
    assert.equal(d.seq, sent.data.seq);
    assert.ok(d.deleted_at);
    assert.equal((await emitAck(aliceA, 'message:edit', { message_id: id, body: 'back' })).error.code, 'message_deleted');
  });

  it('answers bad payloads with an error ack and never broadcasts them', async () => {
    const bobGot = collect(bobB, 'message:new');
    const cases: Array<[unknown, string, string?]> = [
      [undefined, 'validation_failed'],
      ['hello', 'validation_failed'],
      [{ conversation_id: convId }, 'validation_failed', 'body'],
      [{ conversation_id: 'not-a-uuid', body: 'x' }, 'validation_failed', 'conversation_id'],
      [{ conversation_id: convId, body: 42 }, 'validation_failed', 'body'],
      [{ conversation_id: convId, body: '   ' }, 'validation_failed', 'body'],
      [{ conversation_id: convId, body: 'x'.repeat(4001) }, 'validation_failed', 'body'],
      [{ conversation_id: convId, body: 'x', client_msg_id: 'bad id with spaces' }, 'validation_failed', 'client_msg_id'],
      [{ conversation_id: convId, body: 'x', admin: true }, 'validation_failed'],
      [{ conversation_id: convId, body: 'x'.repeat(20_000) }, 'payload_too_large'],
    ];
    for (const [payload, code, field] of cases) {
      const res = await emitAck(aliceA, 'message:send', payload);
      assert.equal(res.error?.code, code, JSON.stringify(payload)?.slice(0, 80));
      if (field) assert.ok(res.error.details.fields.some((f: { path: string }) => f.path === field), JSON.stringify(res.error.details));
    }
    // A conversation carol is not in: not found, nothing sent.
    const foreign = await emitAck(carolA, 'message:send', { conversation_id: convId, body: 'let me in' });
    assert.equal(foreign.error.code, 'not_found');
    assert.equal((await emitAck(carolA, 'receipt:read', { conversation_id: convId, seq: 1 })).error.code, 'not_found');
    assert.equal((await emitAck(carolA, 'sync', { conversation_id: convId })).error.code, 'not_found');
    assert.equal((await emitAck(carolA, 'typing', { conversation_id: convId })).error.code, 'not_found');
    assert.equal((await emitAck(aliceA, 'receipt:read', { conversation_id: convId, seq: -1 })).error.code, 'validation_failed');
    assert.equal((await emitAck(aliceA, 'sync', { conversation_id: convId, cursors: {} })).error.code, 'validation_failed');
    await quiet(bobGot);
    assert.ok(aliceA.connected && carolA.connected);
  });

  it('checks scopes per event for bearer sockets', async () => {
    const reader = await connectSocket(b.url, { token: await tokens.issue(bob, ['read:messages']) });
    sockets.push(reader);
    const res = await emitAck(reader, 'message:send', { conversation_id: convId, body: 'no scope' });
    assert.equal(res.error.code, 'insufficient_scope');
    assert.equal(res.error.details.scope, 'send:messages');
    assert.equal((await emitAck(reader, 'conversation:create', { participants: [alice.id] })).error.code, 'insufficient_scope');
    // It may read: it is in the conversation's room and catches up.
    const live = nextEvent(reader, 'message:new', (m) => m.conversation === convId);
    await emitAck(aliceA, 'message:send', { conversation_id: convId, body: 'to the reader' });
    assert.equal((await live).message_body, 'to the reader');
    const synced = await emitAck(reader, 'sync', { conversation_id: convId, after_change_seq: 0, limit: 2 });
    assert.equal(synced.data.conversations[0].changes.length, 2);
    assert.equal(synced.data.has_more, true);

    const full = await connectSocket(a.url, { token: await tokens.issue(bob, ['read:messages', 'send:messages']) });
    sockets.push(full);
    assert.equal((await emitAck(full, 'message:send', { conversation_id: convId, body: 'with scope' })).data.created, true);

    // A devices-only token is not a chat client: no conversation traffic reaches it.
    const device = await connectSocket(a.url, { token: await tokens.issue(bob, ['devices']) });
    sockets.push(device);
    const deviceGot = collect(device, 'message:new');
    assert.equal((await emitAck(device, 'sync', { conversation_id: convId })).error.code, 'insufficient_scope');
    await emitAck(aliceA, 'message:send', { conversation_id: convId, body: 'not for devices' });
    await quiet(deviceGot);
  });

  it('relays typing to the other members (volatile, expiring, rate-limited)', async () => {
    const carolGot = collect(carolA, 'typing');
    const atAlice = nextEvent(aliceA, 'typing', (e) => e.user_id === bob.id);
    const ack = await emitAck(bobB, 'typing', { conversation_id: convId });
    assert.deepEqual(ack, { data: { ok: true } });
    const t = await atAlice;
    assert.deepEqual(t, { conversation_id: convId, user_id: bob.id, typing: true, expires_in_ms: a.config.realtime.typingTtlMs });
    const stop = nextEvent(aliceB, 'typing', (e) => e.user_id === bob.id && e.typing === false);
    await emitAck(bobB, 'typing', { conversation_id: convId, typing: false });
    await stop;
    await quiet(carolGot);
    const codes: string[] = [];
    for (let i = 0; i < a.config.realtime.typingPer10s + 2; i++) {
      const r = await emitAck(bobB, 'typing', { conversation_id: convId });
      codes.push(r.error?.code ?? 'ok');
    }
    assert.ok(codes.includes('rate_limited'), codes.join(','));
  });

  it('announces presence to conversation partners and answers presence:get', async () => {
    const online = nextEvent(aliceA, 'presence', (e) => e.user_id === bob.id && e.status === 'online');
    // Bob's chat sockets: one browser socket plus bearer ones from the scope test; close them all first.
    const bobAgain = await b.signedIn(bob);
    for (const s of sockets.slice(4)) s.close();
    bobB.close();
    await nextEvent(aliceA, 'presence', (e) => e.user_id === bob.id && e.status === 'offline');
    const got = await emitAck(aliceA, 'presence:get', { user_ids: [bob.id, carol.id, crypto.randomUUID()] });
    // Carol shares no conversation with alice: left out; the unknown id too.
    assert.deepEqual(got.data.users, [{ user_id: bob.id, status: 'offline' }]);
    bobB = await connectSocket(b.url, { client: bobAgain.client });
    sockets.push(bobB);
    await online;
    const now = await emitAck(aliceB, 'presence:get', { user_ids: [bob.id, alice.id] });
    assert.deepEqual(now.data.users, [
      { user_id: bob.id, status: 'online' },
      { user_id: alice.id, status: 'online' },
    ]);
  });
});
