/**
 * POST /smarthome/fulfillment/ end to end: real server, PostgreSQL, Redis, real OAuth tokens, devices polling
 * for their command messages, and a local fake Home Graph receiving Report State and Request Sync.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { newDeviceSchema } from '../../src/domain/devices/device.schemas.ts';
import type { User } from '../../src/domain/users/user.types.ts';
import { REPORT_PATH, startFakeHomeGraph, SYNC_PATH, type FakeHomeGraph } from '../support/fake-homegraph.ts';
import { issueAccessToken } from '../support/oauth.ts';
import { startTestServer, type TestServer } from '../support/server.ts';

const T = (s: string) => `action.devices.traits.${s}`;
const C = (s: string) => `action.devices.commands.${s}`;

async function fulfill(srv: TestServer, token: string | null, body: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(new URL('/smarthome/fulfillment/', srv.url), {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : undefined };
}

/** Register a device the way the REST route does (short type/trait names are expanded by the schema). */
async function createDevice(srv: TestServer, userId: string, input: unknown) {
  return srv.app.services.devices.create(userId, newDeviceSchema.parse(input));
}

const exec = (requestId: string, commands: unknown) => ({ requestId, inputs: [{ intent: 'action.devices.EXECUTE', payload: { commands } }] });

/** The fixture devices of google-smart-home.md §8 for `user`; light-1 and lock-1 online, thermo-1 not yet. */
async function seedDevices(srv: TestServer, user: User, devicesToken: string) {
  const d = srv.app.services.devices;
  await createDevice(srv, user.id, {
    id: 'light-1',
    type: 'LIGHT',
    traits: ['OnOff', 'Brightness', 'ColorSetting'],
    name: 'Desk lamp',
    nicknames: ['reading lamp'],
    room: 'Office',
    attributes: { colorModel: 'rgb', colorTemperatureRange: { temperatureMinK: 2000, temperatureMaxK: 9000 }, commandOnlyColorSetting: false },
  });
  await createDevice(srv, user.id, {
    id: 'thermo-1',
    type: 'THERMOSTAT',
    traits: ['TemperatureSetting'],
    name: 'Hall thermostat',
    room: 'Hallway',
    attributes: { availableThermostatModes: ['off', 'heat', 'cool', 'heatcool'], thermostatTemperatureRange: { minThresholdCelsius: 10, maxThresholdCelsius: 32 }, thermostatTemperatureUnit: 'C', bufferRangeCelsius: 2 },
    state: { thermostatMode: 'heat', thermostatTemperatureSetpoint: 20 },
  });
  await createDevice(srv, user.id, { id: 'lock-1', type: 'LOCK', traits: ['LockUnlock'], name: 'Front door lock' });
  const c = srv.client();
  for (const [id, body] of [
    ['light-1', { default_names: ['Acme Color Bulb'], device_info: { manufacturer: 'Acme', model: 'CB-1', hw_version: '1.0', sw_version: '2.3.1' } }],
    ['thermo-1', { default_names: ['Acme Thermostat'], device_info: { manufacturer: 'Acme', model: 'T-2', hw_version: '2.0', sw_version: '5.0.0' } }],
  ] as const) {
    const r = await c.request('PATCH', `/api/smarthome/devices/${id}/`, { bearer: devicesToken, json: body });
    assert.equal(r.status, 200, r.text);
  }
  // The devices report themselves: online with their actual state.
  await d.reportState(user.id, 'light-1', { state: { on: true, brightness: 65, color: { temperatureK: 2700 } } });
  await d.reportState(user.id, 'lock-1', { state: { isLocked: true, isJammed: false } });
}

describe('Google Smart Home fulfillment over HTTP', () => {
  let srv: TestServer;
  let fake: FakeHomeGraph;
  let user: User;
  let token: string;
  let devicesToken: string;

  before(async () => {
    fake = await startFakeHomeGraph();
    srv = await startTestServer({
      env: { HOMEGRAPH_CREDENTIALS: fake.keyJson, HOMEGRAPH_URL: fake.url, HOMEGRAPH_RETRY_BASE_MS: '10', SMARTHOME_PIN_MAX_ATTEMPTS: '3', SMARTHOME_PIN_LOCKOUT: '60' },
    });
    user = await srv.createUser();
    token = await issueAccessToken(srv, { user, scopes: ['smarthome'] });
    devicesToken = await issueAccessToken(srv, { user, scopes: ['devices'] });
    await seedDevices(srv, user, devicesToken);
  });
  after(async () => {
    await srv?.close();
    await fake?.close();
  });

  describe('authentication', () => {
    it('F8: missing, unknown and revoked tokens → 401 invalid_token, so Google refreshes', async () => {
      const body = { requestId: 'req-sync-1', inputs: [{ intent: 'action.devices.SYNC' }] };
      const none = await fulfill(srv, null, body);
      assert.equal(none.status, 401);
      const unknown = await fulfill(srv, 'at_expired_or_unknown', body);
      assert.equal(unknown.status, 401);
      assert.equal(unknown.body.error.code, 'invalid_token');
      assert.match(unknown.headers.get('www-authenticate')!, /error="invalid_token"/);
      const other = await srv.createUser();
      const doomed = await issueAccessToken(srv, { user: other, scopes: ['smarthome'] });
      const [grant] = await srv.app.services.oauth.listUserGrants(other.id);
      await srv.app.services.oauth.revokeGrant(grant!.grantId);
      assert.equal((await fulfill(srv, doomed, body)).status, 401);
    });

    it('an expired token → 401', async () => {
      const short = await issueAccessToken(srv, { user, scopes: ['smarthome'], ttl: 1 });
      await new Promise((r) => setTimeout(r, 2100));
      assert.equal((await fulfill(srv, short, { requestId: 'x', inputs: [{ intent: 'action.devices.SYNC' }] })).status, 401);
    });

    it('a token without the smarthome scope → 403 insufficient_scope; a browser session → 401', async () => {
      const res = await fulfill(srv, devicesToken, { requestId: 'x', inputs: [{ intent: 'action.devices.SYNC' }] });
      assert.equal(res.status, 403);
      assert.equal(res.body.error.code, 'insufficient_scope');
      const { client } = await srv.signedIn(user);
      const viaSession = await client.post('/smarthome/fulfillment/', { requestId: 'x', inputs: [{ intent: 'action.devices.SYNC' }] });
      assert.equal(viaSession.status, 401);
    });
  });

  describe('SYNC', () => {
    it('answers with and without the trailing slash', async () => {
      const res = await fetch(new URL('/smarthome/fulfillment', srv.url), {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ requestId: 'slash', inputs: [{ intent: 'action.devices.SYNC' }] }),
      });
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('cache-control'), 'no-store');
      assert.equal(((await res.json()) as any).requestId, 'slash');
    });

    it('F1: the user\'s devices in Google format, agentUserId = user id', async () => {
      const res = await fulfill(srv, token, { requestId: 'req-sync-1', inputs: [{ intent: 'action.devices.SYNC' }] });
      assert.equal(res.status, 200);
      assert.match(res.headers.get('content-type')!, /^application\/json/);
      assert.equal(res.body.requestId, 'req-sync-1');
      assert.equal(res.body.payload.agentUserId, user.id);
      const [light, thermo, lock] = res.body.payload.devices;
      assert.deepEqual(light, {
        id: 'light-1',
        type: 'action.devices.types.LIGHT',
        traits: [T('OnOff'), T('Brightness'), T('ColorSetting')],
        name: { defaultNames: ['Acme Color Bulb'], name: 'Desk lamp', nicknames: ['reading lamp'] },
        willReportState: true,
        roomHint: 'Office',
        attributes: { colorModel: 'rgb', colorTemperatureRange: { temperatureMinK: 2000, temperatureMaxK: 9000 }, commandOnlyColorSetting: false },
        deviceInfo: { manufacturer: 'Acme', model: 'CB-1', hwVersion: '1.0', swVersion: '2.3.1' },
      });
      assert.deepEqual(thermo, {
        id: 'thermo-1',
        type: 'action.devices.types.THERMOSTAT',
        traits: [T('TemperatureSetting')],
        name: { defaultNames: ['Acme Thermostat'], name: 'Hall thermostat', nicknames: [] },
        willReportState: true,
        roomHint: 'Hallway',
        attributes: { availableThermostatModes: ['off', 'heat', 'cool', 'heatcool'], thermostatTemperatureRange: { minThresholdCelsius: 10, maxThresholdCelsius: 32 }, thermostatTemperatureUnit: 'C', bufferRangeCelsius: 2 },
        deviceInfo: { manufacturer: 'Acme', model: 'T-2', hwVersion: '2.0', swVersion: '5.0.0' },
      });
      assert.deepEqual(lock, { id: 'lock-1', type: 'action.devices.types.LOCK', traits: [T('LockUnlock')], name: { defaultNames: [], name: 'Front door lock', nicknames: [] }, willReportState: true });
      assert.equal(res.body.payload.devices.length, 3);
    });

    it('another user sees only their own devices (and none is an empty list)', async () => {
      const other = await srv.createUser();
      const t = await issueAccessToken(srv, { user: other, scopes: ['smarthome'] });
      const res = await fulfill(srv, t, { requestId: 's2', inputs: [{ intent: 'action.devices.SYNC' }] });
      assert.deepEqual(res.body, { requestId: 's2', payload: { agentUserId: other.id, devices: [] } });
      const q = await fulfill(srv, t, { requestId: 'q', inputs: [{ intent: 'action.devices.QUERY', payload: { devices: [{ id: 'light-1' }] } }] });
      assert.deepEqual(q.body.payload.devices, { 'light-1': { online: false, status: 'ERROR', errorCode: 'deviceNotFound' } });
    });
  });

  describe('QUERY', () => {
    it('F2: online device with full state, offline device, unknown device', async () => {
      const res = await fulfill(srv, token, {
        requestId: 'req-query-1',
        inputs: [{ intent: 'action.devices.QUERY', payload: { devices: [{ id: 'light-1', customData: { hubId: 'hub-9' } }, { id: 'thermo-1' }, { id: 'ghost' }] } }],
      });
      assert.equal(res.status, 200);
      assert.deepEqual(res.body, {
        requestId: 'req-query-1',
        payload: {
          devices: {
            'light-1': { online: true, status: 'SUCCESS', on: true, brightness: 65, color: { temperatureK: 2700 } },
            'thermo-1': { online: false, status: 'ERROR', errorCode: 'deviceOffline' },
            ghost: { online: false, status: 'ERROR', errorCode: 'deviceNotFound' },
          },
        },
      });
    });
  });

  describe('EXECUTE', () => {
    it('F3: two executions → SUCCESS, one command message each for the device, Report State of the whole trait state', async () => {
      fake.reset();
      // A SYNC makes the link live, which Report State needs.
      await fulfill(srv, token, { requestId: 'sync', inputs: [{ intent: 'action.devices.SYNC' }] });
      const res = await fulfill(srv, token, exec('req-exec-1', [{
        devices: [{ id: 'light-1', customData: { hubId: 'hub-9' } }],
        execution: [{ command: C('OnOff'), params: { on: true } }, { command: C('BrightnessAbsolute'), params: { brightness: 40 } }],
      }]));
      assert.deepEqual(res.body, { requestId: 'req-exec-1', payload: { commands: [{ ids: ['light-1'], status: 'SUCCESS', states: { online: true, on: true, brightness: 40 } }] } });

      const poll = await srv.client().request('POST', '/api/poll-messages/', { bearer: devicesToken, json: { messagesRead: [] } });
      assert.equal(poll.status, 200);
      const msgs = poll.body.messages.filter((m: any) => m.deviceId === 'light-1');
      assert.deepEqual(msgs.map((m: any) => [m.topic, m.text]), [[`light-1/${C('OnOff')}`, 'on'], [`light-1/${C('BrightnessAbsolute')}`, '40']]);
      await srv.client().request('POST', '/api/poll-messages/', { bearer: devicesToken, json: { messagesRead: poll.body.messages.map((m: any) => m.id) } });

      const [report] = await fake.waitFor(REPORT_PATH);
      assert.equal(report!.body.agentUserId, user.id);
      assert.deepEqual(report!.body.payload.devices.states, { 'light-1': { online: true, on: true, brightness: 40, color: { temperatureK: 2700 } } });

      const q = await fulfill(srv, token, { requestId: 'q', inputs: [{ intent: 'action.devices.QUERY', payload: { devices: [{ id: 'light-1' }] } }] });
      assert.deepEqual(q.body.payload.devices['light-1'], { online: true, status: 'SUCCESS', on: true, brightness: 40, color: { temperatureK: 2700 } });
    });

    it('F4/F5: partial failure — offline device, out-of-range value, unknown device — in one request', async () => {
      // The poll above kept every device of the owner online; the thermostat now says it goes away.
      await srv.app.services.devices.reportState(user.id, 'thermo-1', { state: {}, online: false });
      const res = await fulfill(srv, token, exec('req-exec-2', [
        { devices: [{ id: 'light-1' }, { id: 'thermo-1' }, { id: 'ghost' }], execution: [{ command: C('OnOff'), params: { on: false } }] },
        { devices: [{ id: 'light-1' }], execution: [{ command: C('ColorAbsolute'), params: { color: { spectrumRGB: 31655 } } }] },
      ]));
      assert.deepEqual(res.body.payload.commands, [
        { ids: ['light-1'], status: 'SUCCESS', states: { online: true, on: false, color: { spectrumRgb: 31655 } } },
        { ids: ['thermo-1'], status: 'ERROR', errorCode: 'deviceOffline' },
        { ids: ['ghost'], status: 'ERROR', errorCode: 'deviceNotFound' },
      ]);
      await srv.app.services.devices.reportState(user.id, 'thermo-1', { state: { thermostatTemperatureAmbient: 19 } });
      const f5 = await fulfill(srv, token, exec('req-exec-3', [{ devices: [{ id: 'thermo-1' }], execution: [{ command: C('ThermostatTemperatureSetpoint'), params: { thermostatTemperatureSetpoint: 45 } }] }]));
      assert.deepEqual(f5.body, { requestId: 'req-exec-3', payload: { commands: [{ ids: ['thermo-1'], status: 'ERROR', errorCode: 'valueOutOfRange', debugString: 'setpoint 45 outside 10..32 C' }] } });
    });

    it('F6: unlocking needs the PIN; wrong PIN refused; lockout after too many; right PIN unlocks', async () => {
      const c = srv.client();
      const byToken = await c.request('PATCH', '/api/smarthome/devices/lock-1/', { bearer: devicesToken, json: { pin: '4321' } });
      assert.equal(byToken.status, 403, 'a devices token (a hub, firmware) cannot set or clear the PIN');
      assert.equal(byToken.body.error.code, 'session_required');
      const owner = (await srv.signedIn(user)).client;
      const set = await owner.patch('/api/smarthome/devices/lock-1/', { pin: '4321' });
      assert.equal(set.status, 200);
      assert.deepEqual(set.body, { device_id: 'lock-1', challenge: 'auto', has_pin: true, pin_locked_until: null, default_names: [], device_info: null });
      const unlock = (requestId: string, challenge?: object) =>
        fulfill(srv, token, exec(requestId, [{ devices: [{ id: 'lock-1' }], execution: [{ command: C('LockUnlock'), params: { lock: false }, ...(challenge ? { challenge } : {}) }] }]));
      assert.deepEqual((await unlock('req-exec-4')).body, { requestId: 'req-exec-4', payload: { commands: [{ ids: ['lock-1'], status: 'ERROR', errorCode: 'challengeNeeded', challengeNeeded: { type: 'pinNeeded' } }] } });
      assert.deepEqual((await unlock('req-exec-5', { pin: '0000' })).body, { requestId: 'req-exec-5', payload: { commands: [{ ids: ['lock-1'], status: 'ERROR', errorCode: 'challengeNeeded', challengeNeeded: { type: 'challengeFailedPinNeeded' } }] } });
      assert.deepEqual((await unlock('ok', { pin: '4321' })).body.payload.commands, [{ ids: ['lock-1'], status: 'SUCCESS', states: { online: true, isLocked: false, isJammed: false } }]);

      // Three wrong PINs in a row lock the challenge; then even the right PIN is refused.
      for (const pin of ['1111', '2222']) assert.equal((await unlock('w', { pin })).body.payload.commands[0].challengeNeeded.type, 'challengeFailedPinNeeded');
      assert.equal((await unlock('w3', { pin: '3333' })).body.payload.commands[0].errorCode, 'securityRestriction');
      assert.equal((await unlock('w4', { pin: '4321' })).body.payload.commands[0].errorCode, 'securityRestriction');
      const shown = await c.request('GET', '/api/smarthome/devices/lock-1/', { bearer: devicesToken });
      assert.ok(shown.body.pin_locked_until);
      assert.equal(JSON.stringify(shown.body).includes('4321'), false);
      // A new PIN from the owner ends the lockout.
      assert.equal((await owner.patch('/api/smarthome/devices/lock-1/', { pin: '8642' })).status, 200);
      assert.equal((await unlock('new', { pin: '8642' })).body.payload.commands[0].status, 'SUCCESS');
      // The PIN never travels to Google.
      const sync = await fulfill(srv, token, { requestId: 's', inputs: [{ intent: 'action.devices.SYNC' }] });
      assert.equal(JSON.stringify(sync.body).includes('8642'), false);
    });
  });

  describe('malformed requests are answered in Google format, never with a 500', () => {
    it('bad envelopes, payloads, unknown intents, non-JSON bodies', async () => {
      assert.deepEqual((await fulfill(srv, token, {})).body, { payload: { errorCode: 'hardError', status: 'ERROR', debugString: 'malformed request: requestId and inputs[] are required' } });
      assert.deepEqual((await fulfill(srv, token, { requestId: 'r1', inputs: 'SYNC' })).body.payload.errorCode, 'hardError');
      assert.deepEqual((await fulfill(srv, token, { requestId: 'r2', inputs: [{ intent: 'action.devices.FLY' }] })).body, { requestId: 'r2', payload: { errorCode: 'notSupported', status: 'ERROR', debugString: 'unknown intent action.devices.FLY' } });
      const q = await fulfill(srv, token, { requestId: 'r3', inputs: [{ intent: 'action.devices.QUERY', payload: { devices: [{ id: 7 }] } }] });
      assert.deepEqual(q.body, { requestId: 'r3', payload: { errorCode: 'hardError', status: 'ERROR', debugString: 'malformed QUERY payload', devices: {} } });
      const e = await fulfill(srv, token, exec('r4', [{ devices: [{ id: 'light-1' }], execution: [{ command: C('OnOff'), params: { on: true }, challenge: { pin: 1234 } }] }]));
      assert.equal(e.status, 200);
      assert.deepEqual(e.body.payload.commands, []);
      const tooMany = await fulfill(srv, token, exec('r5', [{ devices: Array.from({ length: 501 }, (_, i) => ({ id: `d${i}` })), execution: [{ command: C('OnOff'), params: { on: true } }] }]));
      assert.equal(tooMany.body.payload.errorCode, 'hardError');
      const text = await fulfill(srv, token, 'requestId=1', { 'content-type': 'text/plain' });
      assert.equal(text.status, 200);
      assert.equal(text.body.payload.errorCode, 'hardError');
      const broken = await fulfill(srv, token, '{"requestId": ');
      assert.equal(broken.status, 400);
      assert.equal(broken.body.error.code, 'invalid_json');
    });
  });

  describe('owner settings route', () => {
    it('validates input and checks scope and ownership', async () => {
      const c = srv.client();
      const path = '/api/smarthome/devices/light-1/';
      assert.equal((await c.request('GET', path)).status, 401);
      const wrongScope = await c.request('GET', path, { bearer: token });
      assert.equal(wrongScope.status, 403);
      assert.equal(wrongScope.body.error.code, 'insufficient_scope');
      const owner = (await srv.signedIn(user)).client;
      for (const body of [{ pin: 'abcd' }, { pin: '12' }, { pin: 1234 }, { challenge: 'retina' }, { challenge: 'pin', pin: null }, { default_names: 'x' }, { device_info: { colour: 'red' } }, { extra: 1 }]) {
        const r = await owner.patch(path, body);
        assert.equal(r.status, 400, JSON.stringify(body));
        assert.equal(r.body.error.code, 'validation_failed');
      }
      const byToken = await c.request('PATCH', path, { bearer: devicesToken, json: { challenge: 'ack' } });
      assert.equal(byToken.status, 403);
      assert.equal(byToken.body.error.code, 'session_required');
      const noPin = await owner.patch(path, { challenge: 'pin' });
      assert.equal(noPin.status, 400);
      assert.equal(noPin.body.error.details.fields[0].path, 'pin');
      const other = await srv.createUser();
      const otherToken = await issueAccessToken(srv, { user: other, scopes: ['devices'] });
      const foreign = await c.request('PATCH', path, { bearer: otherToken, json: { default_names: ['Mine now'] } });
      assert.equal(foreign.status, 404);
      assert.equal(foreign.body.error.code, 'device_not_found');
      assert.equal((await c.request('GET', '/api/smarthome/devices/nope/', { bearer: devicesToken })).status, 404);
    });
  });

  describe('Report State and Request Sync', () => {
    it('a device\'s own state report reaches Home Graph with the full state in Google spelling', async () => {
      fake.reset();
      const r = await srv.client().request('PATCH', '/api/devices/light-1/state', { bearer: devicesToken, json: { state: { on: true, color: { spectrumRGB: 255 } } } });
      assert.equal(r.status, 200, r.text);
      const [report] = await fake.waitFor(REPORT_PATH);
      assert.deepEqual(report!.body.payload.devices.states, { 'light-1': { online: true, on: true, brightness: 40, color: { spectrumRgb: 255 } } });
    });

    it('adding, changing or deleting a device asks Google to sync', async () => {
      fake.reset();
      await createDevice(srv, user.id, { id: 'fan-1', type: 'FAN', traits: ['OnOff'], name: 'Fan' });
      const [first] = await fake.waitFor(SYNC_PATH);
      assert.deepEqual(first!.body, { agentUserId: user.id, async: false });
      await srv.app.services.devices.remove(user.id, 'fan-1');
      await fake.waitFor(SYNC_PATH, 2);
    });

    it('DISCONNECT revokes exactly the calling grant, answers {}, and stops Report State once no link is left', async () => {
      const second = await issueAccessToken(srv, { user, scopes: ['smarthome'] });
      await fulfill(srv, second, { requestId: 's', inputs: [{ intent: 'action.devices.SYNC' }] });
      const grantsBefore = (await srv.app.services.oauth.listUserGrants(user.id)).length;
      const res = await fulfill(srv, second, { requestId: 'req-disc-1', inputs: [{ intent: 'action.devices.DISCONNECT' }] });
      assert.equal(res.status, 200);
      assert.deepEqual(res.body, {});
      assert.equal((await fulfill(srv, second, { requestId: 'x', inputs: [{ intent: 'action.devices.SYNC' }] })).status, 401);
      assert.equal((await fulfill(srv, token, { requestId: 'x', inputs: [{ intent: 'action.devices.SYNC' }] })).status, 200, 'the other link still works');
      assert.equal((await srv.app.services.oauth.listUserGrants(user.id)).length, grantsBefore - 1);

      // With the last link gone too, state changes are no longer reported.
      await fulfill(srv, token, { requestId: 'd2', inputs: [{ intent: 'action.devices.DISCONNECT' }] });
      fake.reset();
      await srv.app.services.devices.reportState(user.id, 'light-1', { state: { on: false } });
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(fake.calls.length, 0);
    });

    it('a 404 from Home Graph (unknown agent user) stops reporting until the next SYNC', async () => {
      const u = await srv.createUser();
      const t = await issueAccessToken(srv, { user: u, scopes: ['smarthome'] });
      await createDevice(srv, u.id, { id: 'plug-1', type: 'OUTLET', traits: ['OnOff'], name: 'Plug' });
      await fulfill(srv, t, { requestId: 's', inputs: [{ intent: 'action.devices.SYNC' }] });
      fake.reset();
      fake.script(REPORT_PATH, 404);
      await srv.app.services.devices.reportState(u.id, 'plug-1', { state: { on: true } });
      await fake.waitFor(REPORT_PATH);
      await new Promise((r) => setTimeout(r, 200));
      await srv.app.services.devices.reportState(u.id, 'plug-1', { state: { on: false } });
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(fake.calls.filter((c) => c.path === REPORT_PATH).length, 1, 'no report after the 404');
      await fulfill(srv, t, { requestId: 's2', inputs: [{ intent: 'action.devices.SYNC' }] });
      await srv.app.services.devices.reportState(u.id, 'plug-1', { state: { on: true } });
      const reports = await fake.waitFor(REPORT_PATH, 2);
      assert.deepEqual(reports[1]!.body.payload.devices.states, { 'plug-1': { online: true, on: true } });
    });
  });
});

describe('without Home Graph credentials', () => {
  let srv: TestServer;
  before(async () => {
    srv = await startTestServer();
  });
  after(() => srv?.close());

  it('SYNC says willReportState false and intents still work', async () => {
    const user = await srv.createUser();
    const token = await issueAccessToken(srv, { user, scopes: ['smarthome'] });
    await createDevice(srv, user.id, { id: 'light-1', type: 'LIGHT', traits: ['OnOff'], name: 'Lamp', will_report_state: true });
    await srv.app.services.devices.reportState(user.id, 'light-1', { state: { on: false } });
    const sync = await fulfill(srv, token, { requestId: 's', inputs: [{ intent: 'action.devices.SYNC' }] });
    assert.equal(sync.body.payload.devices[0].willReportState, false);
    const ex = await fulfill(srv, token, exec('e', [{ devices: [{ id: 'light-1' }], execution: [{ command: C('OnOff'), params: { on: true } }] }]));
    assert.deepEqual(ex.body.payload.commands, [{ ids: ['light-1'], status: 'SUCCESS', states: { online: true, on: true } }]);
  });
});
