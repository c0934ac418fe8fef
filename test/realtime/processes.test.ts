/**
 * Two server PROCESSES sharing PostgreSQL and Redis: node A runs in the test process, node B is a separate
 * `node src/main.ts` started with the same settings. Nothing but PostgreSQL and Redis connects them.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import type { User } from '../../src/domain/users/user.types.ts';
import { freePort, TEST_DATABASE_URL, TEST_REDIS_URL } from '../support/config.ts';
import { HttpClient } from '../support/http.ts';
import { collect, connectSocket, emitAck, nextEvent, type ClientSocket } from '../support/socket.ts';
import { startTestServer, type TestServer } from '../support/server.ts';

const MAIN = fileURLToPath(new URL('../../src/main.ts', import.meta.url));

describe('two server processes', () => {
  let a: TestServer;
  let nodeB: ChildProcess;
  let urlB: string;
  const sockets: ClientSocket[] = [];

  before(async () => {
    const [portA, portB] = [await freePort(), await freePort()];
    const urlA = `http://127.0.0.1:${portA}`;
    urlB = `http://127.0.0.1:${portB}`;
    a = await startTestServer({ port: portA, env: { PUBLIC_URL: urlA, ALLOWED_ORIGINS: urlB } });
    nodeB = spawn(process.execPath, [MAIN], {
      env: {
        PATH: process.env.PATH,
        NODE_ENV: 'test',
        HOST: '127.0.0.1',
        PORT: String(portB),
        PUBLIC_URL: urlA,
        ALLOWED_ORIGINS: urlB,
        DATABASE_URL: TEST_DATABASE_URL,
        DATABASE_SCHEMA: a.config.db.schema,
        MIGRATE_ON_START: 'false',
        REDIS_URL: TEST_REDIS_URL,
        REDIS_PREFIX: a.config.redis.prefix,
        SESSION_KEYS: a.config.session.keys.join(','),
        LOG_LEVEL: 'warn',
        LOG_FORMAT: 'json',
      },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    const deadline = Date.now() + 30_000;
    for (;;) {
      const up = await fetch(`${urlB}/readyz`).then((r) => r.ok, () => false);
      if (up) break;
      if (Date.now() > deadline || nodeB.exitCode !== null) throw new Error('node B did not start');
      await new Promise((r) => setTimeout(r, 100));
    }
  });
  after(async () => {
    for (const s of sockets) s.close();
    if (nodeB.exitCode === null) {
      nodeB.kill('SIGTERM');
      await once(nodeB, 'exit');
    }
    await a.close();
  });

  const signInOn = async (base: string, user: User) => {
    const client = new HttpClient(base);
    const res = await client.post('/auth/login', { email: user.email, password: 'correct horse battery staple' });
    assert.equal(res.status, 200, res.text);
    return client;
  };

  it('sender on A, recipient on B: message, then delivered and read flow back to the sender', async () => {
    const alice = await a.createUser();
    const bob = await a.createUser();
    const { conversation } = await a.app.services.conversations.create({ user: alice, via: 'session', scopes: null }, { participants: [bob.id] });
    const aliceA = await connectSocket(a.url, { client: await signInOn(a.url, alice) });
    const bobB = await connectSocket(urlB, { client: await signInOn(urlB, bob) });
    sockets.push(aliceA, bobB);
    const status = collect(aliceA, 'message:status');
    const arrived = nextEvent(bobB, 'message:new');
    const sent = await emitAck(aliceA, 'message:send', { conversation_id: conversation.id, body: 'across processes', client_msg_id: 'p-1' });
    const m = await arrived;
    assert.equal(m.message_id, sent.data.message_id);
    await emitAck(bobB, 'receipt:delivered', { conversation_id: conversation.id, seq: m.seq });
    await nextEvent(aliceA, 'message:status', (s) => s.status === 'delivered').catch(() => undefined);
    await emitAck(bobB, 'receipt:read', { conversation_id: conversation.id, seq: m.seq });
    const deadline = Date.now() + 5000;
    while (status.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(status.map((s) => [s.status, s.up_to_seq, s.by]), [
      ['delivered', 1, bob.id],
      ['read', 1, bob.id],
    ]);

    // Long-poll held by process B, woken by a send in process A.
    const bobHttp = await signInOn(urlB, bob);
    const start = await bobHttp.get('/api/sync');
    const polled = bobHttp.get(`/api/sync?cursor=${start.body.cursor}&timeout=20000`);
    await new Promise((r) => setTimeout(r, 300));
    const t0 = Date.now();
    await emitAck(aliceA, 'message:send', { conversation_id: conversation.id, body: 'wake B' });
    const res = await polled;
    assert.equal(res.status, 200);
    assert.ok(Date.now() - t0 < 5000);
    assert.deepEqual(res.body.conversations[0].changes.map((c: { message_body: string }) => c.message_body), ['wake B']);
  });
});
