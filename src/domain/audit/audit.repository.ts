/** Kysely access to the audit_log table. Only this file speaks SQL about the audit log. */
import { sql } from 'kysely';
import type { AuditRow, Db } from '../../db/database.ts';
import type { AuditEntry, NewAuditEntry } from './audit.types.ts';

function rowToEntry(r: AuditRow): AuditEntry {
  return {
    id: r.id,
    at: r.at,
    actorId: r.actor_id,
    actorEmail: r.actor_email,
    action: r.action,
    targetType: r.target_type,
    targetId: r.target_id,
    summary: r.summary,
    details: r.details ?? {},
  };
}

export async function insertEntry(db: Db, e: NewAuditEntry): Promise<void> {
  await db
    .insertInto('audit_log')
    .values({
      actor_id: e.actor?.id ?? null,
      actor_email: e.actor?.email ?? '',
      action: e.action,
      target_type: e.targetType,
      target_id: e.targetId ?? '',
      summary: e.summary ?? '',
      details: JSON.stringify(e.details ?? {}),
    })
    .execute();
}

export interface AuditQuery {
  q: string;
  targetType: string;
  targetId: string;
  sort: 'at' | '-at' | 'action' | '-action';
  limit: number;
  offset: number;
}

export async function listEntries(db: Db, q: AuditQuery): Promise<AuditEntry[]> {
  let query = db.selectFrom('audit_log').selectAll();
  if (q.targetType) query = query.where('target_type', '=', q.targetType);
  if (q.targetId) query = query.where('target_id', '=', q.targetId);
  if (q.q) {
    const like = `%${q.q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    query = query.where((eb) =>
      eb.or([eb('action', 'ilike', like), eb('actor_email', 'ilike', like), eb('summary', 'ilike', like), eb('target_id', '=', q.q)]),
    );
  }
  const desc = q.sort.startsWith('-');
  const col = q.sort.replace('-', '') as 'at' | 'action';
  query = query.orderBy(col, desc ? 'desc' : 'asc').orderBy('id', desc ? 'desc' : 'asc');
  const rows = await query.limit(q.limit).offset(q.offset).execute();
  return rows.map(rowToEntry);
}

export async function countSince(db: Db, since: Date): Promise<number> {
  const r = await db.selectFrom('audit_log').select(sql<number>`count(*)::int`.as('n')).where('at', '>=', since).executeTakeFirstOrThrow();
  return r.n;
}
