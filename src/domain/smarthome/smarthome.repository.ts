/** SQL for the smart-home side tables: per-device Google settings and account links. */
import { sql } from 'kysely';
import type { Db } from '../../db/database.ts';
import type { DeviceSecurity } from './challenge.ts';

export interface DeviceSettingsRow extends DeviceSecurity {
  deviceId: string;
  defaultNames: string[];
  deviceInfo: Record<string, string> | null;
}

/** Settings of some of an owner's devices (one query; devices without a row are absent). */
export async function findSettings(db: Db, ownerId: string, deviceIds?: readonly string[]): Promise<DeviceSettingsRow[]> {
  if (deviceIds && deviceIds.length === 0) return [];
  let q = db.selectFrom('smarthome_devices').selectAll().where('owner_id', '=', ownerId);
  if (deviceIds) q = q.where('device_id', 'in', [...deviceIds]);
  const rows = await q.execute();
  return rows.map((r) => ({
    deviceId: r.device_id,
    mode: r.challenge,
    pinHash: r.pin_hash,
    failedAttempts: r.failed_attempts,
    lockedUntil: r.locked_until,
    defaultNames: r.default_names,
    deviceInfo: r.device_info,
  }));
}

export interface SettingsWrite {
  challenge?: 'auto' | 'ack' | 'pin';
  /** A new hash, or null to remove the PIN; undefined keeps it. */
  pinHash?: string | null;
  defaultNames?: string[];
  deviceInfo?: Record<string, string> | null;
}

/** Insert or update a device's settings. Changing the PIN clears failed attempts and any lockout. */
export async function upsertSettings(db: Db, ownerId: string, deviceId: string, w: SettingsWrite): Promise<void> {
  const values = {
    owner_id: ownerId,
    device_id: deviceId,
    ...(w.challenge !== undefined ? { challenge: w.challenge } : {}),
    ...(w.pinHash !== undefined ? { pin_hash: w.pinHash, failed_attempts: 0, locked_until: null } : {}),
    ...(w.defaultNames !== undefined ? { default_names: JSON.stringify(w.defaultNames) } : {}),
    ...(w.deviceInfo !== undefined ? { device_info: w.deviceInfo === null ? null : JSON.stringify(w.deviceInfo) } : {}),
  };
  const { owner_id: _o, device_id: _d, ...update } = values;
  await db
    .insertInto('smarthome_devices')
    .values(values)
    .onConflict((oc) => oc.columns(['owner_id', 'device_id']).doUpdateSet({ ...update, updated_at: sql`now()` }))
    .execute();
}

/**
 * Count a wrong PIN. Atomic: concurrent wrong answers each count. Reaching `maxAttempts` locks the device
 * until `lockUntil` and restarts the count.
 */
export async function recordPinFailure(db: Db, ownerId: string, deviceId: string, maxAttempts: number, lockUntil: Date): Promise<{ locked: boolean }> {
  const row = await db
    .updateTable('smarthome_devices')
    .set({
      failed_attempts: sql`case when failed_attempts + 1 >= ${maxAttempts} then 0 else failed_attempts + 1 end`,
      locked_until: sql`case when failed_attempts + 1 >= ${maxAttempts} then ${lockUntil}::timestamptz else locked_until end`,
    })
    .where('owner_id', '=', ownerId)
    .where('device_id', '=', deviceId)
    .returning(['failed_attempts'])
    .executeTakeFirst();
  // The count only returns to 0 through this statement when it just locked the device.
  return { locked: !!row && row.failed_attempts === 0 };
}

export async function resetPinFailures(db: Db, ownerId: string, deviceId: string): Promise<void> {
  await db.updateTable('smarthome_devices').set({ failed_attempts: 0, locked_until: null }).where('owner_id', '=', ownerId).where('device_id', '=', deviceId).execute();
}

/** A grant reached SYNC: the link is live, and Home Graph knows the user again. */
export async function markLinked(db: Db, userId: string, grantId: string): Promise<void> {
  await db
    .insertInto('smarthome_links')
    .values({ grant_id: grantId, user_id: userId })
    .onConflict((oc) => oc.column('grant_id').doUpdateSet({ unlinked_at: null, linked_at: sql`now()` }))
    .execute();
  await db.updateTable('smarthome_links').set({ homegraph_missing_at: null }).where('user_id', '=', userId).where('homegraph_missing_at', 'is not', null).execute();
}

export async function markUnlinked(db: Db, grantId: string): Promise<void> {
  await db.updateTable('smarthome_links').set({ unlinked_at: sql`now()` }).where('grant_id', '=', grantId).where('unlinked_at', 'is', null).execute();
}

/** Home Graph answered 404 for the user: stop reporting until the next SYNC. */
export async function markHomeGraphMissing(db: Db, userId: string): Promise<void> {
  await db.updateTable('smarthome_links').set({ homegraph_missing_at: sql`now()` }).where('user_id', '=', userId).where('homegraph_missing_at', 'is', null).execute();
}

/** True when the user has a live link Home Graph has not disowned. */
export async function hasActiveLink(db: Db, userId: string): Promise<boolean> {
  const row = await db
    .selectFrom('smarthome_links')
    .select(sql<number>`1`.as('one'))
    .where('user_id', '=', userId)
    .where('unlinked_at', 'is', null)
    .where('homegraph_missing_at', 'is', null)
    .limit(1)
    .executeTakeFirst();
  return !!row;
}
