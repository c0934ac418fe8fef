import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { SendBatcher, type Outcome } from '../../src/domain/messaging/send-batcher.ts';
import type { Actor, User } from '../../src/domain/users/user.types.ts';
import { NotFoundError } from '../../src/errors.ts';
import { startTestServer, type TestServer } from '../support/server.ts';

const actor = (user: User): Actor => ({ user, via: 'session', scopes: null });

interface Job {
  key: string;
  n: number;
  fail?: 'alone' | 'batch';
}

/** A batcher over an in-memory log that records each flush, to observe grouping and ordering. */
function recordingBatcher(opts: { maxBatch?: number; concurrency?: number; delayMs?: number } = {}) {
  const flushes: Job[][] = [];
  const log = new Map<string, number[]>();
  const batcher = new SendBatcher<Job, number>(
    async (jobs) => {
      flushes.push(jobs);
      await new Promise((r) => setTimeout(r, opts.delayMs ?? 5));
      if (jobs.length > 1 && jobs.some((j) => j.fail === 'batch')) throw new Error('batch failed');
      return jobs.map((j): Outcome<number> => {
        if (j.fail) return { ok: false, error: new Error(`job ${j.n} failed`) };
        const list = log.get(j.key) ?? [];
        list.push(j.n);
        log.set(j.key, list);
        return { ok: true, value: list.length };
      });
    },
    (j) => j.key,
    { maxBatch: opts.maxBatch ?? 100, windowMs: 0, concurrency: opts.concurrency ?? 2 },
  );
  return { batcher, flushes, log };
}

describe('SendBatcher (group commit)', () => {
  it('flushes everything submitted in one tick as one batch, in arrival order', async () => {
    const { batcher, flushes } = recordingBatcher();
    const results = await Promise.all(Array.from({ length: 50 }, (_, n) => batcher.submit({ key: 'a', n })));
    assert.equal(flushes.length, 1);
    assert.deepEqual(results, Array.from({ length: 50 }, (_, i) => i + 1));
  });

  it('settles a failing job alone without failing its neighbours', async () => {
    const { batcher, flushes } = recordingBatcher();
    const settled = await Promise.allSettled(Array.from({ length: 5 }, (_, n) => batcher.submit({ key: 'a', n, ...(n === 2 ? { fail: 'alone' as const } : {}) })));
    assert.deepEqual(settled.map((s) => s.status), ['fulfilled', 'fulfilled', 'rejected', 'fulfilled', 'fulfilled']);
    assert.equal(flushes.length, 1);
  });

  it('retries every job alone when the whole batch fails, so one poisoned job fails only itself', async () => {
    const { batcher, flushes, log } = recordingBatcher();
    const settled = await Promise.allSettled(Array.from({ length: 4 }, (_, n) => batcher.submit({ key: 'a', n, ...(n === 1 ? { fail: 'batch' as const } : {}) })));
    assert.deepEqual(settled.map((s) => s.status), ['fulfilled', 'rejected', 'fulfilled', 'fulfilled']);
    assert.equal(flushes[0]!.length, 4);
    assert.deepEqual(flushes.slice(1).map((f) => f.length), [1, 1, 1, 1]);
    assert.deepEqual(log.get('a'), [0, 2, 3], 'order kept');
  });

  it('never runs two batches of one key at once, so a key keeps arrival order across batches', async () => {
    const { batcher, flushes, log } = recordingBatcher({ maxBatch: 3, concurrency: 4, delayMs: 10 });
    const jobs = Array.from({ length: 20 }, (_, n) => ({ key: n % 2 ? 'odd' : 'even', n }));
    await Promise.all(jobs.map((j) => batcher.submit(j)));
    assert.deepEqual(log.get('even'), jobs.filter((j) => j.key === 'even').map((j) => j.n));
    assert.deepEqual(log.get('odd'), jobs.filter((j) => j.key === 'odd').map((j) => j.n));
    assert.ok(flushes.every((f) => f.length <= 3));
    await batcher.drain();
  });
});

describe('group commit against PostgreSQL', () => {
  let srv: TestServer;
  let second: TestServer;
  before(async () => {
    srv = await startTestServer({ keepData: true });
    // A second node on the same schema and Redis prefix (already migrated by the first).
    second = await startTestServer({ schema: srv.config.db.schema, redisPrefix: srv.config.redis.prefix, keepData: true, env: { MIGRATE_ON_START: 'false' } });
  });
  after(async () => {
    await second?.close();
    await srv.close();
    const { dropTestData } = await import('../support/server.ts');
    await dropTestData(srv.config);
  });

  it('isolates a non-member’s send inside a batch: the others commit gap-free', async () => {
    const [a, b, outsider] = await Promise.all([srv.createUser({ password: null }), srv.createUser({ password: null }), srv.createUser({ password: null })]);
    const { conversation } = await srv.app.services.conversations.create(actor(a), { participants: [b.id] });
    const settled = await Promise.allSettled(
      Array.from({ length: 30 }, (_, i) => srv.app.services.messages.send(actor(i === 7 ? outsider : a), { conversationId: conversation.id, body: `m${i}` })),
    );
    assert.equal(settled[7]!.status, 'rejected');
    assert.ok((settled[7] as PromiseRejectedResult).reason instanceof NotFoundError);
    const ok = settled.filter((s): s is PromiseFulfilledResult<Awaited<ReturnType<typeof srv.app.services.messages.send>>> => s.status === 'fulfilled');
    assert.deepEqual(ok.map((s) => s.value.message.seq), Array.from({ length: 29 }, (_, i) => i + 1));
  });

  it('keeps each conversation gap-free and in arrival order when one batch spans several', async () => {
    const [a, b] = await Promise.all([srv.createUser({ password: null }), srv.createUser({ password: null })]);
    const convs = await Promise.all([1, 2, 3].map((i) => srv.app.services.conversations.create(actor(a), { participants: [b.id], title: `c${i}` })));
    const jobs = Array.from({ length: 90 }, (_, i) => ({ conversationId: convs[i % 3]!.conversation.id, body: `${i}` }));
    const res = await Promise.all(jobs.map((j) => srv.app.services.messages.send(actor(a), j)));
    for (const { conversation } of convs) {
      const mine = res.filter((r) => r.message.conversationId === conversation.id);
      assert.deepEqual(mine.map((r) => r.message.seq), Array.from({ length: 30 }, (_, i) => i + 1));
      const bodies = mine.map((r) => Number(r.message.body));
      assert.deepEqual(bodies, [...bodies].sort((x, y) => x - y), 'seq follows arrival order');
    }
  });

  it('deduplicates the same client_msg_id submitted twice in one batch', async () => {
    const [a, b] = await Promise.all([srv.createUser({ password: null }), srv.createUser({ password: null })]);
    const { conversation } = await srv.app.services.conversations.create(actor(a), { participants: [b.id] });
    const send = () => srv.app.services.messages.send(actor(a), { conversationId: conversation.id, body: 'x', clientMsgId: 'same' });
    const [r1, r2, r3] = await Promise.all([send(), send(), send()]);
    assert.deepEqual([r1.created, r2.created, r3.created], [true, false, false]);
    assert.equal(new Set([r1.message.id, r2.message.id, r3.message.id]).size, 1);
    assert.equal((await srv.app.services.conversations.get(actor(a), conversation.id)).lastSeq, 1);
  });

  it('two nodes sending 100 messages each into one conversation: seqs 1..200, no gaps, no duplicates', async () => {
    const [a, b] = await Promise.all([srv.createUser({ password: null }), srv.createUser({ password: null })]);
    const { conversation } = await srv.app.services.conversations.create(actor(a), { participants: [b.id] });
    const res = await Promise.all([
      ...Array.from({ length: 100 }, (_, i) => srv.app.services.messages.send(actor(a), { conversationId: conversation.id, body: `a${i}`, clientMsgId: `a${i}` })),
      ...Array.from({ length: 100 }, (_, i) => second.app.services.messages.send(actor(b), { conversationId: conversation.id, body: `b${i}`, clientMsgId: `b${i}` })),
    ]);
    assert.deepEqual(res.map((r) => r.message.seq).sort((x, y) => x - y), Array.from({ length: 200 }, (_, i) => i + 1));
    // Retrying every send on the other node returns the originals.
    const again = await Promise.all(
      Array.from({ length: 100 }, (_, i) => second.app.services.messages.send(actor(a), { conversationId: conversation.id, body: `a${i}`, clientMsgId: `a${i}` })),
    );
    assert.ok(again.every((r, i) => !r.created && r.message.id === res[i]!.message.id));
    const sync = await srv.app.services.messages.syncConversation(actor(b), conversation.id, 0, 1000);
    assert.deepEqual(sync.changes.map((m) => m.changeSeq), Array.from({ length: 200 }, (_, i) => i + 1));
  });
});

describe('the OpenAPI document', () => {
  let srv: TestServer;
  before(async () => {
    srv = await startTestServer();
  });
  after(() => srv.close());

  it('documents every messaging route with its scope and the seed README examples', async () => {
    const doc = (await srv.client().get('/api/openapi.json')).body;
    const op = (p: string, m: string) => doc.paths[p]?.[m];
    assert.deepEqual(op('/api/conversations/', 'post').security[0], { oauth2: ['manage:conversations'] });
    assert.deepEqual(op('/api/messages/', 'post').security[0], { oauth2: ['send:messages'] });
    assert.deepEqual(op('/api/messages/{id}/', 'delete').security[0], { oauth2: ['send:messages'] });
    assert.deepEqual(op('/api/conversations/{id}/', 'patch').security[0], { oauth2: ['manage:conversations'] });
    assert.deepEqual(op('/api/conversations/{id}/messages/', 'get').security[0], { oauth2: ['read:messages'] });
    for (const p of ['/api/chats/', '/api/users/', '/api/messages/{id}/receipts/', '/api/conversations/{id}/receipts/', '/api/conversations/{id}/participants/{user_id}/']) {
      assert.ok(doc.paths[p], p);
    }
    assert.deepEqual(doc.components.schemas.CreateConversation.example.participants.length, 1);
    assert.equal(doc.components.schemas.SendMessage.example.message_body, 'Hello, how are you?');
    assert.match(op('/api/conversations/', 'post').description, /curl -X POST \$BASE\/api\/messages\//);
    assert.ok(doc.components.schemas.Message.properties.seq);
  });
});
