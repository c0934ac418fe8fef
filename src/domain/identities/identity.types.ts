/** What an external OpenID provider asserted about a person, already mapped to our fields. */
export interface ExternalIdentity {
  /** The provider's issuer identifier (the `iss` of a verified id_token). */
  issuer: string;
  /** The provider's stable id for the person (`sub`). */
  subject: string;
  email: string | null;
  firstName: string;
  lastName: string;
  displayName: string;
  /** Staff flag from the configured claim; undefined when the provider does not manage it. */
  isStaff?: boolean;
  /** Superuser flag from the configured claim; undefined when the provider does not manage it. */
  isSuperuser?: boolean;
}

/** A stored link between a local user and an external account. */
export interface UserIdentity {
  id: string;
  userId: string;
  issuer: string;
  subject: string;
  email: string | null;
  createdAt: Date;
  lastLoginAt: Date;
}
