import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { pino } from 'pino';
import { createHomeGraphClient, parseServiceAccountKey, type HomeGraphClient } from '../../src/infra/homegraph.ts';
import { REPORT_PATH, startFakeHomeGraph, SYNC_PATH, type FakeHomeGraph } from '../support/fake-homegraph.ts';

const logger = pino({ level: 'silent' });

describe('Home Graph client against a local fake Home Graph', () => {
  let fake: FakeHomeGraph;
  let client: HomeGraphClient;
  let notFound: string[];

  before(async () => {
    fake = await startFakeHomeGraph();
  });
  after(() => fake.close());
  beforeEach(async () => {
    await client?.close();
    fake.reset();
    notFound = [];
    client = createHomeGraphClient({ key: fake.key, baseUrl: fake.url, maxAttempts: 4, retryBaseMs: 5, logger, onNotFound: (u) => notFound.push(u) });
  });

  it('reports state with a signed service-account token, in Google format, and caches the token', async () => {
    const before = fake.tokensIssued;
    client.reportState('user-7f3a', { 'light-1': { online: true, on: true, brightness: 80 } });
    await client.idle();
    client.reportState('user-7f3a', { 'thermo-1': { online: true, thermostatMode: 'heat', thermostatTemperatureSetpoint: 21.5 } });
    await client.idle();
    const calls = await fake.waitFor(REPORT_PATH, 2);
    assert.equal(fake.tokensIssued - before, 1, 'one token for both calls');
    assert.match(calls[0]!.authorization!, /^Bearer ya29\.fake-\d+$/);
    assert.equal(typeof calls[0]!.body.requestId, 'string');
    assert.deepEqual({ ...calls[0]!.body, requestId: 'x' }, {
      requestId: 'x',
      agentUserId: 'user-7f3a',
      payload: { devices: { states: { 'light-1': { online: true, on: true, brightness: 80 } } } },
    });
    assert.deepEqual(calls[1]!.body.payload.devices.states, { 'thermo-1': { online: true, thermostatMode: 'heat', thermostatTemperatureSetpoint: 21.5 } });
  });

  it('requests a sync with camelCase agentUserId', async () => {
    client.requestSync('user-1');
    await client.idle();
    const [call] = await fake.waitFor(SYNC_PATH);
    assert.deepEqual(call!.body, { agentUserId: 'user-1', async: false });
  });

  it('retries 5xx and 429 with backoff, then succeeds', async () => {
    fake.script(REPORT_PATH, 503, 429);
    client.reportState('user-2', { d: { online: true, on: false } });
    await client.idle();
    const calls = await fake.waitFor(REPORT_PATH, 3);
    assert.equal(calls.length, 3);
    assert.deepEqual(calls.map((c) => c.body.payload.devices.states), [{ d: { online: true, on: false } }, { d: { online: true, on: false } }, { d: { online: true, on: false } }]);
  });

  it('gives up after the configured attempts', async () => {
    fake.script(SYNC_PATH, 500, 500, 500, 500, 500);
    client.requestSync('user-3');
    await client.idle();
    assert.equal(fake.calls.filter((c) => c.path === SYNC_PATH).length, 4);
  });

  it('stops at once on 404 (unlinked agent user) and tells the owner', async () => {
    fake.script(REPORT_PATH, 404);
    client.reportState('ghost', { d: { online: true } });
    await client.idle();
    assert.equal(fake.calls.filter((c) => c.path === REPORT_PATH).length, 1);
    assert.deepEqual(notFound, ['ghost']);
  });

  it('merges reports queued while one is in flight (newest state per device wins)', async () => {
    fake.script(REPORT_PATH, 503);
    client.reportState('user-4', { a: { online: true, on: true } });
    client.reportState('user-4', { b: { online: true, on: true } });
    client.reportState('user-4', { b: { online: true, on: false }, c: { online: false } });
    await client.idle();
    const calls = fake.calls.filter((c) => c.path === REPORT_PATH);
    assert.equal(calls.length, 3, 'first attempt, its retry, then the merged follow-up');
    assert.deepEqual(calls[2]!.body.payload.devices.states, { b: { online: true, on: false }, c: { online: false } });
  });

  it('never throws to the caller and close() drops pending retries', async () => {
    fake.script(SYNC_PATH, 503, 503, 503);
    const slow = createHomeGraphClient({ key: fake.key, baseUrl: fake.url, maxAttempts: 5, retryBaseMs: 60_000, logger });
    slow.requestSync('user-5');
    await fake.waitFor(SYNC_PATH);
    const t = Date.now();
    await slow.close();
    assert.ok(Date.now() - t < 1000);
    slow.requestSync('user-5'); // after close: ignored
    assert.equal(fake.calls.filter((c) => c.path === SYNC_PATH).length, 1);
  });

  it('fetches a new token after the API rejects one', async () => {
    const client2 = createHomeGraphClient({ key: { ...fake.key, token_uri: `${fake.url}/token` }, baseUrl: fake.url, maxAttempts: 3, retryBaseMs: 5, logger });
    client2.requestSync('user-6');
    await client2.idle();
    const before = fake.tokensIssued;
    fake.reset();
    fake.script(SYNC_PATH, 401);
    client2.requestSync('user-6');
    await client2.idle();
    assert.equal(fake.tokensIssued - before, 1);
    assert.equal(fake.calls.filter((c) => c.path === SYNC_PATH).length, 2);
    await client2.close();
  });

  it('a bad key never reaches the API', async () => {
    const wrongIssuer = createHomeGraphClient({ key: { ...fake.key, client_email: 'someone@else' }, baseUrl: fake.url, maxAttempts: 2, retryBaseMs: 5, logger });
    wrongIssuer.requestSync('user-7');
    await wrongIssuer.idle();
    assert.equal(fake.calls.length, 0);
    await wrongIssuer.close();
  });

  it('parses service-account keys and names what is wrong without echoing secrets', () => {
    const k = parseServiceAccountKey(fake.keyJson, 'HOMEGRAPH_CREDENTIALS');
    assert.equal(k.client_email, fake.key.client_email);
    assert.equal(k.token_uri, `${fake.url}/token`);
    assert.throws(() => parseServiceAccountKey('{nope', 'X'), /X: not valid JSON/);
    assert.throws(() => parseServiceAccountKey('{"client_email":"a","private_key":"secret"}', 'X'), (e: Error) => /not a service-account key/.test(e.message) && !e.message.includes('secret'));
  });
});
