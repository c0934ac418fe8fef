import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestServer, type TestServer } from './support/server.ts';

describe('catalog introspection', () => {
  it('sees only the configured schema (other deployments on the database cannot break migrations)', async () => {
    const a = await startTestServer();
    const b = await startTestServer();
    try {
      const tables = await a.app.db.db.introspection.getTables();
      assert.ok(tables.some((t) => t.name === 'users'));
      assert.ok(tables.some((t) => t.name === 'kysely_migration'), 'the migrator finds its own table');
      assert.ok(tables.every((t) => t.schema === a.config.db.schema), 'no table of another schema');
      const schemas = await a.app.db.db.introspection.getSchemas();
      assert.deepEqual(schemas.map((s) => s.name), [a.config.db.schema]);
    } finally {
      await a.close();
      await b.close();
    }
  });
});

describe('cross-node pub/sub over Redis', () => {
  let a: TestServer;
  let b: TestServer;
  before(async () => {
    a = await startTestServer({ keepData: true });
    b = await startTestServer({ schema: a.config.db.schema, redisPrefix: a.config.redis.prefix });
  });
  after(async () => {
    await a.close();
    await b.close();
  });

  it('delivers a publish on node A to a subscriber on node B, and stops after unsubscribe', async () => {
    const got: unknown[] = [];
    const off = await b.app.pubsub.subscribe('wake:1', (p) => got.push(p));
    await a.app.pubsub.publish('wake:1', { seq: 7 });
    for (let i = 0; i < 50 && got.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    assert.deepEqual(got, [{ seq: 7 }]);
    off();
    await new Promise((r) => setTimeout(r, 50));
    await a.app.pubsub.publish('wake:1', { seq: 8 });
    await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(got, [{ seq: 7 }]);
  });

  it('keeps channels apart', async () => {
    const got: unknown[] = [];
    const off = await b.app.pubsub.subscribe('wake:2', (p) => got.push(p));
    await a.app.pubsub.publish('wake:3', 'other');
    await a.app.pubsub.publish('wake:2', 'mine');
    for (let i = 0; i < 50 && got.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(got, ['mine']);
    off();
  });
});
