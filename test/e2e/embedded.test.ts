/**
 * The README promise, end to end: with no DATABASE_URL and no REDIS_URL the server runs on embedded
 * PGlite and in-memory stores; `createsuperuser` then `POST /auth/login` gives a working session.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { readEnv } from '../../src/config.ts';
import { freePort } from '../support/config.ts';
import { HttpClient } from '../support/http.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');

describe('embedded default (PGlite, no Redis)', () => {
  let dir: string;
  let port: number;
  let child: ChildProcess | undefined;
  let env: Record<string, string | undefined>;
  let output = '';

  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'mb-e2e-'));
    port = await freePort();
    env = { ...readEnv(), DATA_DIR: dir, PORT: String(port), HOST: '127.0.0.1', LOG_FORMAT: 'json', LOG_LEVEL: 'info', NODE_ENV: 'development' };
    delete env.DATABASE_URL;
    delete env.REDIS_URL;
    delete env.DATABASE_SCHEMA;
  });
  after(async () => {
    if (child && child.exitCode === null) {
      const exited = new Promise((r) => child!.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it('creates a superuser non-interactively and refuses a duplicate or weak password', () => {
    // Generous: the first run creates the embedded database and applies every migration (slow on a loaded machine).
    const run = (...args: string[]) =>
      spawnSync(process.execPath, [path.join(ROOT, 'scripts/createsuperuser.ts'), ...args], { env, encoding: 'utf8', cwd: ROOT, timeout: 150_000 });
    const ok = run('--email', 'admin@example.test', '--password', 'long and unguessable passphrase 42');
    assert.equal(ok.status, 0, ok.stderr);
    assert.match(ok.stdout, /Superuser created: admin@example.test/);
    const dup = run('--email', 'ADMIN@example.test', '--password', 'another strong passphrase');
    assert.equal(dup.status, 1);
    assert.match(dup.stderr, /already exists/);
    const weak = run('--email', 'weak@example.test', '--password', 'short');
    assert.equal(weak.status, 1);
    assert.match(weak.stderr, /too weak/);
    const missing = run('--noinput');
    assert.equal(missing.status, 2);
  });

  it('starts with `node src/main.ts`, serves /home/ and /healthz, and signs the admin in', async () => {
    child = spawn(process.execPath, [path.join(ROOT, 'src/main.ts')], { env, cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout!.on('data', (d) => (output += d));
    child.stderr!.on('data', (d) => (output += d));
    const base = `http://127.0.0.1:${port}`;
    const deadline = Date.now() + 120_000;
    for (;;) {
      try {
        if ((await fetch(`${base}/healthz`)).ok) break;
      } catch {}
      if (Date.now() > deadline || child.exitCode !== null) assert.fail(`server did not start:\n${output}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    assert.match(output, /embedded PGlite/);
    assert.match(output, /in-memory \(single node\)/);
    const c = new HttpClient(base);
    assert.equal((await c.get('/home/')).status, 200);
    const ready = await c.get('/readyz');
    assert.deepEqual(ready.body.checks, { database: 'ok', redis: 'not_configured' });
    const login = await c.post('/auth/login', { email: 'admin@example.test', password: 'long and unguessable passphrase 42' });
    assert.equal(login.status, 200, login.text);
    const me = await c.get('/api/me');
    assert.equal(me.status, 200);
    assert.equal(me.body.email, 'admin@example.test');
    assert.equal(me.body.is_superuser, true);
    assert.doesNotMatch(output, /long and unguessable passphrase 42/, 'the password never reaches the log');
  });

  it('stops gracefully on SIGTERM', async () => {
    const exited = new Promise<number | null>((r) => child!.once('exit', (code) => r(code)));
    child!.kill('SIGTERM');
    assert.equal(await exited, 0);
    assert.match(output, /stopped/);
  });
});
