/**
 * Staff-wide queries over devices and command messages (every owner at once): search, counts, re-queue
 * and deletion. Owner-scoped rules stay in device.repository.ts / the owner services; only this file and
 * that one speak SQL about devices.
 */
import { sql, type Expression, type SqlBool } from 'kysely';
import type { Db } from '../../db/database.ts';

function likePattern(s: string): string {
  return `%${s.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

const onlineNow = (offlineAfterSeconds: number) =>
  sql<boolean>`(devices.online and devices.last_seen_at is not null and devices.last_seen_at > now() - make_interval(secs => ${offlineAfterSeconds}))`;

export interface StaffDeviceRow {
  owner_id: string;
  owner_email: string;
  id: string;
  type: string;
  name: string;
  room: string | null;
  online_now: boolean;
  last_seen_at: Date | null;
  created_at: Date;
}

export interface StaffDeviceQuery {
  q: string;
  ownerId: string | null;
  type: string;
  online: boolean | null;
  sort: 'name' | 'created' | 'last_seen';
  desc: boolean;
  limit: number;
  offset: number;
  offlineAfter: number;
}

/** Devices of every owner, with the owner's email; free text matches device id, name, room and owner email. */
export async function searchDevices(db: Db, q: StaffDeviceQuery): Promise<StaffDeviceRow[]> {
  let query = db
    .selectFrom('devices')
    .innerJoin('users', 'users.id', 'devices.owner_id')
    .select([
      'devices.owner_id',
      'users.email as owner_email',
      'devices.id',
      'devices.type',
      'devices.name',
      'devices.room',
      'devices.last_seen_at',
      'devices.created_at',
      onlineNow(q.offlineAfter).as('online_now'),
    ]);
  if (q.ownerId) query = query.where('devices.owner_id', '=', q.ownerId);
  if (q.type) query = query.where('devices.type', '=', q.type);
  if (q.online !== null) query = query.where(q.online ? onlineNow(q.offlineAfter) : sql<boolean>`not ${onlineNow(q.offlineAfter)}`);
  if (q.q) {
    const like = likePattern(q.q);
    query = query.where((eb) =>
      eb.or([eb('devices.id', 'ilike', like), eb('devices.name', 'ilike', like), eb('devices.room', 'ilike', like), eb(sql`lower(users.email)`, 'like', likePattern(q.q.toLowerCase()))]),
    );
  }
  const dir = q.desc ? 'desc' : 'asc';
  if (q.sort === 'name') query = query.orderBy('devices.name', dir);
  else if (q.sort === 'last_seen') query = query.orderBy(sql`devices.last_seen_at ${sql.raw(dir)} nulls last`);
  else query = query.orderBy('devices.created_at', dir);
  return query.orderBy('devices.owner_id', dir).orderBy('devices.id', dir).limit(q.limit).offset(q.offset).execute();
}

/** How many devices exist and how many are online now. */
export async function deviceCounts(db: Db, offlineAfter: number): Promise<{ total: number; online: number }> {
  const r = await db
    .selectFrom('devices')
    .select([sql<number>`count(*)::int`.as('total'), sql<number>`(count(*) filter (where ${onlineNow(offlineAfter)}))::int`.as('online')])
    .executeTakeFirstOrThrow();
  return { total: r.total, online: r.online };
}

export interface StaffMessageRow {
  id: string;
  owner_id: string;
  owner_email: string;
  device_id: string;
  topic: string;
  text: string;
  payload: Record<string, unknown>;
  created_at: Date;
  read_at: Date | null;
  expires_at: Date;
}

export interface StaffMessageQuery {
  q: string;
  ownerId: string | null;
  deviceId: string;
  topic: string;
  status: 'unread' | 'read' | 'expired' | 'pending' | '';
  sort: 'created' | 'topic';
  desc: boolean;
  limit: number;
  offset: number;
}

/** Command messages of every owner; filters by owner, device, topic, status; free text on topic and text. */
export async function searchMessages(db: Db, q: StaffMessageQuery): Promise<StaffMessageRow[]> {
  let query = db
    .selectFrom('device_messages')
    .innerJoin('users', 'users.id', 'device_messages.owner_id')
    .select([
      'device_messages.id',
      'device_messages.owner_id',
      'users.email as owner_email',
      'device_messages.device_id',
      'device_messages.topic',
      'device_messages.text',
      'device_messages.payload',
      'device_messages.created_at',
      'device_messages.read_at',
      'device_messages.expires_at',
    ]);
  if (q.ownerId) query = query.where('device_messages.owner_id', '=', q.ownerId);
  if (q.deviceId) query = query.where('device_messages.device_id', '=', q.deviceId);
  if (q.topic) query = query.where('device_messages.topic', '=', q.topic);
  if (q.status === 'read') query = query.where('device_messages.read_at', 'is not', null);
  else if (q.status === 'unread') query = query.where('device_messages.read_at', 'is', null);
  else if (q.status === 'expired') query = query.where('device_messages.read_at', 'is', null).where('device_messages.expires_at', '<=', sql<Date>`now()`);
  else if (q.status === 'pending') query = query.where('device_messages.read_at', 'is', null).where('device_messages.expires_at', '>', sql<Date>`now()`);
  if (q.q) {
    const like = likePattern(q.q);
    query = query.where((eb) => eb.or([eb('device_messages.topic', 'ilike', like), eb('device_messages.text', 'ilike', like)]) as Expression<SqlBool>);
  }
  const dir = q.desc ? 'desc' : 'asc';
  if (q.sort === 'topic') query = query.orderBy('device_messages.topic', dir);
  return query.orderBy('device_messages.seq', dir).limit(q.limit).offset(q.offset).execute();
}

/** Unread, unexpired command messages (waiting for a device). */
export async function countPending(db: Db): Promise<number> {
  const r = await db
    .selectFrom('device_messages')
    .select(sql<number>`count(*)::int`.as('n'))
    .where('read_at', 'is', null)
    .where('expires_at', '>', sql<Date>`now()`)
    .executeTakeFirstOrThrow();
  return r.n;
}

/**
 * Mark messages unread again and give expired ones a fresh lifetime of `ttlSeconds` (the seed's
 * "mark selected as unread"). Returns the changed rows' owner, device and id.
 */
export async function requeue(db: Db, ids: readonly string[], ttlSeconds: number): Promise<Array<{ id: string; owner_id: string; device_id: string }>> {
  if (ids.length === 0) return [];
  return db
    .updateTable('device_messages')
    .set({ read_at: null, expires_at: sql<Date>`greatest(expires_at, now() + make_interval(secs => ${ttlSeconds}))` })
    .where('id', 'in', ids)
    .returning(['id', 'owner_id', 'device_id'])
    .execute();
}

/** Delete messages by id; returns the ids deleted. */
export async function deleteMessages(db: Db, ids: readonly string[]): Promise<string[]> {
  if (ids.length === 0) return [];
  const rows = await db.deleteFrom('device_messages').where('id', 'in', ids).returning('id').execute();
  return rows.map((r) => r.id);
}
