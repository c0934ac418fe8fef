/**
 * Redis connections. One command connection is shared; subscribers get their own via `duplicate()`.
 * Without REDIS_URL there is no Redis at all and each consumer falls back to its in-memory equivalent.
 */
import { Redis } from 'ioredis';
import type { Config } from '../config.ts';
import type { Logger } from '../logger.ts';

export interface RedisHandle {
  readonly client: Redis;
  readonly prefix: string;
  /** A new connection for pub/sub (closed with the handle). */
  duplicate(): Redis;
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** Connect to REDIS_URL, or return null when it is not configured. Resolves once the connection is ready. */
export async function createRedis(config: Pick<Config, 'redis'>, logger: Logger): Promise<RedisHandle | null> {
  if (!config.redis.url) return null;
  const log = logger.child({ subsystem: 'redis' });
  const extra: Redis[] = [];
  const make = (name: string) => {
    const r = new Redis(config.redis.url!, { lazyConnect: true, maxRetriesPerRequest: 3, connectionName: `messagebridge:${name}` });
    r.on('error', (err) => log.error({ err: { message: err.message }, connection: name }, 'redis connection error'));
    return r;
  };
  const client = make('cmd');
  await client.connect();
  return {
    client,
    prefix: config.redis.prefix,
    duplicate() {
      const r = make(`sub${extra.length}`);
      extra.push(r);
      return r;
    },
    ping: async () => void (await client.ping()),
    async close() {
      await Promise.allSettled([...extra, client].map((r) => r.quit().catch(() => r.disconnect())));
    },
  };
}
