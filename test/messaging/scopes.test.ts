import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { User } from '../../src/domain/users/user.types.ts';
import { ALL_SCOPES, issueAccessToken } from '../support/oauth.ts';
import { startTestServer, type TestServer } from '../support/server.ts';

interface Fixture {
  alice: User;
  bob: User;
  conversationId: string;
  messageId: string;
}

interface RouteCase {
  name: string;
  method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';
  scope: string;
  path: (f: Fixture) => string;
  body?: (f: Fixture) => unknown;
  /** Expected status with the right scope. */
  ok: number;
}

// The seed's per-method scope table, with its PATCH/DELETE gaps closed.
const ROUTES: RouteCase[] = [
  { name: 'list conversations', method: 'GET', scope: 'read:messages', path: () => '/api/conversations/', ok: 200 },
  { name: 'create conversation', method: 'POST', scope: 'manage:conversations', path: () => '/api/conversations/', body: (f) => ({ participants: [f.bob.id], title: 'new' }), ok: 201 },
  { name: 'retrieve conversation', method: 'GET', scope: 'read:messages', path: (f) => `/api/conversations/${f.conversationId}/`, ok: 200 },
  { name: 'rename (PATCH)', method: 'PATCH', scope: 'manage:conversations', path: (f) => `/api/conversations/${f.conversationId}/`, body: () => ({ title: 'renamed' }), ok: 200 },
  { name: 'rename (PUT)', method: 'PUT', scope: 'manage:conversations', path: (f) => `/api/conversations/${f.conversationId}/`, body: () => ({ title: 'renamed again' }), ok: 200 },
  { name: 'add participants', method: 'POST', scope: 'manage:conversations', path: (f) => `/api/conversations/${f.conversationId}/participants/`, body: (f) => ({ participants: [f.bob.id] }), ok: 200 },
  { name: 'list conversation messages', method: 'GET', scope: 'read:messages', path: (f) => `/api/conversations/${f.conversationId}/messages/`, ok: 200 },
  { name: 'send in conversation', method: 'POST', scope: 'send:messages', path: (f) => `/api/conversations/${f.conversationId}/messages/`, body: () => ({ message_body: 'nested' }), ok: 201 },
  { name: 'mark receipts', method: 'POST', scope: 'read:messages', path: (f) => `/api/conversations/${f.conversationId}/receipts/`, body: () => ({ read_seq: 1 }), ok: 200 },
  { name: 'list messages', method: 'GET', scope: 'read:messages', path: () => '/api/messages/', ok: 200 },
  { name: 'send message', method: 'POST', scope: 'send:messages', path: () => '/api/messages/', body: (f) => ({ conversation: f.conversationId, message_body: 'flat' }), ok: 201 },
  { name: 'retrieve message', method: 'GET', scope: 'read:messages', path: (f) => `/api/messages/${f.messageId}/`, ok: 200 },
  { name: 'message receipts', method: 'GET', scope: 'read:messages', path: (f) => `/api/messages/${f.messageId}/receipts/`, ok: 200 },
  { name: 'edit message (PATCH)', method: 'PATCH', scope: 'send:messages', path: (f) => `/api/messages/${f.messageId}/`, body: () => ({ message_body: 'edited' }), ok: 200 },
  { name: 'edit message (PUT)', method: 'PUT', scope: 'send:messages', path: (f) => `/api/messages/${f.messageId}/`, body: () => ({ message_body: 'edited again' }), ok: 200 },
  { name: 'delete message', method: 'DELETE', scope: 'send:messages', path: (f) => `/api/messages/${f.messageId}/`, ok: 204 },
  { name: 'chat inbox', method: 'GET', scope: 'read:messages', path: () => '/api/chats/', ok: 200 },
  { name: 'chat entry', method: 'GET', scope: 'read:messages', path: (f) => `/api/chats/${f.conversationId}/`, ok: 200 },
  { name: 'remove participant', method: 'DELETE', scope: 'manage:conversations', path: (f) => `/api/conversations/${f.conversationId}/participants/${f.bob.id}/`, ok: 204 },
  { name: 'leave conversation', method: 'DELETE', scope: 'manage:conversations', path: (f) => `/api/conversations/${f.conversationId}/`, ok: 204 },
  { name: 'list users', method: 'GET', scope: 'read:messages', path: () => '/api/users/', ok: 200 },
  { name: 'retrieve user', method: 'GET', scope: 'read:messages', path: (f) => `/api/users/${f.alice.id}/`, ok: 200 },
];

describe('messaging API with OAuth bearer tokens: the scope table', () => {
  let srv: TestServer;
  before(async () => {
    srv = await startTestServer();
  });
  after(() => srv.close());

  /** A fresh conversation between two new users with one message of alice's. */
  async function fixture(): Promise<Fixture> {
    const alice = await srv.createUser({ password: null });
    const bob = await srv.createUser({ password: null });
    const actor = { user: alice, via: 'session' as const, scopes: null };
    const { conversation } = await srv.app.services.conversations.create(actor, { participants: [bob.id], title: 'scoped' });
    const { message } = await srv.app.services.messages.send(actor, { conversationId: conversation.id, body: 'first' });
    return { alice, bob, conversationId: conversation.id, messageId: message.id };
  }

  function call(token: string | undefined, r: RouteCase, f: Fixture) {
    const body = r.body?.(f);
    return srv.client().request(r.method, r.path(f), { ...(body !== undefined ? { json: body } : {}), ...(token ? { bearer: token } : {}), origin: false, csrfHeader: false });
  }

  for (const r of ROUTES) {
    it(`${r.method} ${r.name}: needs ${r.scope} (403 without it, 401 anonymous, ${r.ok} with it)`, async () => {
      const f = await fixture();
      const others = ALL_SCOPES.filter((s) => s !== r.scope);
      const without = await call(await issueAccessToken(srv, { user: f.alice, scopes: others }), r, f);
      assert.equal(without.status, 403, without.text);
      assert.equal(without.body.error.code, 'insufficient_scope');
      assert.match(without.headers.get('www-authenticate') ?? '', new RegExp(`insufficient_scope.*${r.scope}`));

      const anonymous = await call(undefined, r, f);
      assert.equal(anonymous.status, 401);
      assert.equal(anonymous.body.error.code, 'unauthenticated');

      const bogus = await call('not-a-real-token', r, f);
      assert.equal(bogus.status, 401);
      assert.equal(bogus.body.error.code, 'invalid_token');

      const withScope = await call(await issueAccessToken(srv, { user: f.alice, scopes: [r.scope] }), r, f);
      assert.equal(withScope.status, r.ok, withScope.text);
    });
  }

  it('runs the seed README examples with a token: create a conversation, send a message, list its messages', async () => {
    const alice = await srv.createUser({ password: null });
    const bob = await srv.createUser({ password: null });
    const token = await issueAccessToken(srv, { user: alice, scopes: ['read:messages', 'send:messages', 'manage:conversations'] });
    const c = srv.client();
    const conv = await c.post('/api/conversations/', { participants: [bob.id] }, { bearer: token, origin: false, csrfHeader: false });
    assert.equal(conv.status, 201);
    assert.deepEqual(Object.keys(conv.body).filter((k) => ['conversation_id', 'participants', 'participants_count', 'last_message_preview', 'created_at', 'updated_at'].includes(k)).length, 6);
    const msg = await c.post('/api/messages/', { conversation: conv.body.conversation_id, message_body: 'Hello, how are you?' }, { bearer: token, origin: false, csrfHeader: false });
    assert.equal(msg.status, 201);
    for (const k of ['message_id', 'conversation', 'message_body', 'status', 'sent_at']) assert.ok(k in msg.body, k);
    assert.equal(msg.body.sender, alice.id, 'the sender is the token’s user, never taken from the body');
    const list = await c.get(`/api/conversations/${conv.body.conversation_id}/messages/`, { bearer: token });
    assert.equal(list.status, 200);
    assert.deepEqual(list.body.results.map((m: { message_id: string }) => m.message_id), [msg.body.message_id]);
  });

  it('refuses profile changes with a bearer token (browser session only)', async () => {
    const user = await srv.createUser({ password: null });
    const token = await issueAccessToken(srv, { user, scopes: ALL_SCOPES });
    const res = await srv.client().patch(`/api/users/${user.id}/`, { display_name: 'x' }, { bearer: token, origin: false, csrfHeader: false });
    assert.equal(res.status, 403);
    assert.equal(res.body.error.code, 'session_required');
  });

  it('a token of a non-participant gets 404 and cannot post (no fake 201)', async () => {
    const f = await fixture();
    const mallory = await srv.createUser({ password: null });
    const token = await issueAccessToken(srv, { user: mallory, scopes: ALL_SCOPES });
    const opts = { bearer: token, origin: false, csrfHeader: false } as const;
    const c = srv.client();
    const post = await c.post('/api/messages/', { conversation: f.conversationId, message_body: 'let me in' }, opts);
    assert.equal(post.status, 404);
    assert.equal(post.body.error.code, 'not_found');
    assert.equal((await c.get(`/api/conversations/${f.conversationId}/`, opts)).status, 404);
    assert.equal((await c.get(`/api/conversations/${f.conversationId}/messages/`, opts)).status, 404);
    assert.equal((await c.get(`/api/messages/${f.messageId}/`, opts)).status, 404);
    const history = await srv.app.services.messages.history({ user: f.alice, via: 'session', scopes: null }, f.conversationId, {});
    assert.deepEqual(history.items.map((m) => m.body), ['first'], 'nothing was stored');
  });
});
