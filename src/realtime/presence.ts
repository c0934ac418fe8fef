/**
 * Who is online, across every node, without asking the nodes (`fetchSockets()` is never used on a hot
 * path). In Redis each user has a sorted set of their connected sockets scored by expiry, and one sorted
 * set holds every socket of the cluster (chat or device); nodes refresh their own sockets' entries on a heartbeat, so the
 * sockets of a node that died drop out after the TTL. Without Redis the same is kept in memory (one node).
 */
import type { RedisHandle } from '../infra/redis.ts';

export interface PresenceStore {
  /**
   * Record a connected socket. `userId` is given for chat sockets, which make their user online; true when
   * it is the user's first (the user just came online).
   */
  add(socketId: string, userId: string | null): Promise<boolean>;
  /** Forget a socket; true when its user has no chat socket left anywhere (just went offline). */
  remove(socketId: string, userId: string | null): Promise<boolean>;
  /** Extend the life of this node's sockets (called on a heartbeat). */
  refresh(entries: ReadonlyArray<readonly [socketId: string, userId: string | null]>): Promise<void>;
  /** The subset of `userIds` with at least one live socket. */
  online(userIds: readonly string[]): Promise<Set<string>>;
  /** Connected sockets across every node. */
  connectedSockets(): Promise<number>;
}

/** Create the store: Redis-backed when `redis` is given (shared by every node), in memory otherwise. */
export function createPresenceStore(redis: RedisHandle | null, ttlMs: number): PresenceStore {
  return redis ? redisPresence(redis, ttlMs) : memoryPresence();
}

function redisPresence(redis: RedisHandle, ttlMs: number): PresenceStore {
  const r = redis.client;
  const userKey = (id: string) => `${redis.prefix}presence:user:${id}`;
  const allKey = `${redis.prefix}presence:sockets`;
  return {
    async add(socketId, userId) {
      const now = Date.now();
      if (!userId) {
        await r.zadd(allKey, now + ttlMs, socketId);
        return false;
      }
      const res = await r
        .multi()
        .zremrangebyscore(userKey(userId), '-inf', now)
        .zadd(userKey(userId), now + ttlMs, socketId)
        .pexpire(userKey(userId), ttlMs * 2)
        .zcard(userKey(userId))
        .zadd(allKey, now + ttlMs, socketId)
        .exec();
      return Number(res?.[3]?.[1] ?? 0) === 1;
    },
    async remove(socketId, userId) {
      const now = Date.now();
      if (!userId) {
        await r.zrem(allKey, socketId);
        return false;
      }
      const res = await r
        .multi()
        .zrem(userKey(userId), socketId)
        .zremrangebyscore(userKey(userId), '-inf', now)
        .zcard(userKey(userId))
        .zrem(allKey, socketId)
        .exec();
      return Number(res?.[0]?.[1] ?? 0) === 1 && Number(res?.[2]?.[1] ?? 0) === 0;
    },
    async refresh(entries) {
      const exp = Date.now() + ttlMs;
      const CHUNK = 1000;
      for (let i = 0; i < entries.length; i += CHUNK) {
        const p = r.pipeline();
        for (const [socketId, userId] of entries.slice(i, i + CHUNK)) {
          if (userId) p.zadd(userKey(userId), exp, socketId).pexpire(userKey(userId), ttlMs * 2);
          p.zadd(allKey, exp, socketId);
        }
        await p.exec();
      }
      await r.zremrangebyscore(allKey, '-inf', Date.now());
    },
    async online(userIds) {
      if (!userIds.length) return new Set();
      const now = Date.now();
      const p = r.pipeline();
      for (const id of userIds) p.zcount(userKey(id), `(${now}`, '+inf');
      const res = (await p.exec()) ?? [];
      return new Set(userIds.filter((_, i) => Number(res[i]?.[1] ?? 0) > 0));
    },
    async connectedSockets() {
      return r.zcount(allKey, `(${Date.now()}`, '+inf');
    },
  };
}

function memoryPresence(): PresenceStore {
  const byUser = new Map<string, Set<string>>();
  const all = new Set<string>();
  return {
    async add(socketId, userId) {
      all.add(socketId);
      if (!userId) return false;
      let set = byUser.get(userId);
      if (!set) byUser.set(userId, (set = new Set()));
      if (set.has(socketId)) return false;
      set.add(socketId);
      return set.size === 1;
    },
    async remove(socketId, userId) {
      all.delete(socketId);
      if (!userId) return false;
      const set = byUser.get(userId);
      if (!set?.delete(socketId)) return false;
      if (set.size) return false;
      byUser.delete(userId);
      return true;
    },
    async refresh() {},
    async online(userIds) {
      return new Set(userIds.filter((id) => byUser.has(id)));
    },
    async connectedSockets() {
      return all.size;
    },
  };
}

/** Sockets connected across every node (for dashboards). */
export function countConnectedSockets(app: { readonly presence: PresenceStore }): Promise<number> {
  return app.presence.connectedSockets();
}
