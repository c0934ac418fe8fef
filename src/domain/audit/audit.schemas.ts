/** zod schemas for reading the audit log (admin list filters). */
import { z } from 'zod';

export const AUDIT_SORTS = ['at', '-at', 'action', '-action'] as const;

export const auditListSchema = z.object({
  q: z.string().trim().max(200).default(''),
  target_type: z.string().trim().max(60).default(''),
  target_id: z.string().trim().max(200).default(''),
  sort: z.enum(AUDIT_SORTS).catch('-at').default('-at'),
  page: z.coerce.number().int().min(1).max(500).catch(1).default(1),
});
export type AuditListInput = z.infer<typeof auditListSchema>;
