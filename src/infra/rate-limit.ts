/**
 * Rate limiters (rate-limiter-flexible): in Redis when configured, so every node counts together; in
 * memory otherwise. `limit()` throws RateLimitedError (429 + Retry-After) when the budget is spent.
 */
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import { RateLimitedError } from '../errors.ts';
import type { RedisHandle } from './redis.ts';

export interface LimiterOptions {
  /** Unique name; becomes part of the key. */
  name: string;
  /** Allowed events per window. */
  points: number;
  /** Window in seconds. */
  duration: number;
  /** Block for this many seconds once exhausted (default: rest of the window). */
  blockDuration?: number;
}

export interface Limiter {
  /** Spend `points` for `key`; throws RateLimitedError when over the limit. */
  consume(key: string, points?: number): Promise<void>;
  /** Throw RateLimitedError if `key` is already over the limit, without spending. */
  check(key: string): Promise<void>;
  /** Forget `key` (e.g. after a successful sign-in). */
  reset(key: string): Promise<void>;
  /** Give back points spent in advance (e.g. an attempt that turned out to succeed). */
  refund(key: string, points?: number): Promise<void>;
}

export type LimiterFactory = (opts: LimiterOptions) => Limiter;

export function createLimiterFactory(redis: RedisHandle | null): LimiterFactory {
  return (opts) => {
    const base = { keyPrefix: `${redis?.prefix ?? ''}rl:${opts.name}`, points: opts.points, duration: opts.duration, blockDuration: opts.blockDuration ?? 0 };
    const limiter: RateLimiterAbstract = redis
      ? new RateLimiterRedis({ ...base, storeClient: redis.client, rejectIfRedisNotReady: false })
      : new RateLimiterMemory(base);
    const toError = (err: unknown): never => {
      if (err instanceof RateLimiterRes) throw new RateLimitedError(err.msBeforeNext / 1000);
      throw err;
    };
    return {
      async consume(key, points = 1) {
        await limiter.consume(key, points).catch(toError);
      },
      async check(key) {
        const res = await limiter.get(key);
        if (res && res.consumedPoints >= opts.points && res.msBeforeNext > 0) throw new RateLimitedError(res.msBeforeNext / 1000);
      },
      async reset(key) {
        await limiter.delete(key);
      },
      async refund(key, points = 1) {
        await limiter.reward(key, points);
      },
    };
  };
}
