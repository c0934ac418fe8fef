/**
 * Bearer access tokens on our own API. The authorization server plugs a verifier in; until one is
 * configured every bearer token is rejected.
 */
import { createHash } from 'node:crypto';

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

/** What invalidates cached verifications: a revoked grant, a deactivated user, a client's tokens. */
export interface BearerInvalidation {
  grantId?: string;
  userId?: string;
  clientId?: string;
  /** `bearerCacheKey(token)` of one token (never the token itself: invalidations cross the network). */
  tokenKey?: string;
}

/** The cache key of a token: its SHA-256, so the cache and its invalidations never hold a usable token. */
export function bearerCacheKey(token: string): string {
  return createHash('sha256').update(token).digest('base64url');
}

export interface BearerCacheOptions {
  /** How long a successful verification is reused (ms); never beyond the token's own expiry. */
  ttlMs: number;
  maxEntries?: number;
}

export interface CachedBearerVerifier extends BearerVerifier {
  /** Forget every cached verification matching any given field (this node only). */
  invalidate(match: BearerInvalidation): void;
  readonly size: number;
}

/**
 * A short-lived, per-node memo of successful token verifications in front of `inner`, so a busy client does
 * not pay the token, grant and client lookups on every request. Only successes are kept (an unknown token is
 * always looked up), keyed by the token's SHA-256, for at most `ttlMs` and never past the token's expiry.
 * Revocations reach it through `invalidate()` — the composition root wires that to the revocation events of
 * every node — so a revoked grant stops working at once; the TTL bounds what no event announces (a
 * client-credentials token revoked on its own).
 */
export function cachedBearer(inner: BearerVerifier, opts: BearerCacheOptions): CachedBearerVerifier {
  const max = opts.maxEntries ?? 10_000;
  const cache = new Map<string, { info: AccessTokenInfo; until: number }>();
  return {
    async verify(token) {
      if (opts.ttlMs <= 0) return inner.verify(token);
      const key = bearerCacheKey(token);
      const now = Date.now();
      const hit = cache.get(key);
      if (hit && hit.until > now) return hit.info;
      if (hit) cache.delete(key);
      const info = await inner.verify(token);
      if (info) {
        const until = Math.min(now + opts.ttlMs, info.expiresAt ? info.expiresAt * 1000 : Infinity);
        if (cache.size >= max) cache.clear();
        cache.set(key, { info, until });
      }
      return info;
    },
    invalidate(match) {
      if (match.tokenKey) cache.delete(match.tokenKey);
      for (const [key, { info }] of cache) {
        if (
          (match.grantId && info.grantId === match.grantId) ||
          (match.userId && info.userId === match.userId) ||
          (match.clientId && info.clientId === match.clientId)
        ) {
          cache.delete(key);
        }
      }
    },
    get size() {
      return cache.size;
    },
  };
}
