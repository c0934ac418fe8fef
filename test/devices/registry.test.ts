import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestServer, type TestServer } from '../support/server.ts';

const LIGHT = {
  id: 'light-1',
  type: 'action.devices.types.LIGHT',
  traits: ['action.devices.traits.OnOff', 'action.devices.traits.Brightness'],
  name: 'Desk lamp',
  nicknames: ['lamp'],
  room: 'Office',
  attributes: { commandOnlyOnOff: false },
  state: { on: false, brightness: 10 },
};

describe('device registry over REST', () => {
  let srv: TestServer;
  before(async () => {
    srv = await startTestServer({ env: { DEVICE_MAX_PER_USER: '3', DEVICE_POLL_RATE_LIMIT: '5' } });
  });
  after(() => srv.close());

  it('creates, lists, gets, updates and deletes a device of the signed-in user', async () => {
    const { client } = await srv.signedIn();
    const created = await client.post('/api/devices/', LIGHT);
    assert.equal(created.status, 201);
    assert.deepEqual(Object.keys(created.body).sort(), [
      'attributes', 'created_at', 'id', 'last_seen_at', 'name', 'nicknames', 'online', 'room', 'state', 'traits', 'type', 'updated_at', 'will_report_state',
    ]);
    assert.equal(created.body.id, 'light-1');
    assert.deepEqual(created.body.traits, LIGHT.traits);
    assert.deepEqual(created.body.state, { on: false, brightness: 10 });
    assert.equal(created.body.online, false);
    assert.equal(created.body.last_seen_at, null);
    assert.equal(created.body.will_report_state, true);

    const list = await client.get('/api/devices/');
    assert.equal(list.status, 200);
    assert.equal(list.body.count, 1);
    assert.equal(list.body.results[0].id, 'light-1');

    const one = await client.get('/api/devices/light-1/');
    assert.equal(one.status, 200, one.text);
    assert.equal(one.body.name, 'Desk lamp');

    const upd = await client.patch('/api/devices/light-1', { name: 'Reading lamp', traits: ['OnOff'], room: null, will_report_state: false });
    assert.equal(upd.status, 200);
    assert.equal(upd.body.name, 'Reading lamp');
    assert.deepEqual(upd.body.traits, ['action.devices.traits.OnOff'], 'short trait names are expanded');
    assert.equal(upd.body.room, null);
    assert.equal(upd.body.will_report_state, false);
    assert.equal(upd.body.id, 'light-1');

    const del = await client.delete('/api/devices/light-1/');
    assert.equal(del.status, 204);
    const gone = await client.get('/api/devices/light-1/');
    assert.equal(gone.status, 404);
    assert.equal(gone.body.error.code, 'device_not_found');
  });

  it('generates a UUID id when none is given and expands a short type', async () => {
    const { client } = await srv.signedIn();
    const res = await client.post('/api/devices/', { type: 'SWITCH', traits: ['action.devices.traits.OnOff'], name: 'Fan switch' });
    assert.equal(res.status, 201);
    assert.match(res.body.id, /^[0-9a-f-]{36}$/);
    assert.equal(res.body.type, 'action.devices.types.SWITCH');
    assert.deepEqual(res.body.nicknames, []);
    assert.deepEqual(res.body.attributes, {});
  });

  it('rejects unknown types and traits, bad ids, oversized JSON and unknown fields with 400 and field paths', async () => {
    const { client } = await srv.signedIn();
    const cases: Array<[unknown, string]> = [
      [{ ...LIGHT, type: 'action.devices.types.SPACESHIP' }, 'type'],
      [{ ...LIGHT, traits: ['action.devices.traits.Teleport'] }, 'traits.0'],
      [{ ...LIGHT, traits: [] }, 'traits'],
      [{ ...LIGHT, traits: ['OnOff', 'action.devices.traits.OnOff'] }, 'traits'],
      [{ ...LIGHT, id: 'has/slash' }, 'id'],
      [{ ...LIGHT, id: 'x'.repeat(101) }, 'id'],
      [{ ...LIGHT, name: '' }, 'name'],
      [{ ...LIGHT, attributes: { blob: 'x'.repeat(17 * 1024) } }, 'attributes'],
      [{ ...LIGHT, state: [1, 2] }, 'state'],
      [{ ...LIGHT, owner_id: 'someone' }, ''],
      [{ ...LIGHT, traits: 'action.devices.traits.OnOff' }, 'traits'],
    ];
    for (const [body, path] of cases) {
      const res = await client.post('/api/devices/', body);
      assert.equal(res.status, 400, JSON.stringify(body).slice(0, 80));
      assert.equal(res.body.error.code, 'validation_failed');
      const paths = res.body.error.details.fields.map((f: { path: string }) => f.path);
      assert.ok(paths.includes(path) || (path === '' && paths.length > 0), `${path} in ${paths}`);
    }
    const badJson = await client.request('POST', '/api/devices/', { body: '{"type":', headers: { 'content-type': 'application/json' } });
    assert.equal(badJson.status, 400);
    assert.equal(badJson.body.error.code, 'invalid_json');
    const badParam = await client.get('/api/devices/bad%2Fid/');
    assert.equal(badParam.status, 400);
    const patchId = await client.post('/api/devices/', { ...LIGHT, id: 'immutable' });
    assert.equal(patchId.status, 201);
    const rename = await client.patch('/api/devices/immutable/', { id: 'other' });
    assert.equal(rename.status, 400, 'the id cannot change');
    const patchState = await client.patch('/api/devices/immutable/', { state: { on: true } });
    assert.equal(patchState.status, 400, 'state comes from state reports');
  });

  it('answers 409 for a duplicate id of the same owner, but another owner may use the same id', async () => {
    const a = await srv.signedIn();
    const b = await srv.signedIn();
    assert.equal((await a.client.post('/api/devices/', LIGHT)).status, 201);
    const dup = await a.client.post('/api/devices/', LIGHT);
    assert.equal(dup.status, 409);
    assert.equal(dup.body.error.code, 'device_exists');
    assert.equal((await b.client.post('/api/devices/', LIGHT)).status, 201);
  });

  it('limits devices per user', async () => {
    const { client } = await srv.signedIn();
    for (let i = 0; i < 3; i++) assert.equal((await client.post('/api/devices/', { ...LIGHT, id: `d${i}` })).status, 201);
    const over = await client.post('/api/devices/', { ...LIGHT, id: 'd3' });
    assert.equal(over.status, 409);
    assert.equal(over.body.error.code, 'device_limit_reached');
  });

  it('never shows, changes or deletes another owner’s device (404)', async () => {
    const a = await srv.signedIn();
    const b = await srv.signedIn();
    assert.equal((await a.client.post('/api/devices/', { ...LIGHT, id: 'private' })).status, 201);
    assert.equal((await b.client.get('/api/devices/')).body.count, 0);
    for (const res of [
      await b.client.get('/api/devices/private/'),
      await b.client.patch('/api/devices/private/', { name: 'mine now' }),
      await b.client.delete('/api/devices/private/'),
      await b.client.patch('/api/devices/private/state/', { state: { on: true } }),
      await b.client.post('/api/devices/private/commands/', { command: 'action.devices.commands.OnOff', params: { on: true } }),
    ]) {
      assert.equal(res.status, 404);
      assert.equal(res.body.error.code, 'device_not_found');
    }
    const still = await a.client.get('/api/devices/private/');
    assert.equal(still.body.name, LIGHT.name);
    assert.deepEqual(still.body.state, LIGHT.state);
  });

  it('state reports merge (PATCH) or replace (PUT) the state and mark the device online', async () => {
    const { client } = await srv.signedIn();
    await client.post('/api/devices/', { ...LIGHT, id: 'lamp' });
    const merged = await client.patch('/api/devices/lamp/state/', { state: { on: true } });
    assert.equal(merged.status, 200);
    assert.deepEqual(merged.body.state, { on: true, brightness: 10 });
    assert.equal(merged.body.online, true);
    assert.ok(merged.body.last_seen_at);
    const replaced = await client.put('/api/devices/lamp/state/', { state: { on: false } });
    assert.deepEqual(replaced.body.state, { on: false });
    const offline = await client.patch('/api/devices/lamp/state/', { state: {}, online: false });
    assert.equal(offline.body.online, false);
    const bad = await client.patch('/api/devices/lamp/state/', { on: true });
    assert.equal(bad.status, 400);
    const big = await client.patch('/api/devices/lamp/state/', { state: { s: 'x'.repeat(17 * 1024) } });
    assert.equal(big.status, 400);
    assert.equal(big.body.error.details.fields[0].path, 'state');
  });

  it('emits device.changed and device.state.reported after the change is stored', async () => {
    const { client, user } = await srv.signedIn();
    const seen: Array<[string, unknown]> = [];
    const offs = [
      srv.app.events.on('device.changed', (e) => void seen.push(['changed', e])),
      srv.app.events.on('device.state.reported', (e) => void seen.push(['state', e])),
    ];
    try {
      await client.post('/api/devices/', { ...LIGHT, id: 'ev' });
      await client.patch('/api/devices/ev/', { name: 'Evented' });
      await client.patch('/api/devices/ev/state/', { state: { on: true } });
      await client.delete('/api/devices/ev/');
    } finally {
      for (const off of offs) off();
    }
    const mine = seen.filter(([, e]) => (e as { ownerId: string }).ownerId === user.id);
    assert.deepEqual(mine, [
      ['changed', { ownerId: user.id, deviceId: 'ev', change: 'created' }],
      ['changed', { ownerId: user.id, deviceId: 'ev', change: 'updated' }],
      ['state', { ownerId: user.id, deviceId: 'ev', state: { on: true, brightness: 10 }, online: true, willReportState: true, source: 'device' }],
      ['changed', { ownerId: user.id, deviceId: 'ev', change: 'deleted' }],
    ]);
  });

  it('needs authentication (401) and the same-origin proofs for cookie calls (403)', async () => {
    const anon = await srv.client().get('/api/devices/');
    assert.equal(anon.status, 401);
    assert.equal(anon.body.error.code, 'unauthenticated');
    const { client } = await srv.signedIn();
    const csrf = await client.post('/api/devices/', LIGHT, { csrfHeader: false });
    assert.equal(csrf.status, 403);
    assert.equal(csrf.body.error.code, 'csrf_header');
    const badBearer = await srv.client().get('/api/devices/', { bearer: 'not-a-token' });
    assert.equal(badBearer.status, 401);
    assert.equal(badBearer.body.error.code, 'invalid_token');
  });

  it('sends a command with POST /api/devices/{id}/commands/ and announces it (device.command.created)', async () => {
    const { client, user } = await srv.signedIn();
    await client.post('/api/devices/', { ...LIGHT, id: 'cmd' });
    const got: unknown[] = [];
    const off = srv.app.events.on('device.command.created', (e) => void (e.ownerId === user.id && got.push(e)));
    let res;
    try {
      res = await client.post('/api/devices/cmd/commands/', { command: 'action.devices.commands.BrightnessAbsolute', params: { brightness: 30 } });
    } finally {
      off();
    }
    assert.equal(res.status, 201);
    assert.deepEqual(Object.keys(res.body), ['id', 'deviceId', 'topic', 'text', 'isRead', 'timestamp', 'payload', 'expiresAt']);
    assert.equal(res.body.topic, 'cmd/action.devices.commands.BrightnessAbsolute');
    assert.equal(res.body.text, '30');
    assert.deepEqual(res.body.payload, { brightness: 30 });
    const { payload, expiresAt, ...wire } = res.body;
    assert.deepEqual(got, [{ ownerId: user.id, deviceId: 'cmd', message: wire, payload, expiresAt }]);
    for (const bad of [{ command: 'OnOff' }, { command: 'action.devices.commands.On Off' }, { command: 'action.devices.commands.OnOff', params: [true] }, { command: 'action.devices.commands.OnOff', params: { x: 'y'.repeat(9000) } }, {}]) {
      const r = await client.post('/api/devices/cmd/commands/', bad);
      assert.equal(r.status, 400, JSON.stringify(bad).slice(0, 60));
      assert.equal(r.body.error.code, 'validation_failed');
    }
    const missing = await client.post('/api/devices/nope/commands/', { command: 'action.devices.commands.OnOff', params: { on: true } });
    assert.equal(missing.status, 404);
  });

  it('rate-limits polls per user with 429 and Retry-After in the seed’s envelope', async () => {
    const { client } = await srv.signedIn();
    for (let i = 0; i < 5; i++) assert.equal((await client.post('/api/poll-messages/', {})).status, 200);
    const limited = await client.post('/api/poll-messages/', {});
    assert.equal(limited.status, 429);
    assert.equal(limited.body.status, 'error');
    assert.equal(limited.body.code, 'rate_limited');
    assert.ok(Number(limited.headers.get('retry-after')) > 0);
    const other = await srv.signedIn();
    assert.equal((await other.client.post('/api/poll-messages/', {})).status, 200, 'counted per user');
  });
});
