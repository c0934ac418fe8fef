/**
 * In-process domain event bus. Domain services announce facts ("user.deactivated"); other subsystems
 * (sessions, realtime, OAuth) react. Handlers are awaited, so when `emit` resolves every reaction has run;
 * a failing handler is logged and does not stop the others. Cross-node effects are each subscriber's job
 * (e.g. Socket.IO's adapter broadcasts disconnects to every node).
 *
 * Features add their events by extending `AppEvents` (declaration merging).
 */
import type { Logger } from '../logger.ts';

export interface AppEvents {
  /** A user was deactivated: end their sessions, sockets and tokens. */
  'user.deactivated': { userId: string };
  /** A browser session ended (sign-out, expiry noticed, or revoked). */
  'session.ended': { sessionId: string; userId: string };
  /** The access (and refresh) tokens of an OAuth grant were revoked: sockets opened with them end. */
  'token.revoked': { grantId: string; userId: string };
}

type Handler<T> = (payload: T) => unknown | Promise<unknown>;

export class EventBus {
  readonly #handlers = new Map<keyof AppEvents, Set<Handler<any>>>();
  readonly #logger: Logger;

  constructor(logger: Logger) {
    this.#logger = logger.child({ subsystem: 'events' });
  }

  /** Subscribe; returns the unsubscribe function. */
  on<K extends keyof AppEvents>(name: K, handler: Handler<AppEvents[K]>): () => void {
    let set = this.#handlers.get(name);
    if (!set) this.#handlers.set(name, (set = new Set()));
    set.add(handler);
    return () => void set.delete(handler);
  }

  /** Run every handler of `name`; resolves when all have settled. */
  async emit<K extends keyof AppEvents>(name: K, payload: AppEvents[K]): Promise<void> {
    const handlers = [...(this.#handlers.get(name) ?? [])];
    const results = await Promise.allSettled(handlers.map(async (h) => h(payload)));
    for (const r of results) {
      if (r.status === 'rejected') this.#logger.error({ err: r.reason, event: name }, 'event handler failed');
    }
  }
}
