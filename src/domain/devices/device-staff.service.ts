/**
 * What staff do with devices and command messages across every owner: search, counts, re-queue ("mark
 * selected as unread", as in the seed's admin) and deletion. Creating, editing and deleting a device goes
 * through the owner-scoped device service (same rules, same events) with the owner's id.
 */
import type { Kysely } from 'kysely';
import { z } from 'zod';
import type { Database } from '../../db/database.ts';
import type { EventBus } from '../../infra/events.ts';
import type { PubSub } from '../../infra/pubsub.ts';
import { ownerChannel } from './device-message.service.ts';
import * as repo from './device-staff.repository.ts';

/** Rows per page in staff lists. */
export const STAFF_PAGE_SIZE = 50;
/** Most messages one bulk action may touch. */
export const MAX_BULK = 500;

const yesNo = z.enum(['', 'yes', 'no']).catch('');

export const staffDeviceListSchema = z.object({
  q: z.string().trim().max(200).default(''),
  owner: z.uuid().or(z.literal('')).catch('').default(''),
  type: z.string().trim().max(100).default(''),
  online: yesNo.default(''),
  sort: z.enum(['name', '-name', 'created', '-created', 'last_seen', '-last_seen']).catch('-created').default('-created'),
  page: z.coerce.number().int().min(1).max(200).catch(1).default(1),
});
export type StaffDeviceListInput = z.infer<typeof staffDeviceListSchema>;

export const staffMessageListSchema = z.object({
  q: z.string().trim().max(200).default(''),
  owner: z.uuid().or(z.literal('')).catch('').default(''),
  device: z.string().trim().max(100).default(''),
  topic: z.string().trim().max(300).default(''),
  status: z.enum(['', 'unread', 'read', 'expired', 'pending']).catch('').default(''),
  sort: z.enum(['created', '-created', 'topic', '-topic']).catch('-created').default('-created'),
  page: z.coerce.number().int().min(1).max(200).catch(1).default(1),
});
export type StaffMessageListInput = z.infer<typeof staffMessageListSchema>;

/** Ids picked in a bulk form. */
export const bulkIdsSchema = z.array(z.uuid({ message: 'must be a message id' })).min(1, 'select at least one message').max(MAX_BULK);

export interface DeviceStaffServiceDeps {
  db: Kysely<Database>;
  events: EventBus;
  pubsub: PubSub;
  config: { offlineAfterSeconds: number; commandTtlSeconds: number };
}

export function createDeviceStaffService(deps: DeviceStaffServiceDeps) {
  const { db } = deps;
  const offlineAfter = deps.config.offlineAfterSeconds;
  return {
    /** One page of devices of every owner (with the owner's email). */
    async searchDevices(input: StaffDeviceListInput): Promise<{ devices: repo.StaffDeviceRow[]; hasMore: boolean }> {
      const rows = await repo.searchDevices(db, {
        q: input.q,
        ownerId: input.owner || null,
        type: input.type,
        online: input.online === 'yes' ? true : input.online === 'no' ? false : null,
        sort: input.sort.replace('-', '') as 'name' | 'created' | 'last_seen',
        desc: input.sort.startsWith('-'),
        limit: STAFF_PAGE_SIZE + 1,
        offset: (input.page - 1) * STAFF_PAGE_SIZE,
        offlineAfter,
      });
      return { devices: rows.slice(0, STAFF_PAGE_SIZE), hasMore: rows.length > STAFF_PAGE_SIZE };
    },

    /** Devices in total and online now. */
    deviceCounts(): Promise<{ total: number; online: number }> {
      return repo.deviceCounts(db, offlineAfter);
    },

    /** One page of command messages of every owner. */
    async searchMessages(input: StaffMessageListInput): Promise<{ messages: repo.StaffMessageRow[]; hasMore: boolean }> {
      const rows = await repo.searchMessages(db, {
        q: input.q,
        ownerId: input.owner || null,
        deviceId: input.device,
        topic: input.topic,
        status: input.status,
        sort: input.sort.replace('-', '') as 'created' | 'topic',
        desc: input.sort.startsWith('-'),
        limit: STAFF_PAGE_SIZE + 1,
        offset: (input.page - 1) * STAFF_PAGE_SIZE,
      });
      return { messages: rows.slice(0, STAFF_PAGE_SIZE), hasMore: rows.length > STAFF_PAGE_SIZE };
    },

    /** Unread, unexpired command messages. */
    countPending(): Promise<number> {
      return repo.countPending(db);
    },

    /**
     * Re-queue messages: unread again, and expired ones live for another command TTL. Every owner's
     * pollers (on every node) are woken and `device.command.requeued` is announced. Returns the ids that
     * exist.
     */
    async requeue(ids: readonly string[]): Promise<string[]> {
      const rows = await repo.requeue(db, [...new Set(ids)], deps.config.commandTtlSeconds);
      const byOwner = new Map<string, Set<string>>();
      for (const r of rows) (byOwner.get(r.owner_id) ?? byOwner.set(r.owner_id, new Set()).get(r.owner_id)!).add(r.device_id);
      for (const [ownerId, devices] of byOwner) {
        await deps.events.emit('device.command.requeued', { ownerId, deviceIds: [...devices], messageIds: rows.filter((r) => r.owner_id === ownerId).map((r) => r.id) });
        await deps.pubsub.publish(ownerChannel(ownerId), { deviceIds: [...devices] }).catch(() => {});
      }
      return rows.map((r) => r.id);
    },

    /** Delete messages; returns the ids that existed. */
    deleteMessages(ids: readonly string[]): Promise<string[]> {
      return repo.deleteMessages(db, [...new Set(ids)]);
    },
  };
}

export type DeviceStaffService = ReturnType<typeof createDeviceStaffService>;

declare module '../../infra/events.ts' {
  interface AppEvents {
    /** Staff put command messages back in the queue (unread again). */
    'device.command.requeued': { ownerId: string; deviceIds: string[]; messageIds: string[] };
  }
}
