/** The user as the domain sees it (camelCase, no password hash). */
export interface User {
  id: string;
  email: string;
  phoneNumber: string | null;
  firstName: string;
  lastName: string;
  displayName: string;
  avatarUrl: string | null;
  isActive: boolean;
  isStaff: boolean;
  isSuperuser: boolean;
  lastLogin: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

/** Who is acting: the signed-in user plus how they authenticated and what they may do. */
export interface Actor {
  user: User;
  /** `session`: browser cookie (all scopes). `bearer`: OAuth access token (its scopes only). */
  via: 'session' | 'bearer';
  /** Granted OAuth scopes; null means unrestricted (a browser session). */
  scopes: ReadonlySet<string> | null;
  /** OAuth client id, for bearer tokens. */
  clientId?: string;
  /** OAuth grant id, for bearer tokens (what DISCONNECT revokes). */
  grantId?: string;
  /** Session id, for cookie sessions. */
  sessionId?: string;
}

/** True when the actor may use `scope` (sessions may use every scope). */
export function hasScope(actor: Actor, scope: string): boolean {
  return actor.scopes === null || actor.scopes.has(scope);
}
