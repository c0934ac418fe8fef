/**
 * Verified access tokens are reused for a few seconds per node; a revoked grant or a deactivated user must
 * still stop working at once, on every node.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { basicAuth, createOAuthClient, issueAccessToken, postForm } from '../support/oauth.ts';
import { startTestServer, type TestServer } from '../support/server.ts';

describe('bearer verification cache', () => {
  let a: TestServer;
  let b: TestServer;
  before(async () => {
    a = await startTestServer({ keepData: true, env: { OAUTH_BEARER_CACHE_MS: '60000' } });
    b = await startTestServer({ schema: a.config.db.schema, redisPrefix: a.config.redis.prefix, env: { OAUTH_BEARER_CACHE_MS: '60000', PUBLIC_URL: a.config.http.publicUrl } });
  });
  after(async () => {
    await a.close();
    await b.close();
  });

  const me = (srv: TestServer, token: string) => srv.client().get('/api/me', { bearer: token });

  it('a grant revoked on node A stops its token on node B at once, although B had it cached', async () => {
    const user = await a.createUser();
    const token = await issueAccessToken(a, { user, scopes: ['read:messages'] });
    assert.equal((await me(b, token)).status, 200);
    assert.equal((await me(b, token)).status, 200, 'served from the cache');
    const info = await a.app.bearer.verify(token);
    assert.ok(info?.grantId);
    await a.app.services.oauth.revokeGrant(info.grantId, { userId: user.id });
    let status = 0;
    for (let i = 0; i < 50 && status !== 401; i++) {
      status = (await me(b, token)).status;
      if (status !== 401) await new Promise((r) => setTimeout(r, 10));
    }
    assert.equal(status, 401);
    assert.equal((await me(a, token)).status, 401);
  });

  it('a token revoked at /o/revoke_token/ is refused right after, although it was cached', async () => {
    const user = await a.createUser();
    const c = await createOAuthClient(a);
    const token = await issueAccessToken(a, { user, scopes: ['read:messages'], clientId: c.clientId });
    assert.equal((await me(a, token)).status, 200);
    const revoked = await postForm(a, '/o/revoke_token/', { token }, { authorization: basicAuth(c.clientId, c.clientSecret!) });
    assert.equal(revoked.status, 200);
    assert.equal((await me(a, token)).status, 401);
  });

  it('a deactivated user is refused at once on both nodes', async () => {
    const user = await a.createUser();
    const token = await issueAccessToken(a, { user, scopes: ['read:messages'] });
    assert.equal((await me(a, token)).status, 200);
    assert.equal((await me(b, token)).status, 200);
    await a.app.services.users.setActive(user.id, false);
    assert.equal((await me(a, token)).status, 401);
    assert.equal((await me(b, token)).status, 401);
  });
});
