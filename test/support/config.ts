/**
 * Test configuration: real PostgreSQL and Redis (DATABASE_URL / REDIS_URL, defaulting to the local
 * services), an isolated schema and Redis key prefix per server, a free port.
 */
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { buildConfig, readEnv, type Config } from '../../src/config.ts';

export const TEST_DATABASE_URL = readEnv().DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
export const TEST_REDIS_URL = readEnv().REDIS_URL ?? 'redis://127.0.0.1:6379';

/** A free TCP port on 127.0.0.1. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

/** A unique lower-case suffix for schema names and key prefixes. */
export function uniqueId(): string {
  return `${process.pid.toString(36)}${randomBytes(5).toString('hex')}`;
}

export interface TestConfigOptions {
  /** Share a schema/prefix between several servers (multi-node tests). */
  schema?: string;
  redisPrefix?: string;
  port?: number;
  /** Variables to set (undefined removes a default, e.g. REDIS_URL: undefined for memory mode). */
  env?: Record<string, string | undefined>;
}

export async function testConfig(opts: TestConfigOptions = {}): Promise<Config> {
  const port = opts.port ?? (await freePort());
  const id = uniqueId();
  const vars: Record<string, string | undefined> = {
    ...readEnv(),
    NODE_ENV: 'test',
    HOST: '127.0.0.1',
    PORT: String(port),
    PUBLIC_URL: `http://127.0.0.1:${port}`,
    LOG_LEVEL: readEnv().TEST_LOG_LEVEL ?? 'silent',
    LOG_FORMAT: 'json',
    DATABASE_URL: TEST_DATABASE_URL,
    DATABASE_SCHEMA: opts.schema ?? `t_${id}`,
    DATABASE_POOL_MAX: '5',
    REDIS_URL: TEST_REDIS_URL,
    REDIS_PREFIX: opts.redisPrefix ?? `test:${id}:`,
    SESSION_KEYS: 'test-session-key-0123456789abcdefghijklmnop',
    ALLOWED_ORIGINS: undefined,
  };
  for (const [k, v] of Object.entries(opts.env ?? {})) vars[k] = v;
  return buildConfig(vars);
}
