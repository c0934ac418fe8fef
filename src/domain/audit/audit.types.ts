/** One audit log entry: who changed what, when. */
export interface AuditEntry {
  id: number;
  at: Date;
  actorId: string | null;
  actorEmail: string;
  /** Dotted verb, e.g. `user.update`, `device.create`, `oauth_client.rotate_secret`. */
  action: string;
  /** Kind of the changed object (`user`, `device`, …) and its id. */
  targetType: string;
  targetId: string;
  /** One human-readable line. */
  summary: string;
  /** Changed fields and other facts; never secrets. */
  details: Record<string, unknown>;
}

/** What a caller records. */
export interface NewAuditEntry {
  actor: { id: string; email: string } | null;
  action: string;
  targetType: string;
  targetId?: string;
  summary?: string;
  details?: Record<string, unknown>;
}
