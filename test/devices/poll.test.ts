import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { sql } from 'kysely';
import type { HttpClient } from '../support/http.ts';
import { startTestServer, type TestServer } from '../support/server.ts';

const ON_OFF = 'action.devices.commands.OnOff';
const BRIGHTNESS = 'action.devices.commands.BrightnessAbsolute';
/** Python's isoformat() of an aware UTC datetime, as the seed answered. */
const SEED_TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{6})?\+00:00$/;

async function addDevice(client: HttpClient, id: string, type = 'LIGHT') {
  const res = await client.post('/api/devices/', { id, type, traits: ['OnOff', 'Brightness'], name: id });
  assert.equal(res.status, 201, res.text);
}

describe('POST /api/poll-messages/ (seed-compatible polling)', () => {
  let srv: TestServer;
  before(async () => {
    srv = await startTestServer({ env: { DEVICE_POLL_MAX_WAIT: '2', DEVICE_MESSAGE_CLEANUP_INTERVAL: '0' } });
  });
  after(() => srv.close());

  const send = (ownerId: string, deviceId: string, command: string, params: Record<string, unknown> = {}) =>
    srv.app.services.deviceMessages.createCommand(ownerId, deviceId, { command, params });

  it('answers exactly the seed’s shape: status, camelCase fields, +00:00 timestamps, the seed’s topic and text', async () => {
    const { client, user } = await srv.signedIn();
    await addDevice(client, 'light-1');
    await send(user.id, 'light-1', ON_OFF, { on: true });
    await send(user.id, 'light-1', ON_OFF, { on: false });
    await send(user.id, 'light-1', BRIGHTNESS, { brightness: 65 });
    await send(user.id, 'light-1', 'action.devices.commands.ColorAbsolute', { color: { spectrumRGB: 255 } });
    const res = await client.post('/api/poll-messages/', { messagesRead: [] });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
    assert.deepEqual(Object.keys(res.body), ['status', 'messages']);
    assert.equal(res.body.status, 'success');
    assert.equal(res.body.messages.length, 4);
    for (const m of res.body.messages) {
      assert.deepEqual(Object.keys(m), ['id', 'deviceId', 'topic', 'text', 'isRead', 'timestamp']);
      assert.match(m.id, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
      assert.equal(m.deviceId, 'light-1');
      assert.equal(m.isRead, false);
      assert.match(m.timestamp, SEED_TIMESTAMP);
      assert.ok(Math.abs(Date.parse(m.timestamp) - Date.now()) < 60_000);
    }
    assert.deepEqual(
      res.body.messages.map((m: { topic: string; text: string }) => [m.topic, m.text]),
      [
        ['light-1/action.devices.commands.OnOff', 'on'],
        ['light-1/action.devices.commands.OnOff', 'off'],
        ['light-1/action.devices.commands.BrightnessAbsolute', '65'],
        ['light-1/action.devices.commands.ColorAbsolute', ''],
      ],
    );
    // With withPayload the full parameters and the expiry come along.
    const full = await client.post('/api/poll-messages/', { withPayload: true });
    assert.deepEqual(full.body.messages[3].payload, { color: { spectrumRGB: 255 } });
    assert.ok(Date.parse(full.body.messages[3].expiresAt) > Date.now());
  });

  it('acknowledges and fetches in one round trip; acknowledged messages are not sent again', async () => {
    const { client, user } = await srv.signedIn();
    await addDevice(client, 'plug');
    const m1 = await send(user.id, 'plug', ON_OFF, { on: true });
    const m2 = await send(user.id, 'plug', ON_OFF, { on: false });
    const first = await client.post('/api/poll-messages/', {});
    assert.deepEqual(first.body.messages.map((m: { id: string }) => m.id), [m1.id, m2.id]);
    const again = await client.post('/api/poll-messages/', { messagesRead: [m1.id] });
    assert.deepEqual(again.body.messages.map((m: { id: string }) => m.id), [m2.id], 'the ack applies before the fetch');
    const last = await client.post('/api/poll-messages/', { messagesRead: [m2.id, m2.id, randomUUID()] });
    assert.deepEqual(last.body.messages, []);
    const rows = await srv.app.db.db.selectFrom('device_messages').select(['id', 'read_at']).where('id', 'in', [m1.id, m2.id]).execute();
    assert.ok(rows.every((r) => r.read_at instanceof Date));
  });

  it('isolates owners: A never sees B’s messages and cannot acknowledge them', async () => {
    const a = await srv.signedIn();
    const b = await srv.signedIn();
    await addDevice(a.client, 'light-1');
    await addDevice(b.client, 'light-1');
    const ma = await send(a.user.id, 'light-1', ON_OFF, { on: true });
    const mb = await send(b.user.id, 'light-1', ON_OFF, { on: false });
    const seenByA = await a.client.post('/api/poll-messages/', { messagesRead: [mb.id] });
    assert.deepEqual(seenByA.body.messages.map((m: { id: string }) => m.id), [ma.id]);
    const seenByB = await b.client.post('/api/poll-messages/', {});
    assert.deepEqual(seenByB.body.messages.map((m: { id: string }) => m.id), [mb.id], 'A’s ack of B’s message changed nothing');
    assert.deepEqual(await srv.app.services.deviceMessages.ack(a.user.id, [mb.id]), []);
    // Commands can only target the owner's own devices.
    await assert.rejects(send(a.user.id, 'nope', ON_OFF, { on: true }), { code: 'device_not_found' });
  });

  it('orders oldest first, honours limit (default 100) and the deviceId filter', async () => {
    const { client, user } = await srv.signedIn();
    await addDevice(client, 'hub-a');
    await addDevice(client, 'hub-b');
    const created = await srv.app.services.deviceMessages.createCommands(
      user.id,
      Array.from({ length: 105 }, (_, i) => ({ deviceId: i % 2 ? 'hub-b' : 'hub-a', command: BRIGHTNESS, params: { brightness: i } })),
    );
    const all = await client.post('/api/poll-messages/', {});
    assert.equal(all.body.messages.length, 100);
    assert.deepEqual(all.body.messages.map((m: { id: string }) => m.id), created.slice(0, 100).map((m) => m.id));
    assert.deepEqual(all.body.messages.slice(0, 3).map((m: { text: string }) => m.text), ['0', '1', '2']);
    const two = await client.post('/api/poll-messages/', { limit: 2 });
    assert.deepEqual(two.body.messages.map((m: { text: string }) => m.text), ['0', '1']);
    const onlyB = await client.post('/api/poll-messages/', { deviceId: 'hub-b', limit: 3 });
    assert.deepEqual(onlyB.body.messages.map((m: { text: string }) => m.text), ['1', '3', '5']);
    assert.ok(onlyB.body.messages.every((m: { deviceId: string }) => m.deviceId === 'hub-b'));
    const unknown = await client.post('/api/poll-messages/', { deviceId: 'hub-c' });
    assert.equal(unknown.status, 404);
    assert.equal(unknown.body.status, 'error');
    assert.equal(unknown.body.code, 'device_not_found');
  });

  it('stops delivering expired commands', async () => {
    const { client, user } = await srv.signedIn();
    await addDevice(client, 'lamp');
    const old = await send(user.id, 'lamp', ON_OFF, { on: true });
    const fresh = await send(user.id, 'lamp', ON_OFF, { on: false });
    const short = await srv.app.services.deviceMessages.createCommand(user.id, 'lamp', { command: ON_OFF, params: { on: true } }, { ttlSeconds: 1 });
    await srv.app.db.db.updateTable('device_messages').set({ expires_at: sql`now() - interval '1 second'` }).where('id', '=', old.id).execute();
    const expectedTtl = srv.config.devices.commandTtlSeconds * 1000;
    assert.ok(Math.abs(fresh.expiresAt.getTime() - fresh.createdAt.getTime() - expectedTtl) < 1000, 'default TTL from DEVICE_COMMAND_TTL');
    assert.ok(short.expiresAt.getTime() - short.createdAt.getTime() <= 1000);
    await new Promise((r) => setTimeout(r, 1100));
    const res = await client.post('/api/poll-messages/', {});
    assert.deepEqual(res.body.messages.map((m: { id: string }) => m.id), [fresh.id]);
  });

  it('keeps polling devices online', async () => {
    const { client } = await srv.signedIn();
    await addDevice(client, 'poller');
    await addDevice(client, 'other');
    assert.equal((await client.get('/api/devices/poller')).body.online, false);
    await client.post('/api/poll-messages/', { deviceId: 'poller' });
    const d = await client.get('/api/devices/poller');
    assert.equal(d.body.online, true);
    assert.ok(Date.now() - Date.parse(d.body.last_seen_at) < 60_000);
    assert.equal((await client.get('/api/devices/other')).body.online, false, 'a filtered poll speaks for its device only');
    await client.post('/api/poll-messages/', {});
    assert.equal((await client.get('/api/devices/other')).body.online, true, 'an unfiltered poll (a hub) speaks for all');
    await srv.app.db.db.updateTable('devices').set({ last_seen_at: sql`now() - interval '1 hour'` }).where('id', '=', 'other').execute();
    assert.equal((await client.get('/api/devices/other')).body.online, false, 'offline after DEVICE_OFFLINE_AFTER');
  });

  it('long-polls: holds the request until a command arrives, or answers empty after the (capped) wait', async () => {
    const { client, user } = await srv.signedIn();
    await addDevice(client, 'waiter');
    let t0 = Date.now();
    const pending = client.post('/api/poll-messages/', { wait: 10 });
    await new Promise((r) => setTimeout(r, 300));
    const m = await send(user.id, 'waiter', ON_OFF, { on: true });
    const res = await pending;
    assert.equal(res.status, 200);
    assert.deepEqual(res.body.messages.map((x: { id: string }) => x.id), [m.id]);
    assert.ok(Date.now() - t0 < 1500, `woken promptly (${Date.now() - t0} ms)`);
    t0 = Date.now();
    const empty = await client.post('/api/poll-messages/', { messagesRead: [m.id], wait: 30 });
    const took = Date.now() - t0;
    assert.deepEqual(empty.body, { status: 'success', messages: [] });
    assert.ok(took >= 1900 && took < 4000, `cut to DEVICE_POLL_MAX_WAIT=2 (${took} ms)`);
  });

  it('a filtered long-poll ignores commands for other devices', async () => {
    const { client, user } = await srv.signedIn();
    await addDevice(client, 'mine');
    await addDevice(client, 'theirs');
    const t0 = Date.now();
    const pending = client.post('/api/poll-messages/', { deviceId: 'mine', wait: 5 });
    await new Promise((r) => setTimeout(r, 200));
    await send(user.id, 'theirs', ON_OFF, { on: true });
    await new Promise((r) => setTimeout(r, 200));
    const m = await send(user.id, 'mine', ON_OFF, { on: false });
    const res = await pending;
    assert.deepEqual(res.body.messages.map((x: { id: string }) => x.id), [m.id]);
    assert.ok(Date.now() - t0 < 1900);
  });

  it('answers bad input with 400 in the seed’s error envelope, never 500', async () => {
    const { client } = await srv.signedIn();
    const cases: Array<[string, string | Buffer, string]> = [
      ['invalid JSON', '{"messagesRead": [', 'invalid_json'],
      ['a JSON list', '["3f0c"]', 'validation_failed'],
      ['non-uuid ids', JSON.stringify({ messagesRead: ['uuid1', 'uuid2'] }), 'validation_failed'],
      ['ids of the wrong type', JSON.stringify({ messagesRead: [1, 2] }), 'validation_failed'],
      ['messagesRead an object', JSON.stringify({ messagesRead: { a: 1 } }), 'validation_failed'],
      ['limit 0', JSON.stringify({ limit: 0 }), 'validation_failed'],
      ['limit too big', JSON.stringify({ limit: 501 }), 'validation_failed'],
      ['limit a word', JSON.stringify({ limit: 'ten' }), 'validation_failed'],
      ['negative wait', JSON.stringify({ wait: -1 }), 'validation_failed'],
      ['bad deviceId', JSON.stringify({ deviceId: 'a/b' }), 'validation_failed'],
      ['too many ids', JSON.stringify({ messagesRead: Array.from({ length: 1001 }, () => randomUUID()) }), 'validation_failed'],
    ];
    for (const [what, body, code] of cases) {
      const res = await client.request('POST', '/api/poll-messages/', { body, headers: { 'content-type': 'application/json' } });
      assert.equal(res.status, 400, what);
      assert.equal(res.body.status, 'error', what);
      assert.equal(typeof res.body.message, 'string', what);
      assert.equal(res.body.code, code, what);
    }
    const huge = await client.request('POST', '/api/poll-messages/', { body: JSON.stringify({ messagesRead: ['x'.repeat(200_000)] }), headers: { 'content-type': 'application/json' } });
    assert.equal(huge.status, 413);
    assert.equal(huge.body.status, 'error');
    const text = await client.request('POST', '/api/poll-messages/', { body: 'hello', headers: { 'content-type': 'text/plain' } });
    assert.equal(text.status, 415);
    assert.equal(text.body.status, 'error');
    const get = await client.get('/api/poll-messages/');
    assert.equal(get.status, 405);
    assert.equal(get.body.status, 'error');
    assert.equal(get.headers.get('allow'), 'POST');
  });

  it('accepts the seed’s other body forms: empty, empty string, form data', async () => {
    const { client, user } = await srv.signedIn();
    await addDevice(client, 'formy');
    const m1 = await send(user.id, 'formy', ON_OFF, { on: true });
    const m2 = await send(user.id, 'formy', ON_OFF, { on: false });
    const empty = await client.request('POST', '/api/poll-messages/');
    assert.equal(empty.status, 200);
    assert.equal(empty.body.messages.length, 2);
    const blank = await client.post('/api/poll-messages/', { messagesRead: '' });
    assert.equal(blank.status, 200);
    const form = await client.request('POST', '/api/poll-messages/', { form: { messagesRead: m1.id, limit: '5' } });
    assert.equal(form.status, 200, form.text);
    assert.deepEqual(form.body.messages.map((m: { id: string }) => m.id), [m2.id]);
  });

  it('needs authentication: 401 in the seed’s envelope, and same-origin proofs for cookies (403)', async () => {
    const anon = await srv.client().post('/api/poll-messages/', { messagesRead: [] });
    assert.equal(anon.status, 401);
    assert.deepEqual(Object.keys(anon.body).slice(0, 2), ['status', 'message']);
    assert.equal(anon.body.status, 'error');
    assert.match(anon.headers.get('www-authenticate') ?? '', /^Bearer/);
    const badToken = await srv.client().post('/api/poll-messages/', {}, { bearer: 'expired-or-made-up' });
    assert.equal(badToken.status, 401);
    assert.equal(badToken.body.code, 'invalid_token');
    const { client } = await srv.signedIn();
    const noCsrf = await client.post('/api/poll-messages/', {}, { csrfHeader: false });
    assert.equal(noCsrf.status, 403);
    assert.equal(noCsrf.body.status, 'error');
  });
});

describe('device message cleanup', () => {
  let srv: TestServer;
  before(async () => {
    srv = await startTestServer({ env: { DEVICE_MESSAGE_RETENTION: '3600', DEVICE_MESSAGE_CLEANUP_INTERVAL: '1' }, keepData: true });
  });
  after(() => srv.close().then(() => dropAfter(srv)));

  async function seed() {
    const { client, user } = await srv.signedIn();
    await addDevice(client, 'dev');
    const mk = () => srv.app.services.deviceMessages.createCommand(user.id, 'dev', { command: ON_OFF, params: { on: true } });
    const [readOld, readNew, expiredOld, expiredNew, unread] = [await mk(), await mk(), await mk(), await mk(), await mk()];
    const db = srv.app.db.db;
    await db.updateTable('device_messages').set({ read_at: sql`now() - interval '2 hours'` }).where('id', '=', readOld.id).execute();
    await db.updateTable('device_messages').set({ read_at: sql`now() - interval '10 minutes'` }).where('id', '=', readNew.id).execute();
    await db.updateTable('device_messages').set({ expires_at: sql`now() - interval '2 hours'` }).where('id', '=', expiredOld.id).execute();
    await db.updateTable('device_messages').set({ expires_at: sql`now() - interval '10 minutes'` }).where('id', '=', expiredNew.id).execute();
    const remaining = async () =>
      (await db.selectFrom('device_messages').select('id').where('owner_id', '=', user.id).execute()).map((r) => r.id).sort();
    return { kept: [readNew.id, expiredNew.id, unread.id].sort(), remaining };
  }

  it('the in-process scheduler deletes read and expired messages past the retention period', async () => {
    const { kept, remaining } = await seed();
    for (let i = 0; i < 60 && (await remaining()).length !== kept.length; i++) await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(await remaining(), kept);
  });

  it('`npm run clearmessages` does the same once, for cron', async () => {
    // Stop the scheduler's competition by checking right after the command; both delete the same rows.
    const { kept, remaining } = await seed();
    const root = path.resolve(import.meta.dirname, '../..');
    const { stdout } = await promisify(execFile)(process.execPath, ['scripts/clearmessages.ts'], {
      cwd: root,
      env: {
        ...process.env,
        DATABASE_URL: srv.config.db.url,
        DATABASE_SCHEMA: srv.config.db.schema,
        DEVICE_MESSAGE_RETENTION: '3600',
        LOG_FORMAT: 'json',
        LOG_LEVEL: 'info',
        NODE_ENV: 'test',
      },
    });
    assert.match(stdout, /device message/);
    assert.deepEqual(await remaining(), kept);
  });
});

async function dropAfter(srv: TestServer) {
  const { dropTestData } = await import('../support/server.ts');
  await dropTestData(srv.config);
}
