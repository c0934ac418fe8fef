import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { countConnectedSockets } from '../../src/realtime/presence.ts';
import {
  collect,
  connectError,
  connectSocket,
  disconnected,
  emitAck,
  eventually,
  socketTokens,
  quiet,
  startCluster,
  type Cluster,
} from '../support/socket.ts';
import type { TestServer } from '../support/server.ts';

describe('socket authentication and lifecycle (two nodes)', () => {
  let cluster: Cluster;
  let a: TestServer;
  let b: TestServer;
  let tokens: ReturnType<typeof socketTokens>;
  before(async () => {
    cluster = await startCluster(2);
    [a, b] = cluster.nodes as [TestServer, TestServer];
    tokens = socketTokens(a);
  });
  after(() => cluster.close());

  it('connects with the session cookie of a signed-in browser', async () => {
    const { client } = await a.signedIn();
    const s = await connectSocket(a.url, { client });
    assert.equal(s.connected, true);
    s.close();
  });

  it('shares the session across nodes: signed in on A, socket on B', async () => {
    const { client } = await a.signedIn();
    const s = await connectSocket(b.url, { client });
    assert.equal(s.connected, true);
    s.close();
  });

  it('refuses a handshake without a cookie or token', async () => {
    const err = await connectError(a.url, { origin: a.config.http.publicUrl });
    assert.equal(err.data?.code, 'unauthenticated');
  });

  it('refuses a tampered session cookie', async () => {
    const { client } = await a.signedIn();
    const name = a.config.session.cookieName;
    client.cookies.set(name, `${client.cookies.get(name)!.slice(0, -2)}xx`);
    const err = await connectError(a.url, { client });
    assert.equal(err.data?.code, 'unauthenticated');
  });

  it('refuses a handshake from a foreign Origin, even with a valid cookie', async () => {
    const { client } = await a.signedIn();
    const err = await connectError(a.url, { client, origin: 'https://evil.example' });
    // Engine.IO refuses the upgrade itself (HTTP 400/403): no Socket.IO error body.
    assert.equal(err.data?.code, undefined);
    assert.match(err.message, /websocket error|xhr poll error|forbidden/i);
    const polling = await connectError(a.url, { client, origin: 'https://evil.example', transports: ['polling'] });
    assert.match(polling.message, /xhr poll error|forbidden/i);
  });

  it('refuses a cookie handshake that carries no Origin (not from one of our pages)', async () => {
    const { client } = await a.signedIn();
    const err = await connectError(a.url, { client, origin: false });
    assert.equal(err.data?.code, 'csrf_origin');
  });

  it('accepts a bearer token in auth.token and checks it', async () => {
    const user = await a.createUser();
    const good = await tokens.issue(user, ['read:messages']);
    const s = await connectSocket(b.url, { token: good });
    assert.equal(s.connected, true);
    s.close();
    assert.equal((await connectError(a.url, { token: 'not-a-token' })).data?.code, 'invalid_token');
    assert.equal((await connectError(a.url, { token: 42 as unknown as string })).data?.code, 'invalid_request');
    const wrongScope = await tokens.issue(user, ['smarthome']);
    assert.equal((await connectError(a.url, { token: wrongScope })).data?.code, 'insufficient_scope');
  });

  it('never reads cookies on the bearer path', async () => {
    const { client } = await a.signedIn();
    const err = await connectError(a.url, { client, token: 'bogus' });
    assert.equal(err.data?.code, 'invalid_token');
  });

  it('disconnects every socket of a session on every node at logout, and the cookie no longer works', async () => {
    const { client } = await a.signedIn();
    const onA = await connectSocket(a.url, { client });
    const onB = await connectSocket(b.url, { client });
    const other = await a.signedIn();
    const bystander = await connectSocket(b.url, { client: other.client });
    const cookie = client.cookieHeader();
    const goneA = disconnected(onA);
    const goneB = disconnected(onB);
    const res = await client.post('/auth/logout');
    assert.equal(res.status, 204);
    assert.equal(await goneA, 'io server disconnect');
    assert.equal(await goneB, 'io server disconnect');
    assert.equal(bystander.connected, true);
    bystander.close();
    const err = await connectError(b.url, { headers: { cookie }, origin: b.config.http.publicUrl });
    assert.equal(err.data?.code, 'unauthenticated');
  });

  it('disconnects a deactivated user everywhere (session and token sockets)', async () => {
    const { client, user } = await a.signedIn();
    const browser = await connectSocket(b.url, { client });
    const device = await connectSocket(b.url, { token: await tokens.issue(user, ['devices']) });
    const gone = [disconnected(browser), disconnected(device)];
    await a.app.services.users.setActive(user.id, false);
    assert.deepEqual(await Promise.all(gone), ['io server disconnect', 'io server disconnect']);
  });

  it('disconnects the sockets of a revoked grant on every node (revoked on A, sockets on B)', async () => {
    const user = await a.createUser();
    const token = await tokens.issue(user, ['read:messages']);
    const other = await tokens.issue(user, ['read:messages']);
    const s = await connectSocket(b.url, { token });
    const s2 = await connectSocket(b.url, { token: other });
    const gone = disconnected(s);
    await tokens.revoke(token);
    assert.equal(await gone, 'io server disconnect');
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(s2.connected, true, 'another grant is not affected');
    s2.close();
  });

  it('ends a token\'s socket when the token expires', async () => {
    const user = await a.createUser();
    const s = await connectSocket(b.url, { token: await tokens.issue(user, ['read:messages'], 2) });
    assert.equal(await disconnected(s, 5000), 'io server disconnect');
  });

  it('counts connected sockets across nodes', async () => {
    // Sockets closed by earlier tests leave asynchronously; start from a settled count.
    let base = -1;
    await eventually(async () => {
      const n = await countConnectedSockets(a.app);
      const settled = n === base;
      base = n;
      return settled;
    }, 3000, 'a settled count');
    await new Promise((r) => setTimeout(r, 200));
    base = await countConnectedSockets(a.app);
    const { client } = await a.signedIn();
    const s1 = await connectSocket(a.url, { client });
    const s2 = await connectSocket(b.url, { client });
    await eventually(async () => (await countConnectedSockets(b.app)) === base + 2, 3000, `count ${base} + 2 (now ${await countConnectedSockets(b.app)})`);
    s1.close();
    await eventually(async () => (await countConnectedSockets(a.app)) === base + 1, 3000, 'count +1');
    s2.close();
    await eventually(async () => (await countConnectedSockets(a.app)) === base, 3000, 'count back');
  });

  it('answers bad payloads with an error ack, never a crash', async () => {
    const { client } = await a.signedIn();
    const s = await connectSocket(a.url, { client });
    const seen = collect(s, 'typing');
    const notUuid = await emitAck(s, 'typing', { conversation_id: 'nope' });
    assert.equal(notUuid.error.code, 'validation_failed');
    assert.equal(notUuid.error.details.fields[0].path, 'conversation_id');
    assert.equal((await emitAck(s, 'typing', 'a string')).error.code, 'validation_failed');
    assert.equal((await emitAck(s, 'typing')).error.code, 'validation_failed');
    assert.equal((await emitAck(s, 'typing', { conversation_id: crypto.randomUUID(), extra: 1 })).error.code, 'validation_failed');
    const big = await emitAck(s, 'typing', { conversation_id: crypto.randomUUID(), pad: 'x'.repeat(20_000) });
    assert.equal(big.error.code, 'payload_too_large');
    const foreign = await emitAck(s, 'typing', { conversation_id: crypto.randomUUID() });
    assert.equal(foreign.error.code, 'not_found');
    await quiet(seen);
    assert.equal(s.connected, true);
    s.close();
  });

  it('limits the events a socket may send', async () => {
    const { client } = await a.signedIn();
    const s = await connectSocket(a.url, { client });
    const codes = new Map<string, number>();
    const limit = a.config.realtime.eventsPer10s;
    const replies = await Promise.all(Array.from({ length: limit + 5 }, () => emitAck(s, 'presence:get', { user_ids: [crypto.randomUUID()] })));
    for (const r of replies) {
      const code = r.error?.code ?? 'ok';
      codes.set(code, (codes.get(code) ?? 0) + 1);
    }
    assert.equal(codes.get('ok'), limit);
    assert.equal(codes.get('rate_limited'), 5);
    s.close();
  });
});
