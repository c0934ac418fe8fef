/**
 * Server-side session storage for koa-session: Redis when configured (shared by every node), memory
 * otherwise. The store also keeps an index of session ids per user so that every session of a user can be
 * ended at once (deactivation, password reset).
 */
import type { Redis } from 'ioredis';

export interface SessionData {
  userId?: string;
  /** Epoch ms of sign-in, for the absolute lifetime. */
  authAt?: number;
  /** Synchroniser token for HTML forms. */
  csrf?: string;
  /** How the user signed in: 'password' | 'sso'. */
  method?: string;
  [key: string]: unknown;
}

export interface SessionStore {
  get(key: string): Promise<SessionData | undefined>;
  set(key: string, sess: SessionData, maxAge: number | 'session' | undefined): Promise<void>;
  destroy(key: string): Promise<void>;
  /** Delete every session of a user; returns the ids that were removed. */
  destroyUserSessions(userId: string): Promise<string[]>;
  close(): Promise<void>;
}

const FALLBACK_TTL_MS = 24 * 3600_000;

function ttlOf(maxAge: number | 'session' | undefined): number {
  return typeof maxAge === 'number' && maxAge > 0 ? maxAge : FALLBACK_TTL_MS;
}

export function createRedisSessionStore(redis: Redis, prefix: string): SessionStore {
  const key = (id: string) => `${prefix}sess:${id}`;
  const userKey = (uid: string) => `${prefix}user-sess:${uid}`;
  return {
    async get(id) {
      const v = await redis.get(key(id));
      return v ? (JSON.parse(v) as SessionData) : undefined;
    },
    async set(id, sess, maxAge) {
      const ttl = ttlOf(maxAge);
      // The whole value is written every time: koa-session keeps its expiry inside the value.
      const m = redis.multi().set(key(id), JSON.stringify(sess), 'PX', ttl);
      if (sess.userId) m.sadd(userKey(sess.userId), id).pexpire(userKey(sess.userId), Math.max(ttl, 7 * 24 * 3600_000));
      await m.exec();
    },
    async destroy(id) {
      // Also drop the id from its user's index, so the index holds live sessions only.
      const v = await redis.get(key(id));
      const uid = v ? (JSON.parse(v) as SessionData).userId : undefined;
      const m = redis.multi().del(key(id));
      if (uid) m.srem(userKey(uid), id);
      await m.exec();
    },
    async destroyUserSessions(uid) {
      const ids = await redis.smembers(userKey(uid));
      if (ids.length) await redis.del(...ids.map(key), userKey(uid));
      return ids;
    },
    async close() {},
  };
}

export function createMemorySessionStore(): SessionStore {
  const sessions = new Map<string, { value: string; expires: number }>();
  const byUser = new Map<string, Set<string>>();
  const remove = (id: string) => {
    const v = sessions.get(id);
    if (!v) return;
    sessions.delete(id);
    const uid = (JSON.parse(v.value) as SessionData).userId;
    const set = uid ? byUser.get(uid) : undefined;
    if (set) {
      set.delete(id);
      if (set.size === 0) byUser.delete(uid!);
    }
  };
  const sweep = setInterval(() => {
    const now = Date.now();
    for (const [k, v] of sessions) if (v.expires < now) remove(k);
  }, 60_000);
  sweep.unref();
  return {
    async get(id) {
      const v = sessions.get(id);
      if (!v) return undefined;
      if (v.expires < Date.now()) {
        remove(id);
        return undefined;
      }
      return JSON.parse(v.value) as SessionData;
    },
    async set(id, sess, maxAge) {
      sessions.set(id, { value: JSON.stringify(sess), expires: Date.now() + ttlOf(maxAge) });
      if (sess.userId) {
        let set = byUser.get(sess.userId);
        if (!set) byUser.set(sess.userId, (set = new Set()));
        set.add(id);
      }
    },
    async destroy(id) {
      remove(id);
    },
    async destroyUserSessions(uid) {
      const ids = [...(byUser.get(uid) ?? [])];
      for (const id of ids) sessions.delete(id);
      byUser.delete(uid);
      return ids;
    },
    async close() {
      clearInterval(sweep);
    },
  };
}
