/**
 * The audit log: an append-only record of who changed what and when. Every administrative change is
 * recorded here (the admin pages call `record` after each successful change); the admin shows it.
 */
import type { Kysely } from 'kysely';
import type { Database } from '../../db/database.ts';
import * as repo from './audit.repository.ts';
import type { AuditListInput } from './audit.schemas.ts';
import type { AuditEntry, NewAuditEntry } from './audit.types.ts';

export interface AuditServiceDeps {
  db: Kysely<Database>;
}

/** Entries per page in lists. */
export const AUDIT_PAGE_SIZE = 50;

/** Keys whose values never go into `details` (secrets must not be copied into the log). */
const SECRET_KEYS = /pass|secret|token|^pin$|key$|hash/i;

function scrub(details: Record<string, unknown> | undefined): Record<string, unknown> {
  if (!details) return {};
  return Object.fromEntries(Object.entries(details).map(([k, v]) => [k, SECRET_KEYS.test(k) ? '[redacted]' : v]));
}

export function createAuditService(deps: AuditServiceDeps) {
  const { db } = deps;
  return {
    /** Append one entry. Values of secret-looking keys in `details` are replaced by `[redacted]`. */
    async record(entry: NewAuditEntry): Promise<void> {
      await repo.insertEntry(db, { ...entry, details: scrub(entry.details) });
    },

    /**
     * One page of entries (newest first by default), filtered by a free-text search over action, actor
     * email and summary (or an exact target id), and optionally by target. Returns one extra row's worth
     * of knowledge as `hasMore`.
     */
    async list(input: AuditListInput): Promise<{ entries: AuditEntry[]; hasMore: boolean }> {
      const rows = await repo.listEntries(db, {
        q: input.q,
        targetType: input.target_type,
        targetId: input.target_id,
        sort: input.sort,
        limit: AUDIT_PAGE_SIZE + 1,
        offset: (input.page - 1) * AUDIT_PAGE_SIZE,
      });
      return { entries: rows.slice(0, AUDIT_PAGE_SIZE), hasMore: rows.length > AUDIT_PAGE_SIZE };
    },

    /** Number of entries since `since` (dashboard). */
    countSince(since: Date): Promise<number> {
      return repo.countSince(db, since);
    },
  };
}

export type AuditService = ReturnType<typeof createAuditService>;
