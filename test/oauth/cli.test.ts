/** `npm run oauth:client`: create (secret printed once), list, show, rotate-secret, delete, bad usage. */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { readEnv } from '../../src/config.ts';
import { basicAuth, postForm } from '../support/oauth.ts';
import { startTestServer, type TestServer } from '../support/server.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');

describe('oauth:client CLI', () => {
  let srv: TestServer;
  let run: (...args: string[]) => Promise<{ status: number | null; stdout: string; stderr: string }>;
  before(async () => {
    srv = await startTestServer();
    const env: Record<string, string | undefined> = { ...readEnv(), NODE_ENV: 'test', LOG_LEVEL: 'silent', DATABASE_URL: srv.config.db.url, DATABASE_SCHEMA: srv.config.db.schema };
    delete env.REDIS_URL;
    run = (...args) =>
      new Promise((resolve, reject) => {
        const child = spawn(process.execPath, [path.join(ROOT, 'scripts/oauth-client.ts'), ...args], { env, cwd: ROOT });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (d) => (stdout += d));
        child.stderr.on('data', (d) => (stderr += d));
        child.on('error', reject);
        child.on('close', (status) => resolve({ status, stdout, stderr }));
      });
  });
  after(() => srv.close());

  it('creates a confidential client, prints its secret once, and the secret works', async () => {
    const owner = await srv.createUser();
    const created = await run('create', '--name', 'Living room hub', '--grant', 'client_credentials', '--scope', 'devices,read:messages', '--owner', owner.email, '--json');
    assert.equal(created.status, 0, created.stderr);
    const c = JSON.parse(created.stdout);
    assert.equal(c.name, 'Living room hub');
    assert.equal(c.type, 'confidential');
    assert.deepEqual(c.scopes, ['devices', 'read:messages']);
    assert.equal(c.owner_user_id, owner.id);
    assert.ok(c.client_secret.length >= 43);
    const token = await postForm(srv, '/o/token/', { grant_type: 'client_credentials', scope: 'devices' }, { authorization: basicAuth(c.client_id, c.client_secret) });
    assert.equal(token.status, 200);

    const [list, show] = await Promise.all([run('list', '--json'), run('show', c.client_id, '--json')]);
    assert.equal(list.status, 0, list.stderr);
    const listed = JSON.parse(list.stdout);
    assert.ok(listed.some((x: { client_id: string }) => x.client_id === c.client_id));
    assert.ok(!list.stdout.includes(c.client_secret), 'list never shows a secret');
    assert.equal(JSON.parse(show.stdout).client_secret, undefined);

    const rotated = await run('rotate-secret', c.client_id, '--json');
    assert.equal(rotated.status, 0, rotated.stderr);
    const newSecret = JSON.parse(rotated.stdout).client_secret;
    assert.notEqual(newSecret, c.client_secret);
    assert.equal((await postForm(srv, '/o/token/', { grant_type: 'client_credentials', scope: 'devices' }, { authorization: basicAuth(c.client_id, c.client_secret) })).status, 401);

    const del = await run('delete', c.client_id);
    assert.equal(del.status, 0, del.stderr);
    assert.equal(await srv.app.services.oauth.findClient(c.client_id), null);
    const again = await run('delete', c.client_id);
    assert.equal(again.status, 1);
    assert.match(again.stderr, /not found/i);
  });

  it('creates a public client (PKCE) in human-readable form and refuses bad input', async () => {
    const pub = await run('create', '--name', 'Mobile', '--public', '--redirect-uri', 'com.example.mobile:/cb', '--scope', 'read:messages send:messages');
    assert.equal(pub.status, 0, pub.stderr);
    assert.match(pub.stdout, /public \(none\)/);
    assert.match(pub.stdout, /PKCE required:\s+yes/);
    assert.doesNotMatch(pub.stdout, /client_secret/);
    const invalid = await run('create', '--name', 'Bad', '--redirect-uri', 'http://evil.example/cb', '--scope', 'read:messages', '--json');
    assert.equal(invalid.status, 1);
    assert.equal(JSON.parse(invalid.stderr).error.code, 'validation_failed');
    assert.equal((await run('frobnicate')).status, 2);
    assert.equal((await run('create')).status, 2);
    assert.equal((await run('create', '--name', 'x', '--access-token-ttl', 'soon')).status, 2);
  });
});
