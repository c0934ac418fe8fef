import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { countConnectedSockets } from '../../src/realtime/presence.ts';
import { connectError, connectSocket, disconnected, eventually } from '../support/socket.ts';
import { startTestServer, type TestServer } from '../support/server.ts';

describe('realtime without Redis (single node, in-memory adapter and presence)', () => {
  let srv: TestServer;
  before(async () => {
    srv = await startTestServer({ env: { REDIS_URL: undefined } });
  });
  after(() => srv.close());

  it('connects with the session, counts sockets and disconnects them at logout', async () => {
    assert.equal(srv.app.redis, null);
    const { client } = await srv.signedIn();
    const s1 = await connectSocket(srv.url, { client });
    const s2 = await connectSocket(srv.url, { client, transports: ['polling'] });
    await eventually(async () => (await countConnectedSockets(srv.app)) === 2, 3000, 'two sockets');
    const gone = Promise.all([disconnected(s1), disconnected(s2)]);
    assert.equal((await client.post('/auth/logout')).status, 204);
    assert.deepEqual(await gone, ['io server disconnect', 'io server disconnect']);
    await eventually(async () => (await countConnectedSockets(srv.app)) === 0, 3000, 'no sockets');
    assert.equal((await connectError(srv.url, { client })).data?.code, 'unauthenticated');
  });
});
