import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { User } from '../../src/domain/users/user.types.ts';
import { collect, connectSocket, emitAck, nextEvent, quiet, socketTokens, startCluster, type ClientSocket, type Cluster } from '../support/socket.ts';
import type { TestServer } from '../support/server.ts';

const ON_OFF = 'action.devices.commands.OnOff';

describe('devices on sockets across two nodes', () => {
  let cluster: Cluster;
  let a: TestServer;
  let b: TestServer;
  let owner: User;
  let stranger: User;
  let tokens: ReturnType<typeof socketTokens>;
  let deviceToken: string;
  let lamp: ClientSocket;
  const sockets: ClientSocket[] = [];

  before(async () => {
    cluster = await startCluster(2);
    [a, b] = cluster.nodes as [TestServer, TestServer];
    tokens = socketTokens(a);
    owner = await a.createUser();
    stranger = await a.createUser();
    await a.app.services.devices.create(owner.id, { id: 'lamp-1', type: 'action.devices.types.LIGHT', traits: ['action.devices.traits.OnOff'], name: 'Lamp' });
    await a.app.services.devices.create(stranger.id, { id: 'other-lamp', type: 'action.devices.types.LIGHT', traits: ['action.devices.traits.OnOff'], name: 'Other' });
    deviceToken = await tokens.issue(owner, ['devices']);
    lamp = await connectSocket(b.url, { token: deviceToken });
    sockets.push(lamp);
  });
  after(async () => {
    for (const s of sockets) s.close();
    await cluster.close();
  });

  it('delivers a command created on A to the owner\'s device socket on B, and only there', async () => {
    const strangerDevice = await connectSocket(b.url, { token: await tokens.issue(stranger, ['devices']) });
    const chatOnly = await connectSocket(a.url, { token: await tokens.issue(owner, ['read:messages']) });
    sockets.push(strangerDevice, chatOnly);
    const strangerGot = collect(strangerDevice, 'device:command');
    const chatGot = collect(chatOnly, 'device:command');
    const live = nextEvent(lamp, 'device:command');
    const created = await a.app.services.deviceMessages.createCommand(owner.id, 'lamp-1', { command: ON_OFF, params: { on: true } });
    const cmd = await live;
    assert.equal(cmd.id, created.id);
    assert.equal(cmd.deviceId, 'lamp-1');
    assert.equal(cmd.topic, `lamp-1/${ON_OFF}`);
    assert.equal(cmd.text, 'on');
    assert.equal(cmd.isRead, false);
    assert.deepEqual(cmd.payload, { on: true });
    assert.ok(Date.parse(cmd.expiresAt) > Date.now());
    await quiet(strangerGot);
    assert.deepEqual(chatGot, []);
  });

  it('fetches and acks over the socket; polling over HTTP sees the same acknowledgement state', async () => {
    const second = await a.app.services.deviceMessages.createCommand(owner.id, 'lamp-1', { command: ON_OFF, params: { on: false } });
    const pending = await emitAck(lamp, 'device:fetch', { device_id: 'lamp-1' });
    const ids = pending.data.messages.map((m: { id: string }) => m.id);
    assert.ok(ids.includes(second.id));
    const acked = await emitAck(lamp, 'device:ack', { ids });
    assert.deepEqual([...acked.data.acknowledged].sort(), [...ids].sort());
    // Acking again, or another owner's id, changes nothing.
    assert.deepEqual((await emitAck(lamp, 'device:ack', { ids })).data.acknowledged, []);
    const poll = await a.client().post('/api/poll-messages/', { messagesRead: [] }, { bearer: deviceToken });
    assert.equal(poll.status, 200);
    assert.deepEqual(poll.body.messages, []);
    // And the other way round: a poll's ack is seen by the socket.
    const third = await a.app.services.deviceMessages.createCommand(owner.id, 'lamp-1', { command: ON_OFF, params: { on: true } });
    const polled = await a.client().post('/api/poll-messages/', { messagesRead: [third.id] }, { bearer: deviceToken });
    assert.equal(polled.status, 200);
    assert.deepEqual((await emitAck(lamp, 'device:fetch', {})).data.messages, []);
  });

  it('reports state over the socket', async () => {
    const res = await emitAck(lamp, 'device:state', { device_id: 'lamp-1', state: { on: true } });
    assert.equal(res.data.device.id, 'lamp-1');
    assert.deepEqual(res.data.device.state, { on: true });
    assert.equal(res.data.device.online, true);
    const stored = await a.app.services.devices.getMany(owner.id, ['lamp-1']);
    assert.deepEqual(stored[0]!.state, { on: true });
  });

  it('rejects bad device events with exact codes', async () => {
    assert.equal((await emitAck(lamp, 'device:state', { device_id: 'other-lamp', state: { on: true } })).error.code, 'device_not_found');
    assert.equal((await emitAck(lamp, 'device:state', { device_id: 'lamp-1', state: 'on' })).error.code, 'validation_failed');
    assert.equal((await emitAck(lamp, 'device:state', { device_id: 'lamp-1' })).error.code, 'validation_failed');
    assert.equal((await emitAck(lamp, 'device:ack', { ids: ['not-a-uuid'] })).error.code, 'validation_failed');
    assert.equal((await emitAck(lamp, 'device:ack', { ids: [] })).error.code, 'validation_failed');
    assert.equal((await emitAck(lamp, 'device:fetch', { limit: 0 })).error.code, 'validation_failed');
    assert.equal((await emitAck(lamp, 'device:fetch', { device_id: 'someone-elses-or-none' })).error.code, 'device_not_found');
    // A device token is not a chat client, and a chat token is not a device.
    assert.equal((await emitAck(lamp, 'message:send', { conversation_id: crypto.randomUUID(), body: 'hi' })).error.code, 'insufficient_scope');
    const chat = await connectSocket(a.url, { token: await tokens.issue(owner, ['read:messages']) });
    sockets.push(chat);
    const denied = await emitAck(chat, 'device:ack', { ids: [crypto.randomUUID()] });
    assert.equal(denied.error.code, 'insufficient_scope');
    assert.equal(denied.error.details.scope, 'devices');
  });
});
