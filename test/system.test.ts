import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { buildConfig, ConfigError } from '../src/config.ts';
import { startTestServer, type TestServer } from './support/server.ts';

describe('configuration', () => {
  it('names the bad variable when the environment is invalid', () => {
    assert.throws(() => buildConfig({ PORT: 'eighty' }), (e: Error) => e instanceof ConfigError && /PORT/.test(e.message));
    assert.throws(() => buildConfig({ PUBLIC_URL: 'not a url' }), /PUBLIC_URL/);
    assert.throws(() => buildConfig({ NODE_ENV: 'production' }), /SESSION_KEYS/);
    assert.throws(() => buildConfig({ SESSION_KEYS: 'short' }), /SESSION_KEYS/);
  });
  it('defaults to the embedded database and in-memory single node', () => {
    const c = buildConfig({});
    assert.equal(c.db.url, undefined);
    assert.equal(c.redis.url, undefined);
    assert.equal(c.http.port, 3000);
    assert.equal(c.session.cookieName, 'sid');
  });
  it('uses the __Host- cookie over https', () => {
    const c = buildConfig({ PUBLIC_URL: 'https://chat.example.com', SESSION_KEYS: 'k'.repeat(40) });
    assert.equal(c.session.cookieName, '__Host-sid');
    assert.equal(c.http.secure, true);
    assert.deepEqual(c.http.allowedOrigins, ['https://chat.example.com']);
  });
});

describe('system routes', () => {
  let srv: TestServer;
  before(async () => {
    srv = await startTestServer();
  });
  after(() => srv.close());

  it('serves health, readiness with both dependencies, and the landing page', async () => {
    const c = srv.client();
    assert.deepEqual((await c.get('/healthz')).body, { status: 'ok' });
    const ready = await c.get('/readyz');
    assert.equal(ready.status, 200);
    assert.deepEqual(ready.body.checks, { database: 'ok', redis: 'ok' });
    const home = await c.get('/home/');
    assert.equal(home.status, 200);
    assert.match(home.text, /MessageBridge/);
    assert.match(home.text, /\/api\/docs\//);
    assert.equal(home.headers.get('x-frame-options'), 'DENY');
    assert.equal(home.headers.get('x-content-type-options'), 'nosniff');
    assert.ok(home.headers.get('x-request-id'));
  });

  it('serves the OpenAPI document and its docs page from local assets', async () => {
    const c = srv.client();
    const doc = await c.get('/api/openapi.json');
    assert.equal(doc.status, 200);
    assert.equal(doc.body.openapi, '3.1.0');
    assert.ok(doc.body.paths['/api/me'].get);
    const docs = await c.get('/api/docs/');
    assert.match(docs.text, /swagger-ui-bundle\.js/);
    assert.doesNotMatch(docs.text, /https?:\/\//);
    const js = await c.get('/api/docs/swagger-ui-bundle.js');
    assert.equal(js.status, 200);
    assert.ok(js.text.length > 100_000);
  });

  it('answers unknown routes with a JSON 404', async () => {
    const res = await srv.client().get('/api/nothing-here');
    assert.equal(res.status, 404);
    assert.equal(res.body.error.code, 'route_not_found');
  });
});
