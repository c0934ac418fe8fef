/**
 * Bearer access tokens on our own API. The authorization server plugs a verifier in; until one is
 * configured every bearer token is rejected.
 */

/** What a valid access token stands for. */
export interface AccessTokenInfo {
  /** The user the token acts as (for client credentials: the client's owner). */
  userId: string;
  clientId: string;
  scopes: readonly string[];
  grantId?: string;
  /** Epoch seconds. */
  expiresAt?: number;
}

export interface BearerVerifier {
  /** Resolve a presented token; null when unknown, expired, revoked or not an access token. */
  verify(token: string): Promise<AccessTokenInfo | null>;
}

export const rejectAllBearer: BearerVerifier = { verify: async () => null };

/** The token in `Authorization: Bearer …`, or undefined. Throws nothing. */
export function bearerFromHeader(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const m = /^Bearer[ ]+([A-Za-z0-9\-._~+/]+=*)\s*$/i.exec(header);
  return m?.[1];
}
