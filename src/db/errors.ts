/** Recognise PostgreSQL error classes so repositories can turn them into typed AppErrors. */

interface PgLikeError {
  code?: string;
  constraint?: string;
}

/** 23505 unique_violation; optionally only for the named constraint/index. */
export function isUniqueViolation(err: unknown, constraint?: string): boolean {
  const e = err as PgLikeError;
  return e?.code === '23505' && (!constraint || e.constraint === constraint);
}

/** 23503 foreign_key_violation. */
export function isForeignKeyViolation(err: unknown): boolean {
  return (err as PgLikeError)?.code === '23503';
}
