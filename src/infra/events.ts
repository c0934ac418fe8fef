/**
 * In-process domain event bus. Domain services announce facts ("user.deactivated"); other subsystems
 * (sessions, realtime, OAuth) react. Handlers are awaited, so when `emit` resolves every reaction has run;
 * a failing handler is logged and does not stop the others. Cross-node effects are each subscriber's job
 * (e.g. Socket.IO's adapter broadcasts disconnects to every node).
 *
 * Features add their events by extending `AppEvents` (declaration merging).
 */
import type { JsonObject, WireDeviceMessage } from '../domain/devices/device.types.ts';
import type { Logger } from '../logger.ts';

export interface AppEvents {
  /** A user was deactivated: end their sessions, sockets and tokens. */
  'user.deactivated': { userId: string };
  /** Staff set a new password for a user: end their sessions. */
  'user.password_reset': { userId: string };
  /** A browser session ended (sign-out, expiry noticed, or revoked). */
  'session.ended': { sessionId: string; userId: string };
  /** A command message was stored for a device (deliver it live; pollers are woken separately). */
  'device.command.created': {
    ownerId: string;
    deviceId: string;
    /** The seed's wire shape, as polling answers it. */
    message: WireDeviceMessage;
    /** The full command parameters. */
    payload: JsonObject;
    /** ISO 8601; the message is no longer delivered after this. */
    expiresAt: string;
  };
  /** A device's state changed by a state report (`device`) or on its behalf (`server`). */
  'device.state.reported': {
    ownerId: string;
    deviceId: string;
    /** The whole new state. */
    state: JsonObject;
    online: boolean;
    willReportState: boolean;
    source: 'device' | 'server';
  };
  /** A device was registered, changed or deleted (the Smart Home side asks Google to sync). */
  'device.changed': { ownerId: string; deviceId: string; change: 'created' | 'updated' | 'deleted' };
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
