/**
 * The whole Google Home story in one test, over HTTP only: account linking through /o/ with Google's
 * redirect URI (authorize, code exchange, refresh), then SYNC → EXECUTE → the device polls its commands →
 * the device reports its state → Report State arrives at the (local, fake) Home Graph.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { REPORT_PATH, startFakeHomeGraph, type FakeHomeGraph } from '../support/fake-homegraph.ts';
import { authorizeInBrowser, createOAuthClient, issueAccessToken, postForm } from '../support/oauth.ts';
import { startTestServer, type TestServer } from '../support/server.ts';

const GOOGLE_REDIRECT = 'https://oauth-redirect.googleusercontent.com/r/test-project';

async function fulfill(srv: TestServer, token: string, body: unknown) {
  const res = await fetch(new URL('/smarthome/fulfillment/', srv.url), {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as any };
}

describe('Google Home round trip', () => {
  let srv: TestServer;
  let fake: FakeHomeGraph;

  before(async () => {
    fake = await startFakeHomeGraph();
    srv = await startTestServer({ env: { HOMEGRAPH_CREDENTIALS: fake.keyJson, HOMEGRAPH_URL: fake.url, HOMEGRAPH_RETRY_BASE_MS: '10' } });
  });
  after(async () => {
    await srv?.close();
    await fake?.close();
  });

  it('links the account, then SYNC → EXECUTE → device poll → state report → Report State', async () => {
    const { client: browser, user } = await srv.signedIn();
    const google = await createOAuthClient(srv, {
      name: 'Google Home',
      redirect_uris: [GOOGLE_REDIRECT],
      token_endpoint_auth_method: 'client_secret_post',
      scopes: ['smarthome'],
    });

    // Account linking, as Google does it: authorization code (no PKCE), secret in the body.
    const auth = await authorizeInBrowser(srv, { client: google, browser, scopes: ['smarthome'], state: 'google-state-1', pkce: null });
    assert.equal(auth.location.origin + auth.location.pathname, GOOGLE_REDIRECT);
    assert.equal(auth.location.searchParams.get('state'), 'google-state-1');
    assert.ok(auth.code);
    const creds = { client_id: google.clientId, client_secret: google.clientSecret! };
    const tok = await postForm(srv, '/o/token/', { grant_type: 'authorization_code', code: auth.code!, redirect_uri: GOOGLE_REDIRECT, ...creds });
    assert.equal(tok.status, 200, JSON.stringify(tok.body));
    assert.equal(tok.body.token_type, 'Bearer');
    assert.equal(typeof tok.body.expires_in, 'number');
    assert.equal(typeof tok.body.refresh_token, 'string');
    assert.equal(tok.body.access_token.split('.').length === 3, false, 'opaque, not a JWT');
    const refreshed = await postForm(srv, '/o/token/', { grant_type: 'refresh_token', refresh_token: tok.body.refresh_token, ...creds });
    assert.equal(refreshed.status, 200, JSON.stringify(refreshed.body));
    assert.notEqual(refreshed.body.access_token, tok.body.access_token, 'a refresh yields a new access token');
    const bad = await postForm(srv, '/o/token/', { grant_type: 'refresh_token', refresh_token: 'rt_revoked', ...creds });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error, 'invalid_grant');
    const googleToken: string = refreshed.body.access_token;

    // The owner registers a lamp; the lamp polls with its own token.
    const deviceToken = await issueAccessToken(srv, { user, scopes: ['devices'] });
    const created = await srv.client().request('POST', '/api/devices', { bearer: deviceToken, json: { id: 'lamp-1', type: 'LIGHT', traits: ['OnOff', 'Brightness'], name: 'Lamp', room: 'Den', state: { on: false, brightness: 10 } } });
    assert.equal(created.status, 201, created.text);
    const firstPoll = await srv.client().request('POST', '/api/poll-messages/', { bearer: deviceToken, json: { messagesRead: [] } });
    assert.deepEqual(firstPoll.body, { status: 'success', messages: [] });

    const sync = await fulfill(srv, googleToken, { requestId: 'rt-sync', inputs: [{ intent: 'action.devices.SYNC' }] });
    assert.equal(sync.status, 200);
    assert.equal(sync.body.payload.agentUserId, user.id);
    assert.deepEqual(sync.body.payload.devices.map((d: any) => [d.id, d.willReportState, d.roomHint]), [['lamp-1', true, 'Den']]);

    const exec = await fulfill(srv, googleToken, {
      requestId: 'rt-exec',
      inputs: [{ intent: 'action.devices.EXECUTE', payload: { commands: [{ devices: [{ id: 'lamp-1' }], execution: [
        { command: 'action.devices.commands.OnOff', params: { on: true } },
        { command: 'action.devices.commands.BrightnessAbsolute', params: { brightness: 30 } },
      ] }] } }],
    });
    assert.deepEqual(exec.body, { requestId: 'rt-exec', payload: { commands: [{ ids: ['lamp-1'], status: 'SUCCESS', states: { online: true, on: true, brightness: 30 } }] } });

    const poll = await srv.client().request('POST', '/api/poll-messages/', { bearer: deviceToken, json: { messagesRead: [] } });
    assert.equal(poll.status, 200);
    assert.deepEqual(poll.body.messages.map((m: any) => [m.deviceId, m.topic, m.text, m.isRead]), [
      ['lamp-1', 'lamp-1/action.devices.commands.OnOff', 'on', false],
      ['lamp-1', 'lamp-1/action.devices.commands.BrightnessAbsolute', '30', false],
    ]);

    // The lamp acts, acknowledges, and reports what it really did (it only reached 28 %).
    fake.reset();
    const ack = await srv.client().request('POST', '/api/poll-messages/', { bearer: deviceToken, json: { messagesRead: poll.body.messages.map((m: any) => m.id) } });
    assert.deepEqual(ack.body.messages, []);
    const report = await srv.client().request('PUT', '/api/devices/lamp-1/state', { bearer: deviceToken, json: { state: { on: true, brightness: 28 } } });
    assert.equal(report.status, 200, report.text);

    // The report of EXECUTE's expected state may arrive first; the device's own report follows it.
    let last = (await fake.waitFor(REPORT_PATH)).at(-1)!;
    for (let n = 2; last.body.payload.devices.states['lamp-1'].brightness !== 28 && n < 5; n++) last = (await fake.waitFor(REPORT_PATH, n)).at(-1)!;
    assert.match(last.authorization!, /^Bearer ya29\.fake-/);
    assert.equal(last.body.agentUserId, user.id);
    assert.deepEqual(last.body.payload.devices.states, { 'lamp-1': { online: true, on: true, brightness: 28 } });

    const query = await fulfill(srv, googleToken, { requestId: 'rt-q', inputs: [{ intent: 'action.devices.QUERY', payload: { devices: [{ id: 'lamp-1' }] } }] });
    assert.deepEqual(query.body.payload.devices, { 'lamp-1': { online: true, status: 'SUCCESS', on: true, brightness: 28 } });
  });
});
