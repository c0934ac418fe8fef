/**
 * Start the real server (composition root) against PostgreSQL and Redis with an isolated schema and key
 * prefix; `close()` stops it and removes the schema and keys.
 */
import { Redis } from 'ioredis';
import pg from 'pg';
import type { Config } from '../../src/config.ts';
import type { User } from '../../src/domain/users/user.types.ts';
import type { Logger } from '../../src/logger.ts';
import { createServer, type RunningServer } from '../../src/server.ts';
import { testConfig, TEST_DATABASE_URL, TEST_REDIS_URL, uniqueId, type TestConfigOptions } from './config.ts';
import { HttpClient } from './http.ts';

export interface TestServer extends RunningServer {
  config: Config;
  /** A new cookie-keeping client for this server. */
  client(): HttpClient;
  /** Create a user directly through the domain service. Password defaults to DEFAULT_PASSWORD. */
  createUser(opts?: { email?: string; password?: string | null; staff?: boolean; superuser?: boolean; firstName?: string; lastName?: string }): Promise<User>;
  /** A client signed in (session cookie) as a new or given user. */
  signedIn(user?: User, password?: string): Promise<{ client: HttpClient; user: User }>;
}

export const DEFAULT_PASSWORD = 'correct horse battery staple';

export interface StartOptions extends TestConfigOptions {
  /** Keep the schema/keys on close (another node still uses them). */
  keepData?: boolean;
  /** Use this logger (e.g. one that captures lines) instead of the configured one. */
  logger?: Logger;
}

export async function startTestServer(opts: StartOptions = {}): Promise<TestServer> {
  const config = await testConfig(opts);
  const running = await createServer(config, opts.logger ? { logger: opts.logger } : {});
  let n = 0;
  const server: TestServer = {
    ...running,
    config,
    client: () => new HttpClient(running.url),
    async createUser(o = {}) {
      return running.app.services.users.create(
        {
          email: o.email ?? `user${++n}-${uniqueId()}@example.test`,
          password: o.password === undefined ? DEFAULT_PASSWORD : o.password,
          first_name: o.firstName ?? 'Test',
          last_name: o.lastName ?? `User${n}`,
        },
        { isStaff: o.staff ?? false, isSuperuser: o.superuser ?? false },
      );
    },
    async signedIn(user, password = DEFAULT_PASSWORD) {
      const u = user ?? (await server.createUser());
      const client = new HttpClient(running.url);
      const res = await client.post('/auth/login', { email: u.email, password });
      if (res.status !== 200) throw new Error(`sign-in failed: ${res.status} ${res.text}`);
      return { client, user: u };
    },
    async close() {
      await running.close();
      if (!opts.keepData) await dropTestData(config);
    },
  };
  return server;
}

/** Remove a test schema and the Redis keys under its prefix. */
export async function dropTestData(config: Config): Promise<void> {
  if (config.db.url && config.db.schema !== 'public') {
    const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
    await client.connect();
    try {
      await client.query(`drop schema if exists "${config.db.schema}" cascade`);
    } finally {
      await client.end();
    }
  }
  if (config.redis.url) {
    const redis = new Redis(TEST_REDIS_URL);
    try {
      let cursor = '0';
      do {
        const [next, keys] = await redis.scan(cursor, 'MATCH', `${config.redis.prefix}*`, 'COUNT', 500);
        cursor = next;
        if (keys.length) await redis.del(...keys);
      } while (cursor !== '0');
    } finally {
      redis.disconnect();
    }
  }
}
