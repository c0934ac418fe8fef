import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestServer, type TestServer } from '../support/server.ts';

describe('long-poll across nodes (shared PostgreSQL schema and Redis prefix)', () => {
  let a: TestServer;
  let b: TestServer;
  before(async () => {
    a = await startTestServer({ keepData: true, env: { DEVICE_POLL_MAX_WAIT: '10' } });
    b = await startTestServer({ schema: a.config.db.schema, redisPrefix: a.config.redis.prefix, env: { DEVICE_POLL_MAX_WAIT: '10' } });
  });
  after(async () => {
    await a.close();
    await b.close();
  });

  it('a poll held on node A is woken by a command created on node B', async () => {
    const { client, user } = await a.signedIn();
    assert.equal((await client.post('/api/devices/', { id: 'light-1', type: 'LIGHT', traits: ['OnOff'], name: 'Lamp' })).status, 201);
    const t0 = Date.now();
    const pending = client.post('/api/poll-messages/', { messagesRead: [], wait: 8 });
    await new Promise((r) => setTimeout(r, 300));
    const m = await b.app.services.deviceMessages.createCommand(user.id, 'light-1', { command: 'action.devices.commands.OnOff', params: { on: true } });
    const res = await pending;
    const took = Date.now() - t0;
    assert.equal(res.status, 200);
    assert.deepEqual(res.body.messages.map((x: { id: string; text: string }) => [x.id, x.text]), [[m.id, 'on']]);
    assert.ok(took < 3000, `woken across nodes, not by the timeout (${took} ms)`);
  });

  it('an acknowledgement on one node is seen by polls on the other (one acknowledgement state)', async () => {
    const { client, user } = await a.signedIn();
    await client.post('/api/devices/', { id: 'plug', type: 'OUTLET', traits: ['OnOff'], name: 'Plug' });
    const m = await a.app.services.deviceMessages.createCommand(user.id, 'plug', { command: 'action.devices.commands.OnOff', params: { on: false } });
    assert.deepEqual(await b.app.services.deviceMessages.ack(user.id, [m.id]), [m.id]);
    const res = await client.post('/api/poll-messages/', {});
    assert.deepEqual(res.body.messages, []);
  });
});
