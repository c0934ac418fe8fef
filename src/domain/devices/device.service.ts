/**
 * The device registry: owners create, list, update and delete their devices; devices report their actual
 * state. Transport-independent (REST, sockets and the Smart Home fulfillment call these functions); every
 * function takes the owner's user id and only ever touches that owner's devices.
 */
import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database } from '../../db/database.ts';
import { isUniqueViolation } from '../../db/errors.ts';
import { ConflictError, NotFoundError } from '../../errors.ts';
import type { EventBus } from '../../infra/events.ts';
import * as repo from './device.repository.ts';
import type { DeviceUpdateInput, NewDeviceInput, StateReportInput } from './device.schemas.ts';
import type { Device } from './device.types.ts';

export interface DeviceServiceDeps {
  db: Kysely<Database>;
  events: EventBus;
  config: {
    /** A device not seen for this long counts as offline. */
    offlineAfterSeconds: number;
    /** Most devices one user may register. */
    maxPerUser: number;
  };
}

/** Seconds between two "seen" writes for a device that keeps polling. */
const SEEN_THROTTLE_SECONDS = 15;

export interface ReportStateOptions {
  /** Replace the whole state instead of merging the reported keys into it (default false). */
  replace?: boolean;
  /**
   * The report comes from the device itself (default true): it marks the device seen and online (or
   * offline when it says so). False for state the server sets on the device's behalf.
   */
  fromDevice?: boolean;
}

export function createDeviceService(deps: DeviceServiceDeps) {
  const { db, events } = deps;
  const offlineAfter = deps.config.offlineAfterSeconds;

  // Polls call markSeen on every request; within this node, an owner (or device) touched recently needs no
  // database round trip at all (the SQL is throttled too, but still costs one). Any change to the owner's
  // devices forgets the owner here, so a device reported offline is put back online by its next poll.
  const recentlySeen = new Map<string, Map<string, number>>();
  const SEEN_LOCAL_MS = (SEEN_THROTTLE_SECONDS * 1000) / 3;
  const MAX_SEEN_OWNERS = 100_000;
  const MAX_SEEN_PER_OWNER = 1_000;
  const forgetSeen = (ownerId: string) => void recentlySeen.delete(ownerId);

  async function mustGet(ownerId: string, id: string): Promise<Device> {
    const [d] = await repo.findDevices(db, ownerId, [id], offlineAfter);
    if (!d) throw new NotFoundError('Device', 'device_not_found');
    return d;
  }

  return {
    /**
     * Register a device for `ownerId`. Throws ConflictError `device_exists` when the owner already has a
     * device with that id, `device_limit_reached` past the per-user limit. Emits `device.changed`.
     */
    async create(ownerId: string, input: NewDeviceInput): Promise<Device> {
      forgetSeen(ownerId);
      if ((await repo.countDevices(db, ownerId)) >= deps.config.maxPerUser) {
        throw new ConflictError(`You can register at most ${deps.config.maxPerUser} devices`, 'device_limit_reached');
      }
      let device: Device;
      try {
        device = await repo.insertDevice(
          db,
          {
            owner_id: ownerId,
            id: input.id ?? randomUUID(),
            type: input.type,
            traits: input.traits,
            name: input.name,
            nicknames: input.nicknames ?? [],
            room: input.room || null,
            attributes: input.attributes ?? {},
            state: input.state ?? {},
            will_report_state: input.will_report_state ?? true,
          },
          offlineAfter,
        );
      } catch (err) {
        if (isUniqueViolation(err, 'devices_pkey')) {
          throw new ConflictError('You already have a device with this id', 'device_exists', { fields: [{ path: 'id', message: 'already in use' }] });
        }
        throw err;
      }
      await events.emit('device.changed', { ownerId, deviceId: device.id, change: 'created' });
      return device;
    },

    /** The owner's devices, oldest first. */
    async list(ownerId: string): Promise<Device[]> {
      return repo.listDevices(db, ownerId, offlineAfter);
    },

    /** One of the owner's devices. Throws NotFoundError `device_not_found` (also for another owner's). */
    get: mustGet,

    /** The owner's devices among `ids` (unknown ids are absent from the result). One query. */
    async getMany(ownerId: string, ids: readonly string[]): Promise<Device[]> {
      return repo.findDevices(db, ownerId, [...new Set(ids)], offlineAfter);
    },

    /** Change a device's description. Throws NotFoundError `device_not_found`. Emits `device.changed`. */
    async update(ownerId: string, id: string, patch: DeviceUpdateInput): Promise<Device> {
      forgetSeen(ownerId);
      const device = await repo.updateDevice(db, ownerId, id, { ...patch, ...(patch.room !== undefined ? { room: patch.room || null } : {}) }, offlineAfter);
      if (!device) throw new NotFoundError('Device', 'device_not_found');
      await events.emit('device.changed', { ownerId, deviceId: id, change: 'updated' });
      return device;
    },

    /** Delete a device and its messages. Throws NotFoundError `device_not_found`. Emits `device.changed`. */
    async remove(ownerId: string, id: string): Promise<void> {
      forgetSeen(ownerId);
      if (!(await repo.deleteDevice(db, ownerId, id))) throw new NotFoundError('Device', 'device_not_found');
      await events.emit('device.changed', { ownerId, deviceId: id, change: 'deleted' });
    },

    /**
     * A state report: the reported state becomes the device's state (merged key by key, or replacing it
     * with `replace`), and a report from the device marks it online (unless it reports `online: false`) and
     * seen now. Throws NotFoundError `device_not_found`. Emits `device.state.reported`.
     */
    async reportState(ownerId: string, id: string, report: StateReportInput, opts: ReportStateOptions = {}): Promise<Device> {
      forgetSeen(ownerId);
      const fromDevice = opts.fromDevice ?? true;
      const device = await repo.writeState(
        db,
        ownerId,
        id,
        report.state,
        { replace: opts.replace ?? false, seen: fromDevice, online: report.online ?? true },
        offlineAfter,
      );
      if (!device) throw new NotFoundError('Device', 'device_not_found');
      await events.emit('device.state.reported', {
        ownerId,
        deviceId: id,
        state: device.state,
        online: device.online,
        willReportState: device.willReportState,
        source: fromDevice ? 'device' : 'server',
      });
      return device;
    },

    /**
     * Note that the owner's devices (or one of them) are connected right now — a poll or an open socket —
     * which keeps them online. Unknown ids are ignored.
     */
    async markSeen(ownerId: string, deviceId?: string): Promise<void> {
      const key = deviceId ?? '';
      const now = Date.now();
      if ((recentlySeen.get(ownerId)?.get(key) ?? 0) > now) return;
      await repo.touchDevices(db, ownerId, deviceId, SEEN_THROTTLE_SECONDS);
      let mine = recentlySeen.get(ownerId);
      if (!mine) {
        if (recentlySeen.size >= MAX_SEEN_OWNERS) recentlySeen.clear();
        recentlySeen.set(ownerId, (mine = new Map()));
      }
      // Bounded per owner too: clearing only costs the next call one extra touch.
      if (mine.size >= MAX_SEEN_PER_OWNER) mine.clear();
      mine.set(key, now + SEEN_LOCAL_MS);
    },
  };
}

export type DeviceService = ReturnType<typeof createDeviceService>;
