import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { clientCredentialsToken, createOAuthClient, issueAccessToken } from '../support/oauth.ts';
import { startTestServer, type TestServer } from '../support/server.ts';

const ON_OFF = 'action.devices.commands.OnOff';
const ROOT = path.resolve(import.meta.dirname, '../..');

describe('devices and polling with OAuth bearer tokens', () => {
  let srv: TestServer;
  before(async () => {
    srv = await startTestServer({ env: { DEVICE_POLL_MAX_WAIT: '5' } });
  });
  after(() => srv.close());

  /** A user with one device `light-1` and a `devices` token. */
  async function owner() {
    const user = await srv.createUser();
    await srv.app.services.devices.create(user.id, { id: 'light-1', type: 'action.devices.types.LIGHT', traits: ['action.devices.traits.OnOff'], name: 'Lamp' });
    const token = await issueAccessToken(srv, { user, scopes: ['devices'] });
    return { user, token };
  }
  const send = (ownerId: string, on: boolean) => srv.app.services.deviceMessages.createCommand(ownerId, 'light-1', { command: ON_OFF, params: { on } });

  it('the seed README’s curl example works unchanged with a client-credentials token from /o/token/', async () => {
    const user = await srv.createUser();
    await srv.app.services.devices.create(user.id, { id: 'light-1', type: 'action.devices.types.LIGHT', traits: ['action.devices.traits.OnOff'], name: 'Lamp' });
    const hub = await createOAuthClient(srv, { name: 'message-client hub', grant_types: ['client_credentials'], redirect_uris: [], scopes: ['devices'], owner_user_id: user.id });
    const token = await clientCredentialsToken(srv, hub, ['devices']);
    const m1 = await send(user.id, true);
    const m2 = await send(user.id, false);
    const m3 = await send(user.id, true);
    const curl = async (ids: string[]) => {
      // The example from the seed's README, with its placeholders filled in.
      const { stdout } = await promisify(execFile)('curl', [
        '-s', '-X', 'POST', `${srv.url}/api/poll-messages/`,
        '-H', `Authorization: Bearer ${token}`,
        '-H', 'Content-Type: application/json',
        '-d', `{"messagesRead": [${ids.map((id) => `"${id}"`).join(', ')}]}`,
      ]);
      return JSON.parse(stdout);
    };
    const first = await curl([]);
    assert.equal(first.status, 'success');
    assert.deepEqual(first.messages.map((m: { id: string; text: string }) => [m.id, m.text]), [[m1.id, 'on'], [m2.id, 'off'], [m3.id, 'on']]);
    const second = await curl([m1.id, m2.id]);
    assert.deepEqual(second, { status: 'success', messages: [{ id: m3.id, deviceId: 'light-1', topic: `light-1/${ON_OFF}`, text: 'on', isRead: false, timestamp: m3.timestamp }] });
  });

  it('a client-credentials token acts as the client’s owner on the registry too', async () => {
    const user = await srv.createUser();
    const hub = await createOAuthClient(srv, { name: 'hub', grant_types: ['client_credentials'], redirect_uris: [], scopes: ['devices'], owner_user_id: user.id });
    const token = await clientCredentialsToken(srv, hub, ['devices']);
    const c = srv.client();
    const created = await c.post('/api/devices/', { id: 'plug', type: 'OUTLET', traits: ['OnOff'], name: 'Plug' }, { bearer: token, origin: false, csrfHeader: false });
    assert.equal(created.status, 201, created.text);
    assert.deepEqual((await srv.app.services.devices.list(user.id)).map((d) => d.id), ['plug']);
    const report = await c.patch('/api/devices/plug/state/', { state: { on: true } }, { bearer: token, origin: false, csrfHeader: false });
    assert.equal(report.status, 200);
    assert.equal(report.body.online, true);
  });

  it('refuses a token without the devices scope with 403 insufficient_scope', async () => {
    const user = await srv.createUser();
    const token = await issueAccessToken(srv, { user, scopes: ['read:messages', 'send:messages'] });
    const poll = await srv.client().post('/api/poll-messages/', { messagesRead: [] }, { bearer: token });
    assert.equal(poll.status, 403);
    assert.equal(poll.body.status, 'error');
    assert.equal(poll.body.code, 'insufficient_scope');
    assert.match(poll.headers.get('www-authenticate') ?? '', /insufficient_scope/);
    const list = await srv.client().get('/api/devices/', { bearer: token });
    assert.equal(list.status, 403);
    assert.equal(list.body.error.code, 'insufficient_scope');
    const none = await srv.client().post('/api/poll-messages/', {}, { bearer: await issueAccessToken(srv, { user, scopes: [] }) });
    assert.equal(none.status, 403);
  });

  it('isolates owners with tokens: A never sees or acknowledges B’s messages', async () => {
    const a = await owner();
    const b = await owner();
    const ma = await send(a.user.id, true);
    const mb = await send(b.user.id, false);
    const pa = await srv.client().post('/api/poll-messages/', { messagesRead: [mb.id] }, { bearer: a.token });
    assert.deepEqual(pa.body.messages.map((m: { id: string }) => m.id), [ma.id]);
    const pb = await srv.client().post('/api/poll-messages/', {}, { bearer: b.token });
    assert.deepEqual(pb.body.messages.map((m: { id: string }) => m.id), [mb.id]);
    await srv.app.services.devices.update(b.user.id, 'light-1', { name: 'B’s lamp' });
    const own = await srv.client().get('/api/devices/light-1/', { bearer: a.token });
    assert.equal(own.body.name, 'Lamp', 'the same id resolves to A’s own device');
  });

  it('a revoked or unknown token is a 401 in the seed’s envelope', async () => {
    const bad = await srv.client().post('/api/poll-messages/', {}, { bearer: 'not-a-real-token' });
    assert.equal(bad.status, 401);
    assert.equal(bad.body.status, 'error');
    assert.equal(bad.body.code, 'invalid_token');
    const a = await owner();
    await srv.app.services.users.setActive(a.user.id, false);
    const deactivated = await srv.client().post('/api/poll-messages/', {}, { bearer: a.token });
    assert.equal(deactivated.status, 401);
  });

  it('the device simulator long-polls with client credentials, acts on a command and reports its state', async () => {
    const user = await srv.createUser();
    const hub = await createOAuthClient(srv, { name: 'simulator', grant_types: ['client_credentials'], redirect_uris: [], scopes: ['devices'], owner_user_id: user.id });
    const child = spawn(
      process.execPath,
      ['scripts/device-simulator.ts', '--url', srv.url, `--client-id=${hub.clientId}`, `--client-secret=${hub.clientSecret!}`, '--device', 'sim-1', '--register', '--wait', '5', '--once'],
      { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d));
    child.stderr.on('data', (d: Buffer) => (out += d));
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    for (let i = 0; i < 100 && !out.includes('"online"'); i++) await new Promise((r) => setTimeout(r, 50));
    assert.match(out, /"online"/, out);
    const registered = await srv.app.services.devices.get(user.id, 'sim-1');
    assert.equal(registered.online, true);
    await new Promise((r) => setTimeout(r, 200));
    const m = await srv.app.services.deviceMessages.createCommand(user.id, 'sim-1', { command: 'action.devices.commands.BrightnessAbsolute', params: { brightness: 42 } });
    assert.equal(await exited, 0, out);
    const after = await srv.app.services.devices.get(user.id, 'sim-1');
    assert.deepEqual(after.state, { on: true, brightness: 42 });
    assert.deepEqual(await srv.app.services.deviceMessages.fetchUnread(user.id), [], `acknowledged ${m.id}`);
  });
});
