/**
 * Command messages for devices: creation (EXECUTE or the owner), polling with acknowledgement and
 * long-poll, expiry and cleanup. Transport-independent: HTTP polling and sockets call the same `ack` and
 * `fetchUnread`, so they share one acknowledgement state. Every function is scoped to one owner.
 */
import type { Kysely } from 'kysely';
import type { Database } from '../../db/database.ts';
import { NotFoundError, ValidationError, zodIssuesToFields } from '../../errors.ts';
import type { EventBus } from '../../infra/events.ts';
import type { PubSub } from '../../infra/pubsub.ts';
import type { Logger } from '../../logger.ts';
import * as repo from './device.repository.ts';
import { DEFAULT_POLL_LIMIT, MAX_POLL_LIMIT, newCommandSchema, type NewCommandInput, type PollOptions } from './device.schemas.ts';
import type { DeviceService } from './device.service.ts';
import { toWireMessage, type DeviceMessage, type JsonObject } from './device.types.ts';

export interface DeviceMessageServiceDeps {
  db: Kysely<Database>;
  events: EventBus;
  pubsub: PubSub;
  devices: DeviceService;
  logger: Logger;
  config: {
    /** Unacknowledged commands expire after this many seconds. */
    commandTtlSeconds: number;
    /** Read and expired messages are deleted this many seconds later. */
    retentionSeconds: number;
    /** Longest long-poll wait. */
    pollMaxWaitSeconds: number;
  };
}

/** One command for one device. */
export interface CommandForDevice extends NewCommandInput {
  deviceId: string;
  /** Expiry for this command (default: the configured TTL). */
  ttlSeconds?: number;
}

const CLEANUP_BATCH = 5000;

/** The pub/sub channel on which an owner's pollers wait. */
export function ownerChannel(ownerId: string): string {
  return `devices:owner:${ownerId}`;
}

/**
 * The seed's text for a command: `on`/`off` for OnOff, the brightness for BrightnessAbsolute, empty
 * otherwise (the full parameters travel in the payload).
 */
export function commandText(command: string, params: JsonObject): string {
  if (command === 'action.devices.commands.OnOff' && typeof params.on === 'boolean') return params.on ? 'on' : 'off';
  if (command === 'action.devices.commands.BrightnessAbsolute' && typeof params.brightness === 'number') return String(params.brightness);
  return '';
}

export function createDeviceMessageService(deps: DeviceMessageServiceDeps) {
  const { db, events, pubsub, devices } = deps;
  const log = deps.logger.child({ subsystem: 'devices' });
  // Aborted at shutdown so held polls answer at once instead of keeping the HTTP server open.
  const closing = new AbortController();

  async function fetchUnread(ownerId: string, opts: { deviceId?: string; limit?: number } = {}): Promise<DeviceMessage[]> {
    const limit = Math.min(Math.max(1, Math.floor(opts.limit ?? DEFAULT_POLL_LIMIT)), MAX_POLL_LIMIT);
    return repo.findUnread(db, ownerId, { ...(opts.deviceId !== undefined ? { deviceId: opts.deviceId } : {}), limit });
  }

  async function ack(ownerId: string, ids: readonly string[]): Promise<string[]> {
    return repo.markRead(db, ownerId, [...new Set(ids)]);
  }

  /** Resolve after a wake-up, the deadline or an abort, whichever comes first. */
  function sleep(ms: number, signal: AbortSignal, register: (wake: () => void) => void): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal.addEventListener('abort', done, { once: true });
      register(done);
    });
  }

  async function createCommands(ownerId: string, commands: readonly CommandForDevice[]): Promise<DeviceMessage[]> {
    if (commands.length === 0) return [];
    const parsed = commands.map((c, i) => {
      const r = newCommandSchema.safeParse({ command: c.command, params: c.params ?? {} });
      if (!r.success) throw new ValidationError('Invalid command', zodIssuesToFields(r.error.issues).map((f) => ({ ...f, path: `${i}.${f.path}` })));
      return { ...r.data, deviceId: c.deviceId, ttlSeconds: c.ttlSeconds ?? deps.config.commandTtlSeconds };
    });
    const ids = [...new Set(parsed.map((c) => c.deviceId))];
    const found = await devices.getMany(ownerId, ids);
    if (found.length !== ids.length) throw new NotFoundError('Device', 'device_not_found');
    const messages = await repo.insertMessages(
      db,
      parsed.map((c) => ({
        owner_id: ownerId,
        device_id: c.deviceId,
        topic: `${c.deviceId}/${c.command}`,
        text: commandText(c.command, c.params),
        payload: c.params,
        ttlSeconds: Math.max(1, Math.floor(c.ttlSeconds)),
      })),
    );
    for (const m of messages) {
      await events.emit('device.command.created', {
        ownerId,
        deviceId: m.deviceId,
        message: toWireMessage(m),
        payload: m.payload,
        expiresAt: m.expiresAt.toISOString(),
      });
    }
    await pubsub.publish(ownerChannel(ownerId), { deviceIds: ids }).catch((err: Error) => log.warn({ err: { message: err.message } }, 'poll wake-up publish failed'));
    return messages;
  }

  return {
    /**
     * Create command messages for the owner's devices, in order, in one statement; then announce each
     * (`device.command.created`) and wake the owner's pollers on every node. Throws NotFoundError
     * `device_not_found` when any device is not the owner's (nothing is created then), ValidationError for a
     * malformed command.
     */
    createCommands,

    /** Create one command message (see `createCommands`). */
    async createCommand(ownerId: string, deviceId: string, command: NewCommandInput, opts: { ttlSeconds?: number } = {}): Promise<DeviceMessage> {
      const [m] = await createCommands(ownerId, [{ ...command, deviceId, ...opts }]);
      return m!;
    },

    /**
     * Acknowledge: mark the owner's unread messages among `ids` read. Ids of other owners' messages and
     * unknown ids are ignored. Returns the ids that were marked now. Shared by polling and sockets.
     */
    ack,

    /** The owner's unread, unexpired messages, oldest first (limit default 100, at most 500). */
    fetchUnread,

    /**
     * One poll: acknowledge `messagesRead`, then answer the owner's unread messages. With `wait` and
     * nothing to answer, hold until a message arrives for the owner (on any node), the wait (capped by
     * config) ends, or `signal` aborts. Polling keeps the owner's devices (or the `deviceId` one) online.
     * Throws NotFoundError `device_not_found` for a `deviceId` the owner does not have.
     */
    async poll(ownerId: string, opts: PollOptions = {}): Promise<DeviceMessage[]> {
      // A device polling under an id its owner does not have (a typo, or deleted) would wait forever.
      if (opts.deviceId !== undefined && (await devices.getMany(ownerId, [opts.deviceId])).length === 0) {
        throw new NotFoundError('Device', 'device_not_found');
      }
      if (opts.messagesRead?.length) await ack(ownerId, opts.messagesRead);
      await devices.markSeen(ownerId, opts.deviceId);
      const query = { ...(opts.deviceId !== undefined ? { deviceId: opts.deviceId } : {}), ...(opts.limit !== undefined ? { limit: opts.limit } : {}) };
      let messages = await fetchUnread(ownerId, query);
      const waitMs = Math.min(Math.max(0, opts.wait ?? 0), deps.config.pollMaxWaitSeconds) * 1000;
      const signal = opts.signal ? AbortSignal.any([opts.signal, closing.signal]) : closing.signal;
      if (messages.length > 0 || waitMs <= 0 || signal.aborted) return messages;

      const deadline = Date.now() + waitMs;
      let woken = false;
      let wake: (() => void) | null = null;
      const unsubscribe = await pubsub.subscribe(ownerChannel(ownerId), (payload) => {
        const ids = (payload as { deviceIds?: unknown } | null)?.deviceIds;
        if (opts.deviceId !== undefined && Array.isArray(ids) && !ids.includes(opts.deviceId)) return;
        woken = true;
        wake?.();
      });
      try {
        for (;;) {
          woken = false;
          // Checked again after subscribing: a message created in between is not missed.
          messages = await fetchUnread(ownerId, query);
          const left = deadline - Date.now();
          if (messages.length > 0 || left <= 0 || signal.aborted) break;
          if (!woken) await sleep(left, signal, (w) => (wake = w));
          wake = null;
        }
      } finally {
        unsubscribe();
      }
      await devices.markSeen(ownerId, opts.deviceId);
      return messages;
    },

    /**
     * Delete messages read, or expired, longer ago than the retention period, in batches. Returns how many
     * were deleted. Safe to run on several nodes at once.
     */
    /** End every held poll now (they answer what they have). Called at shutdown. */
    close(): void {
      closing.abort();
    },

    async cleanup(): Promise<number> {
      let total = 0;
      for (;;) {
        const n = await repo.deleteStaleMessages(db, deps.config.retentionSeconds, CLEANUP_BATCH);
        total += n;
        if (n < CLEANUP_BATCH) return total;
      }
    },
  };
}

export type DeviceMessageService = ReturnType<typeof createDeviceMessageService>;
