import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { User } from '../../src/domain/users/user.types.ts';
import type { HttpClient } from '../support/http.ts';
import { startTestServer, type TestServer } from '../support/server.ts';

describe('messages over REST (browser session)', () => {
  let srv: TestServer;
  let alice: { client: HttpClient; user: User };
  let bob: { client: HttpClient; user: User };
  let mallory: { client: HttpClient; user: User };
  before(async () => {
    srv = await startTestServer();
    [alice, bob, mallory] = await Promise.all([srv.signedIn(), srv.signedIn(), srv.signedIn()]);
  });
  after(() => srv.close());

  async function conversation(title = 'room'): Promise<string> {
    const res = await alice.client.post('/api/conversations/', { participants: [bob.user.id], title });
    assert.equal(res.status, 201);
    return res.body.conversation_id;
  }

  async function sendN(cid: string, n: number, client = alice.client): Promise<void> {
    for (let i = 1; i <= n; i++) assert.equal((await client.post(`/api/conversations/${cid}/messages/`, { message_body: `m${i}` })).status, 201);
  }

  it('rejects bad bodies with 400 and field errors, and stores nothing', async () => {
    const cid = await conversation();
    const cases: Array<[unknown, string]> = [
      [{ conversation: cid, message_body: '' }, 'message_body'],
      [{ conversation: cid, message_body: '   \n\t ' }, 'message_body'],
      [{ conversation: cid, message_body: 'x'.repeat(4001) }, 'message_body'],
      [{ conversation: cid, message_body: 42 }, 'message_body'],
      [{ conversation: cid }, 'message_body'],
      [{ message_body: 'hi' }, 'conversation'],
      [{ conversation: 'not-an-id', message_body: 'hi' }, 'conversation'],
      [{ conversation: cid, message_body: 'hi', client_msg_id: 'has spaces' }, 'client_msg_id'],
      [{ conversation: cid, message_body: 'hi', client_msg_id: 'x'.repeat(129) }, 'client_msg_id'],
      [{ conversation: [cid], message_body: 'hi' }, 'conversation'],
    ];
    for (const [body, field] of cases) {
      const res = await alice.client.post('/api/messages/', body);
      assert.equal(res.status, 400, JSON.stringify(body).slice(0, 80));
      assert.equal(res.body.error.code, 'validation_failed');
      assert.ok(res.body.error.details.fields.some((f: { path: string }) => f.path === field), `${field} in ${JSON.stringify(res.body.error.details.fields)}`);
    }
    const ok = await alice.client.post('/api/messages/', { conversation: cid, message_body: '😀'.repeat(4000) });
    assert.equal(ok.status, 201, '4000 characters (code points) are fine');
    const raw = await alice.client.request('POST', '/api/messages/', { body: '{"conversation":', headers: { 'content-type': 'application/json' } });
    assert.equal(raw.status, 400);
    assert.equal(raw.body.error.code, 'invalid_json');
    const list = await alice.client.get(`/api/conversations/${cid}/messages/`);
    assert.equal(list.body.count, 1);
  });

  it('takes the sender from the session, never from the body, and ignores a written status', async () => {
    const cid = await conversation();
    const res = await alice.client.post('/api/messages/', { conversation: cid, message_body: 'hi', sender: bob.user.id, status: 'read' });
    assert.equal(res.status, 201);
    assert.equal(res.body.sender, alice.user.id);
    assert.equal(res.body.status, 'sent');
  });

  it('answers a non-participant with 404 everywhere and never stores its message (no fake 201)', async () => {
    const cid = await conversation();
    const msg = await alice.client.post(`/api/conversations/${cid}/messages/`, { message_body: 'private' });
    const c = mallory.client;
    for (const res of [
      await c.post('/api/messages/', { conversation: cid, message_body: 'intrusion' }),
      await c.post(`/api/conversations/${cid}/messages/`, { message_body: 'intrusion' }),
      await c.get(`/api/conversations/${cid}/messages/`),
      await c.get(`/api/conversations/${cid}/messages/?after_seq=0`),
      await c.get(`/api/messages/?conversation=${cid}`),
      await c.get(`/api/messages/${msg.body.message_id}/`),
      await c.get(`/api/messages/${msg.body.message_id}/receipts/`),
      await c.patch(`/api/messages/${msg.body.message_id}/`, { message_body: 'changed' }),
      await c.delete(`/api/messages/${msg.body.message_id}/`),
      await c.post(`/api/conversations/${cid}/receipts/`, { read_seq: 1 }),
    ]) {
      assert.equal(res.status, 404, res.text);
      assert.equal(res.body.error.code, 'not_found');
    }
    const mine = await c.get('/api/messages/');
    assert.equal(mine.body.count, 0);
    assert.equal((await alice.client.get(`/api/conversations/${cid}/messages/`)).body.count, 1);
    // Unknown and malformed ids are the same 404.
    assert.equal((await c.get('/api/messages/00000000-0000-4000-8000-000000000000/')).status, 404);
    assert.equal((await c.get('/api/messages/42/')).status, 404);
    assert.equal((await c.post('/api/conversations/42/messages/', { message_body: 'x' })).status, 404);
  });

  it('is idempotent by client_msg_id or Idempotency-Key: a retry returns the original with 200', async () => {
    const cid = await conversation();
    const first = await alice.client.post('/api/messages/', { conversation: cid, message_body: 'once', client_msg_id: '0192f3a4-5b6c-7d8e-9f01-23456789abcd' });
    assert.equal(first.status, 201);
    const retry = await alice.client.post('/api/messages/', { conversation: cid, message_body: 'once', client_msg_id: '0192f3a4-5b6c-7d8e-9f01-23456789abcd' });
    assert.equal(retry.status, 200);
    assert.deepEqual(retry.body, first.body);
    const nested = await alice.client.post(`/api/conversations/${cid}/messages/`, { message_body: 'once' }, { headers: { 'Idempotency-Key': '0192f3a4-5b6c-7d8e-9f01-23456789abcd' } });
    assert.equal(nested.status, 200, 'the header is the same key as client_msg_id');
    assert.equal(nested.body.message_id, first.body.message_id);

    const h1 = await alice.client.post(`/api/conversations/${cid}/messages/`, { message_body: 'keyed' }, { headers: { 'Idempotency-Key': 'key-2' } });
    const h2 = await alice.client.post(`/api/conversations/${cid}/messages/`, { message_body: 'keyed' }, { headers: { 'Idempotency-Key': 'key-2' } });
    assert.deepEqual([h1.status, h2.status], [201, 200]);
    assert.equal(h2.body.message_id, h1.body.message_id);
    assert.equal(h1.body.client_msg_id, 'key-2');

    // Another sender may use the same client id: keys are per sender.
    const other = await bob.client.post(`/api/conversations/${cid}/messages/`, { message_body: 'mine', client_msg_id: 'key-2' });
    assert.equal(other.status, 201);
    assert.notEqual(other.body.message_id, h1.body.message_id);

    const mismatch = await alice.client.post(`/api/conversations/${cid}/messages/`, { message_body: 'x', client_msg_id: 'a' }, { headers: { 'Idempotency-Key': 'b' } });
    assert.equal(mismatch.status, 400);
    assert.equal(mismatch.body.error.details.fields[0].path, 'client_msg_id');
    const badHeader = await alice.client.post(`/api/conversations/${cid}/messages/`, { message_body: 'x' }, { headers: { 'Idempotency-Key': 'no spaces allowed' } });
    assert.equal(badHeader.status, 400);
    assert.equal(badHeader.body.error.details.fields[0].path, 'Idempotency-Key');

    // Parallel retries of one key create exactly one message.
    const burst = await Promise.all(Array.from({ length: 10 }, () => alice.client.post('/api/messages/', { conversation: cid, message_body: 'burst', client_msg_id: 'burst-1' })));
    assert.equal(burst.filter((r) => r.status === 201).length, 1);
    assert.equal(burst.filter((r) => r.status === 200).length, 9);
    assert.equal(new Set(burst.map((r) => r.body.message_id)).size, 1);
    const seqs = (await alice.client.get(`/api/conversations/${cid}/messages/?after_seq=0&limit=100`)).body.results.map((m: { seq: number }) => m.seq);
    assert.deepEqual(seqs, [1, 2, 3, 4], 'no seq was burnt by the retries');
  });

  it('edits and deletes your own messages only; deletion keeps the seq and drops the body', async () => {
    const cid = await conversation();
    const sent = await alice.client.post(`/api/conversations/${cid}/messages/`, { message_body: 'typo' });
    const id = sent.body.message_id;
    const edited = await alice.client.patch(`/api/messages/${id}/`, { message_body: 'fixed' });
    assert.equal(edited.status, 200);
    assert.equal(edited.body.message_body, 'fixed');
    assert.ok(edited.body.edited_at);
    assert.equal(edited.body.seq, 1);
    assert.ok(edited.body.change_seq > sent.body.change_seq);

    const notMine = await bob.client.patch(`/api/messages/${id}/`, { message_body: 'hijack' });
    assert.equal(notMine.status, 403);
    assert.equal(notMine.body.error.code, 'not_message_sender');
    const notMineDelete = await bob.client.delete(`/api/messages/${id}/`);
    assert.equal(notMineDelete.status, 403);
    const blank = await alice.client.patch(`/api/messages/${id}/`, { message_body: ' ' });
    assert.equal(blank.status, 400);
    const extra = await alice.client.patch(`/api/messages/${id}/`, {});
    assert.equal(extra.status, 400);

    assert.equal((await alice.client.delete(`/api/messages/${id}/`)).status, 204);
    assert.equal((await alice.client.delete(`/api/messages/${id}/`)).status, 204, 'deleting twice is harmless');
    const gone = await bob.client.get(`/api/messages/${id}/`);
    assert.equal(gone.status, 200);
    assert.equal(gone.body.message_body, null);
    assert.ok(gone.body.deleted_at);
    assert.equal(gone.body.seq, 1);
    const late = await alice.client.patch(`/api/messages/${id}/`, { message_body: 'resurrect' });
    assert.equal(late.status, 409);
    assert.equal(late.body.error.code, 'message_deleted');
    const conv = await bob.client.get(`/api/conversations/${cid}/`);
    assert.equal(conv.body.last_message_preview, 'Message deleted');
    const next = await alice.client.post(`/api/conversations/${cid}/messages/`, { message_body: 'after' });
    assert.equal(next.body.seq, 2, 'the deleted seq is not reused');
  });

  it('pages in the seed format: newest first, 20 by default, next/previous links, invalid page 404', async () => {
    const cid = await conversation();
    await sendN(cid, 45);
    const p1 = await bob.client.get(`/api/conversations/${cid}/messages/`);
    assert.equal(p1.body.count, 45);
    assert.equal(p1.body.results.length, 20);
    assert.equal(p1.body.results[0].seq, 45);
    assert.equal(p1.body.previous, null);
    assert.ok(p1.body.next.startsWith(srv.config.http.publicUrl));
    const p2 = await bob.client.get(new URL(p1.body.next).pathname + new URL(p1.body.next).search);
    assert.equal(p2.body.results[0].seq, 25);
    assert.equal(new URL(p2.body.previous).searchParams.get('page'), null, 'page 1 drops the parameter');
    const p3 = await bob.client.get(`/api/conversations/${cid}/messages/?page=3`);
    assert.deepEqual(p3.body.results.map((m: { seq: number }) => m.seq), [5, 4, 3, 2, 1]);
    assert.equal(p3.body.next, null);
    const big = await bob.client.get(`/api/conversations/${cid}/messages/?page_size=100`);
    assert.equal(big.body.results.length, 45);
    const past = await bob.client.get(`/api/conversations/${cid}/messages/?page=4`);
    assert.equal(past.status, 404);
    assert.equal(past.body.error.code, 'invalid_page');
    for (const q of ['page=0', 'page=abc', 'page_size=101', 'page_size=0', 'page=1.5']) {
      const bad = await bob.client.get(`/api/conversations/${cid}/messages/?${q}`);
      assert.equal(bad.status, 400, q);
      assert.equal(bad.body.error.code, 'validation_failed');
    }
    const flat = await bob.client.get(`/api/messages/?conversation=${cid}&page_size=10&page=5`);
    assert.deepEqual(flat.body.results.map((m: { seq: number }) => m.seq), [5, 4, 3, 2, 1]);
    const empty = await bob.client.get(`/api/conversations/${await conversation('empty')}/messages/`);
    assert.deepEqual([empty.status, empty.body.count, empty.body.results.length], [200, 0, 0]);
  });

  it('pages history by seq cursor (after_seq / before_seq / limit) without counting', async () => {
    const cid = await conversation();
    await sendN(cid, 12);
    const seqs = (b: { results: Array<{ seq: number }> }) => b.results.map((m) => m.seq);
    const latest = await bob.client.get(`/api/conversations/${cid}/messages/?limit=5`);
    assert.equal(latest.body.count, null);
    assert.deepEqual(seqs(latest.body), [8, 9, 10, 11, 12]);
    assert.equal(latest.body.next, null);
    assert.equal(new URL(latest.body.previous).searchParams.get('before_seq'), '8');

    // Walk back to the start with the previous links.
    const seen: number[] = [...seqs(latest.body)];
    let link: string | null = latest.body.previous;
    while (link) {
      const u = new URL(link);
      const page = await bob.client.get(u.pathname + u.search);
      seen.unshift(...seqs(page.body));
      link = page.body.previous;
    }
    assert.deepEqual(seen, Array.from({ length: 12 }, (_, i) => i + 1));

    const forward = await bob.client.get(`/api/conversations/${cid}/messages/?after_seq=0&limit=5`);
    assert.deepEqual(seqs(forward.body), [1, 2, 3, 4, 5]);
    assert.equal(forward.body.previous, null);
    assert.equal(new URL(forward.body.next).searchParams.get('after_seq'), '5');
    const tail = await bob.client.get(`/api/conversations/${cid}/messages/?after_seq=10`);
    assert.deepEqual(seqs(tail.body), [11, 12]);
    assert.equal(tail.body.next, null);
    const beyond = await bob.client.get(`/api/conversations/${cid}/messages/?after_seq=999`);
    assert.deepEqual([beyond.status, beyond.body.results.length, beyond.body.next], [200, 0, null]);
    const range = await bob.client.get(`/api/conversations/${cid}/messages/?after_seq=3&before_seq=7`);
    assert.deepEqual(seqs(range.body), [4, 5, 6]);
    const before1 = await bob.client.get(`/api/conversations/${cid}/messages/?before_seq=1`);
    assert.deepEqual([before1.body.results.length, before1.body.previous], [0, null]);
    const flat = await bob.client.get(`/api/messages/?conversation=${cid}&after_seq=11`);
    assert.deepEqual(seqs(flat.body), [12]);
    for (const q of ['after_seq=-1', 'before_seq=0', 'limit=0', 'limit=101', 'after_seq=x']) {
      const bad = await bob.client.get(`/api/conversations/${cid}/messages/?${q}`);
      assert.equal(bad.status, 400, q);
    }
    const noConv = await bob.client.get('/api/messages/?after_seq=1');
    assert.equal(noConv.status, 400);
    assert.equal(noConv.body.error.details.fields[0].path, 'conversation');
  });

  it('filters /api/messages/ by conversation and derived status', async () => {
    const cid = await conversation();
    await sendN(cid, 3);
    const statuses = async (status: string) =>
      (await alice.client.get(`/api/messages/?conversation=${cid}&status=${status}`)).body.results.map((m: { seq: number }) => m.seq).sort();
    assert.deepEqual(await statuses('sent'), [1, 2, 3]);
    assert.equal((await bob.client.post(`/api/conversations/${cid}/receipts/`, { delivered_seq: 3, read_seq: 1 })).status, 200);
    assert.deepEqual(await statuses('read'), [1]);
    assert.deepEqual(await statuses('delivered'), [2, 3]);
    assert.deepEqual(await statuses('sent'), []);
    const bad = await alice.client.get('/api/messages/?status=pending');
    assert.equal(bad.status, 400, 'pending exists only on the client');
    const all = await alice.client.get('/api/messages/');
    assert.ok(all.body.count >= 3);
  });

  it('marks receipts as forward-only watermarks, shows per-recipient state and inbox unread counts', async () => {
    const carol = await srv.signedIn();
    const res = await alice.client.post('/api/conversations/', { participants: [bob.user.id, carol.user.id], title: 'three' });
    const cid = res.body.conversation_id;
    await sendN(cid, 4);
    const inbox = async (c: HttpClient) => (await c.get('/api/chats/')).body.results.find((e: { conversation_id: string }) => e.conversation_id === cid);
    let b = await inbox(bob.client);
    assert.deepEqual([b.unread_count, b.last_seq, b.read_seq, b.delivered_seq], [4, 4, 0, 0]);
    assert.equal(b.last_message.message_body, 'm4');
    assert.equal(b.last_message_preview, 'm4');

    const mark = await bob.client.post(`/api/conversations/${cid}/receipts/`, { read_seq: 3 });
    assert.equal(mark.status, 200);
    assert.deepEqual([mark.body.read_seq, mark.body.delivered_seq, mark.body.unread_count], [3, 3, 1], 'read implies delivered');
    const back = await bob.client.post(`/api/conversations/${cid}/receipts/`, { read_seq: 1, delivered_seq: 2 });
    assert.deepEqual([back.body.read_seq, back.body.delivered_seq], [3, 3], 'never moves back');
    const capped = await bob.client.post(`/api/conversations/${cid}/receipts/`, { delivered_seq: 1000 });
    assert.equal(capped.body.delivered_seq, 4, 'capped at the last seq');
    b = await inbox(bob.client);
    assert.equal(b.unread_count, 1);
    const one = await bob.client.get(`/api/chats/${cid}/`);
    assert.equal(one.body.unread_count, 1);

    const m3 = (await alice.client.get(`/api/conversations/${cid}/messages/?after_seq=2&limit=1`)).body.results[0];
    assert.equal(m3.status, 'sent', 'carol has not received it');
    const r = await alice.client.get(`/api/messages/${m3.message_id}/receipts/`);
    assert.equal(r.status, 200);
    assert.deepEqual(
      r.body.receipts.map((x: { user_id: string; delivered: boolean; read: boolean }) => [x.user_id, x.delivered, x.read]).sort(),
      [[bob.user.id, true, true], [carol.user.id, false, false]].sort(),
    );
    await carol.client.post(`/api/conversations/${cid}/receipts/`, { delivered_seq: 4 });
    assert.equal((await alice.client.get(`/api/messages/${m3.message_id}/`)).body.status, 'delivered');
    await carol.client.post(`/api/conversations/${cid}/receipts/`, { read_seq: 4 });
    assert.equal((await alice.client.get(`/api/messages/${m3.message_id}/`)).body.status, 'read');

    for (const body of [{}, { read_seq: -1 }, { read_seq: 'x' }, { delivered_seq: 1.5 }]) {
      const bad = await bob.client.post(`/api/conversations/${cid}/receipts/`, body);
      assert.equal(bad.status, 400, JSON.stringify(body));
    }
  });

  it('requires the CSRF proofs for cookie-authenticated writes', async () => {
    const cid = await conversation();
    const noHeader = await alice.client.post('/api/messages/', { conversation: cid, message_body: 'x' }, { csrfHeader: false });
    assert.equal(noHeader.status, 403);
    assert.equal(noHeader.body.error.code, 'csrf_header');
    const foreign = await alice.client.post('/api/messages/', { conversation: cid, message_body: 'x' }, { origin: 'https://evil.example' });
    assert.equal(foreign.status, 403);
    assert.equal(foreign.body.error.code, 'csrf_origin');
    assert.equal((await alice.client.get(`/api/conversations/${cid}/messages/`)).body.count, 0);
  });

  it('answers anonymous callers with 401', async () => {
    const anon = srv.client();
    for (const [method, path] of [
      ['GET', '/api/messages/'],
      ['POST', '/api/messages/'],
      ['GET', '/api/chats/'],
      ['GET', '/api/conversations/'],
      ['POST', '/api/conversations/'],
    ] as const) {
      const res = await anon.request(method, path, method === 'POST' ? { json: {} } : {});
      assert.equal(res.status, 401, `${method} ${path}`);
      assert.equal(res.body.error.code, 'unauthenticated');
    }
  });
});

describe('send rate limit', () => {
  let srv: TestServer;
  before(async () => {
    srv = await startTestServer({ env: { MESSAGE_RATE_LIMIT: '5' } });
  });
  after(() => srv.close());

  it('answers 429 with Retry-After once a user spent the send budget; others are unaffected', async () => {
    const a = await srv.signedIn();
    const b = await srv.signedIn();
    const c = await a.client.post('/api/conversations/', { participants: [b.user.id] });
    const cid = c.body.conversation_id;
    const key = crypto.randomUUID();
    const first = await a.client.post('/api/messages/', { conversation: cid, message_body: 'm0', client_msg_id: key });
    assert.equal(first.status, 201);
    for (let i = 1; i < 5; i++) assert.equal((await a.client.post('/api/messages/', { conversation: cid, message_body: `m${i}` })).status, 201);
    const limited = await a.client.post('/api/messages/', { conversation: cid, message_body: 'one too many' });
    assert.equal(limited.status, 429);
    assert.equal(limited.body.error.code, 'rate_limited');
    assert.ok(Number(limited.headers.get('retry-after')) > 0);
    // Over budget, a retry of a committed send still learns its outcome.
    const retry = await a.client.post('/api/messages/', { conversation: cid, message_body: 'm0', client_msg_id: key });
    assert.equal(retry.status, 200);
    assert.equal(retry.body.message_id, first.body.message_id);
    assert.equal((await b.client.post('/api/messages/', { conversation: cid, message_body: 'fine' })).status, 201);
    assert.equal((await a.client.get(`/api/conversations/${cid}/messages/`)).body.count, 6);
  });
});
