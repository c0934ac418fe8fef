/** Kysely access to devices and device_messages. Only this file speaks SQL about them. */
import { sql, type Expression, type SqlBool } from 'kysely';
import type { Db, DeviceRow } from '../../db/database.ts';
import type { Device, DeviceMessage, JsonObject } from './device.types.ts';

/** A device row plus the computed `online_now`. */
type DeviceRowWithOnline = DeviceRow & { online_now: boolean };

/** Online = reported online and seen within `offlineAfterSeconds`. */
function onlineNow(offlineAfterSeconds: number) {
  return sql<boolean>`(devices.online and devices.last_seen_at is not null and devices.last_seen_at > now() - make_interval(secs => ${offlineAfterSeconds}))`;
}

export function rowToDevice(r: DeviceRowWithOnline): Device {
  return {
    ownerId: r.owner_id,
    id: r.id,
    type: r.type,
    traits: r.traits,
    name: r.name,
    nicknames: r.nicknames,
    room: r.room,
    attributes: r.attributes,
    state: r.state,
    online: r.online_now,
    lastSeenAt: r.last_seen_at,
    willReportState: r.will_report_state,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

export interface NewDeviceRow {
  owner_id: string;
  id: string;
  type: string;
  traits: string[];
  name: string;
  nicknames: string[];
  room: string | null;
  attributes: JsonObject;
  state: JsonObject;
  will_report_state: boolean;
}

export interface DeviceRowPatch {
  type?: string;
  traits?: string[];
  name?: string;
  nicknames?: string[];
  room?: string | null;
  attributes?: JsonObject;
  will_report_state?: boolean;
}

const json = (v: unknown) => JSON.stringify(v);

export async function insertDevice(db: Db, row: NewDeviceRow, offlineAfter: number): Promise<Device> {
  const r = await db
    .insertInto('devices')
    .values({ ...row, traits: json(row.traits), nicknames: json(row.nicknames), attributes: json(row.attributes), state: json(row.state) })
    .returningAll()
    .returning(onlineNow(offlineAfter).as('online_now'))
    .executeTakeFirstOrThrow();
  return rowToDevice(r);
}

export async function countDevices(db: Db, ownerId: string): Promise<number> {
  const r = await db.selectFrom('devices').select((eb) => eb.fn.countAll<number>().as('n')).where('owner_id', '=', ownerId).executeTakeFirstOrThrow();
  return Number(r.n);
}

export async function listDevices(db: Db, ownerId: string, offlineAfter: number): Promise<Device[]> {
  const rows = await db
    .selectFrom('devices')
    .selectAll()
    .select(onlineNow(offlineAfter).as('online_now'))
    .where('owner_id', '=', ownerId)
    .orderBy('created_at')
    .orderBy('id')
    .execute();
  return rows.map(rowToDevice);
}

export async function findDevices(db: Db, ownerId: string, ids: readonly string[], offlineAfter: number): Promise<Device[]> {
  if (ids.length === 0) return [];
  const rows = await db
    .selectFrom('devices')
    .selectAll()
    .select(onlineNow(offlineAfter).as('online_now'))
    .where('owner_id', '=', ownerId)
    .where('id', 'in', ids)
    .execute();
  return rows.map(rowToDevice);
}

export async function updateDevice(db: Db, ownerId: string, id: string, patch: DeviceRowPatch, offlineAfter: number): Promise<Device | undefined> {
  const set: Record<string, unknown> = { updated_at: sql`now()` };
  if (patch.type !== undefined) set.type = patch.type;
  if (patch.traits !== undefined) set.traits = json(patch.traits);
  if (patch.name !== undefined) set.name = patch.name;
  if (patch.nicknames !== undefined) set.nicknames = json(patch.nicknames);
  if (patch.room !== undefined) set.room = patch.room;
  if (patch.attributes !== undefined) set.attributes = json(patch.attributes);
  if (patch.will_report_state !== undefined) set.will_report_state = patch.will_report_state;
  const r = await db
    .updateTable('devices')
    .set(set)
    .where('owner_id', '=', ownerId)
    .where('id', '=', id)
    .returningAll()
    .returning(onlineNow(offlineAfter).as('online_now'))
    .executeTakeFirst();
  return r ? rowToDevice(r) : undefined;
}

export async function deleteDevice(db: Db, ownerId: string, id: string): Promise<boolean> {
  const r = await db.deleteFrom('devices').where('owner_id', '=', ownerId).where('id', '=', id).executeTakeFirst();
  return Number(r.numDeletedRows) > 0;
}

/**
 * Store a state report: replace or shallow-merge the state; when `seen`, mark the device seen now with the
 * reported online flag.
 */
export async function writeState(
  db: Db,
  ownerId: string,
  id: string,
  state: JsonObject,
  opts: { replace: boolean; seen: boolean; online: boolean },
  offlineAfter: number,
): Promise<Device | undefined> {
  const value = json(state);
  const r = await db
    .updateTable('devices')
    .set({
      state: opts.replace ? sql`${value}::jsonb` : sql`devices.state || ${value}::jsonb`,
      ...(opts.seen ? { online: opts.online, last_seen_at: sql`now()` } : {}),
    })
    .where('owner_id', '=', ownerId)
    .where('id', '=', id)
    .returningAll()
    .returning(onlineNow(offlineAfter).as('online_now'))
    .executeTakeFirst();
  return r ? rowToDevice(r) : undefined;
}

/**
 * Mark the owner's devices (or one of them) online and seen now. Rows seen less than `throttleSeconds` ago
 * are left alone, so a busy poller does not rewrite them on every request.
 */
export async function touchDevices(db: Db, ownerId: string, deviceId: string | undefined, throttleSeconds: number): Promise<void> {
  let q = db
    .updateTable('devices')
    .set({ online: true, last_seen_at: sql`now()` })
    .where('owner_id', '=', ownerId)
    .where((eb) =>
      eb.or([
        eb('online', '=', false),
        eb('last_seen_at', 'is', null),
        eb('last_seen_at', '<', sql<Date>`now() - make_interval(secs => ${throttleSeconds})`),
      ]),
    );
  if (deviceId !== undefined) q = q.where('id', '=', deviceId);
  await q.execute();
}

// ---- command messages ----

const MESSAGE_COLUMNS = [
  'device_messages.id',
  'device_messages.owner_id',
  'device_messages.device_id',
  'device_messages.topic',
  'device_messages.text',
  'device_messages.payload',
  'device_messages.created_at',
  'device_messages.read_at',
  'device_messages.expires_at',
] as const;

/** created_at as Python's isoformat() of an aware UTC datetime prints it (the seed's wire format). */
const TIMESTAMP_TEXT = sql<string>`to_char(device_messages.created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"+00:00"')`;

interface MessageRow {
  id: string;
  owner_id: string;
  device_id: string;
  topic: string;
  text: string;
  payload: JsonObject;
  created_at: Date;
  read_at: Date | null;
  expires_at: Date;
  timestamp_text: string;
}

function rowToMessage(r: MessageRow): DeviceMessage {
  return {
    id: r.id,
    ownerId: r.owner_id,
    deviceId: r.device_id,
    topic: r.topic,
    text: r.text,
    payload: r.payload,
    createdAt: r.created_at,
    // isoformat() leaves out a zero fraction.
    timestamp: r.timestamp_text.replace('.000000+', '+'),
    readAt: r.read_at,
    expiresAt: r.expires_at,
  };
}

export interface NewMessageRow {
  owner_id: string;
  device_id: string;
  topic: string;
  text: string;
  payload: JsonObject;
  ttlSeconds: number;
}

/** Insert messages (in the given order) and return them. */
export async function insertMessages(db: Db, rows: readonly NewMessageRow[]): Promise<DeviceMessage[]> {
  if (rows.length === 0) return [];
  const inserted = await db
    .insertInto('device_messages')
    .values(
      rows.map((r) => ({
        owner_id: r.owner_id,
        device_id: r.device_id,
        topic: r.topic,
        text: r.text,
        payload: json(r.payload),
        expires_at: sql<Date>`now() + make_interval(secs => ${r.ttlSeconds})`,
      })),
    )
    .returning([...MESSAGE_COLUMNS, 'device_messages.seq', TIMESTAMP_TEXT.as('timestamp_text')])
    .execute();
  return inserted.sort((a, b) => a.seq - b.seq).map(rowToMessage);
}

/** Mark the owner's unread messages among `ids` read. Returns the ids that changed. */
export async function markRead(db: Db, ownerId: string, ids: readonly string[]): Promise<string[]> {
  if (ids.length === 0) return [];
  const rows = await db
    .updateTable('device_messages')
    .set({ read_at: sql`now()` })
    .where('owner_id', '=', ownerId)
    .where('id', 'in', ids)
    .where('read_at', 'is', null)
    .returning('id')
    .execute();
  return rows.map((r) => r.id);
}

/** The owner's unread, unexpired messages, oldest first. */
export async function findUnread(db: Db, ownerId: string, opts: { deviceId?: string; limit: number }): Promise<DeviceMessage[]> {
  let q = db
    .selectFrom('device_messages')
    .select([...MESSAGE_COLUMNS, TIMESTAMP_TEXT.as('timestamp_text')])
    .where('owner_id', '=', ownerId)
    .where('read_at', 'is', null)
    .where('expires_at', '>', sql<Date>`now()`);
  if (opts.deviceId !== undefined) q = q.where('device_id', '=', opts.deviceId);
  const rows = await q.orderBy('seq').limit(opts.limit).execute();
  return rows.map(rowToMessage);
}

/**
 * Delete up to `batch` messages read, or expired, more than `retentionSeconds` ago. Returns how many went.
 */
export async function deleteStaleMessages(db: Db, retentionSeconds: number, batch: number): Promise<number> {
  const cutoff = sql<Date>`now() - make_interval(secs => ${retentionSeconds})`;
  const r = await db
    .deleteFrom('device_messages')
    .where('id', 'in', (eb) =>
      eb
        .selectFrom('device_messages')
        .select('id')
        .where((w) => w.or([w('read_at', '<', cutoff), w('expires_at', '<', cutoff)]) as Expression<SqlBool>)
        .limit(batch),
    )
    .executeTakeFirst();
  return Number(r.numDeletedRows);
}
