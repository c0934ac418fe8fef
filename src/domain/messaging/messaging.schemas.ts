/** zod schemas for messaging input, shared by REST routes and socket handlers. */
import { z } from 'zod';
import { ValidationError, zodIssuesToFields } from '../../errors.ts';

export const MESSAGE_BODY_MAX = 4000;
export const PAGE_SIZE_DEFAULT = 20;
export const PAGE_SIZE_MAX = 100;
export const HISTORY_LIMIT_DEFAULT = 50;
export const PARTICIPANTS_MAX = 256;

export const idSchema = z.uuid({ message: 'must be an id (UUID)' });

/** 1–4000 characters (code points), not blank. Kept as sent (no trimming). */
export const messageBodySchema = z
  .string()
  .refine((s) => s.trim().length > 0, { message: 'Message content is required' })
  .refine((s) => [...s].length <= MESSAGE_BODY_MAX, { message: `Message content is limited to ${MESSAGE_BODY_MAX} characters` });

/** A client-generated id (UUIDv7 recommended) that makes a send idempotent. */
export const clientMsgIdSchema = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z0-9._:~-]+$/, 'letters, digits and . _ : ~ - only');

export const titleSchema = z.string().trim().max(200).nullable();

export const seqSchema = z.coerce.number().int().min(0).max(Number.MAX_SAFE_INTEGER);

export const participantsSchema = z.array(idSchema).min(1).max(PARTICIPANTS_MAX);

export const createConversationSchema = z.object({
  participants: participantsSchema,
  title: titleSchema.optional(),
});
export type CreateConversationInput = z.infer<typeof createConversationSchema>;

export const renameConversationSchema = z.object({ title: titleSchema });

export const sendMessageSchema = z.object({
  conversationId: idSchema,
  body: messageBodySchema,
  clientMsgId: clientMsgIdSchema.nullable().optional(),
});
export type SendMessageInput = z.infer<typeof sendMessageSchema>;

export const receiptsSchema = z
  .object({ deliveredSeq: seqSchema.optional(), readSeq: seqSchema.optional() })
  .refine((v) => v.deliveredSeq !== undefined || v.readSeq !== undefined, { message: 'give delivered_seq, read_seq or both' });
export type ReceiptsInput = z.infer<typeof receiptsSchema>;

export const historyQuerySchema = z.object({
  afterSeq: seqSchema.optional(),
  beforeSeq: seqSchema.optional(),
  limit: z.coerce.number().int().min(1).max(PAGE_SIZE_MAX).optional(),
});
export type HistoryQuery = z.infer<typeof historyQuerySchema>;

export const pageQuerySchema = z.object({
  page: z.coerce.number().int().min(1).max(1_000_000).default(1),
  pageSize: z.coerce.number().int().min(1).max(PAGE_SIZE_MAX).default(PAGE_SIZE_DEFAULT),
});
export type PageQuery = z.infer<typeof pageQuerySchema>;

/** Parse domain input (for transports that did not validate yet); throws ValidationError with field details. */
export function parseInput<S extends z.ZodType>(schema: S, value: unknown): z.output<S> {
  const r = schema.safeParse(value);
  if (!r.success) throw new ValidationError('The request is not valid', zodIssuesToFields(r.error.issues));
  return r.data;
}

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** True for a syntactically valid UUID (anything else cannot name a row, so it is "not found"). */
export function isId(value: unknown): value is string {
  return typeof value === 'string' && UUID_RE.test(value);
}
