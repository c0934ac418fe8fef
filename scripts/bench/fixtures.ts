/**
 * Fixtures the benchmark needs inside the system under test, made through the product's own domain
 * services (never raw SQL), so what is measured is what the API would have created. Each handler is
 * bounded in count.
 */
import type { RunningServer } from '../../src/server.ts';

const MAX_USERS = 50_000;

/** RPC handlers bound to a running server. */
export function fixtureHandlers(server: RunningServer) {
  const { services } = server.app;
  return {
    /** Create `count` users without passwords (no hashing cost); returns their ids. */
    async createUsers(p: { count: number; tag: string }): Promise<string[]> {
      const n = Math.min(Math.max(0, p.count), MAX_USERS);
      const ids: string[] = [];
      for (let i = 0; i < n; i++) {
        const u = await services.users.create({ email: `bench-${p.tag}-${i}@bench.invalid`, password: null, first_name: 'Bench', last_name: `User${i}` });
        ids.push(String(u.id));
      }
      return ids;
    },
    /** Which product features this build has (scenarios needing a missing one are reported as skipped). */
    features(): Record<string, boolean> {
      const s = services as unknown as Record<string, unknown>;
      return {
        messaging: 'messages' in s || 'conversations' in s,
        realtime: 'realtime' in s || 'io' in (server.app as unknown as Record<string, unknown>),
        devices: 'devices' in s,
        smarthome: 'smarthome' in s,
        oauth: 'oauth' in s,
      };
    },
  };
}
