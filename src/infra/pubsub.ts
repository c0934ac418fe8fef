/**
 * Cross-node notifications: publish a small JSON payload on a channel; every node's subscribers to that
 * channel receive it. Redis pub/sub when configured (one subscriber connection per node, channels
 * subscribed while someone listens), an in-process emitter otherwise. Used for wake-ups (long-poll,
 * device polling) — not for durable data, which lives in PostgreSQL.
 */
import { EventEmitter } from 'node:events';
import type { Logger } from '../logger.ts';
import type { RedisHandle } from './redis.ts';

export type PubSubHandler = (payload: unknown) => void;

export interface PubSub {
  publish(channel: string, payload?: unknown): Promise<void>;
  /** Listen on `channel`; resolves once the subscription is active on every node. Returns the unsubscribe. */
  subscribe(channel: string, handler: PubSubHandler): Promise<() => void>;
  close(): Promise<void>;
}

export function createPubSub(redis: RedisHandle | null, logger: Logger): PubSub {
  const local = new EventEmitter();
  local.setMaxListeners(0);
  if (!redis) {
    return {
      async publish(channel, payload) {
        local.emit(channel, payload ?? null);
      },
      async subscribe(channel, handler) {
        local.on(channel, handler);
        return () => void local.off(channel, handler);
      },
      async close() {
        local.removeAllListeners();
      },
    };
  }

  const log = logger.child({ subsystem: 'pubsub' });
  const prefix = `${redis.prefix}ps:`;
  const sub = redis.duplicate();
  const counts = new Map<string, number>();
  const pending = new Map<string, Promise<unknown>>();
  sub.on('message', (raw: string, message: string) => {
    let payload: unknown = null;
    try {
      payload = JSON.parse(message);
    } catch {
      log.warn({ channel: raw }, 'dropped a malformed pub/sub message');
      return;
    }
    local.emit(raw.slice(prefix.length), payload);
  });

  return {
    async publish(channel, payload) {
      await redis.client.publish(prefix + channel, JSON.stringify(payload ?? null));
    },
    async subscribe(channel, handler) {
      local.on(channel, handler);
      counts.set(channel, (counts.get(channel) ?? 0) + 1);
      let subscribed = pending.get(channel);
      if (!subscribed) pending.set(channel, (subscribed = sub.subscribe(prefix + channel)));
      let done = false;
      const release = () => {
        if (done) return;
        done = true;
        local.off(channel, handler);
        const left = (counts.get(channel) ?? 1) - 1;
        if (left > 0) counts.set(channel, left);
        else {
          counts.delete(channel);
          pending.delete(channel);
          sub.unsubscribe(prefix + channel).catch((err: Error) => log.warn({ err: { message: err.message } }, 'unsubscribe failed'));
        }
      };
      try {
        await subscribed;
      } catch (err) {
        // A failed SUBSCRIBE (Redis unreachable) must not stay cached for the channel: forget it so the next
        // subscriber tries again, and undo this subscriber's share.
        if (pending.get(channel) === subscribed) pending.delete(channel);
        release();
        throw err;
      }
      return release;
    },
    async close() {
      local.removeAllListeners();
      // The connection itself is closed with the Redis handle.
      await sub.unsubscribe().catch(() => undefined);
    },
  };
}
