/**
 * Refresh-token rotation that never unlinks a confidential client by accident (Google account linking).
 *
 * oidc-provider rotates confidential clients' refresh tokens only near expiry, and a replayed rotated-out
 * token revokes the whole grant. A lost response or two concurrent refreshes around a rotation would then
 * unlink the user. This layer wraps the provider's own refresh_token grant for confidential clients:
 * - refreshes of one token are serialised by a short lock row (works across nodes, on PGlite too);
 * - after a rotation, the old token keeps yielding a fresh access token from the same single successor
 *   for OAUTH_REFRESH_GRACE seconds, or until the successor is used, whichever comes first;
 * - after that, presenting the old token is a replay: the provider revokes the grant.
 * Public clients keep the provider's strict rotation with reuse detection.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import type Provider from 'oidc-provider';
import type { KoaContextWithOIDC } from 'oidc-provider';
import * as refreshGrant from 'oidc-provider/lib/actions/grants/refresh_token.js';
import * as clientCredentialsGrant from 'oidc-provider/lib/actions/grants/client_credentials.js';
import * as grantHelpers from 'oidc-provider/lib/helpers/grants.js';
import type { Database } from '../../db/database.ts';
import * as store from '../../domain/oauth/oauth-store.repository.ts';
import { digest } from '../../domain/oauth/oauth.service.ts';

const LOCK_SECONDS = 10;
const WAIT_MS = 25;
const MAX_WAIT_MS = 8000;

/** AES-256-GCM with keys derived from the cookie keys (newest first), so every node can decrypt. */
function sealer(keys: readonly string[]) {
  const derived = keys.map((k) => createHash('sha256').update(`oauth-refresh-grace:${k}`).digest());
  return {
    seal(plain: string): string {
      const iv = randomBytes(12);
      const c = createCipheriv('aes-256-gcm', derived[0]!, iv);
      const body = Buffer.concat([c.update(plain, 'utf8'), c.final()]);
      return [iv, c.getAuthTag(), body].map((b) => b.toString('base64url')).join('.');
    },
    open(sealed: string): string | null {
      const [iv, tag, body] = sealed.split('.').map((p) => Buffer.from(p, 'base64url'));
      for (const key of derived) {
        try {
          const d = createDecipheriv('aes-256-gcm', key, iv!);
          d.setAuthTag(tag!);
          return Buffer.concat([d.update(body!), d.final()]).toString('utf8');
        } catch {
          // try the next key
        }
      }
      return null;
    },
  };
}

export interface RefreshGraceOptions {
  db: Kysely<Database>;
  keys: readonly string[];
  graceSeconds: number;
  /** Default scopes of a client, for client-credentials requests that name none. */
  defaultScope: (ctx: KoaContextWithOIDC) => string | undefined;
}

/**
 * Replace the provider's refresh_token and client_credentials grant handlers with wrappers (the
 * provider's own handlers still do all the protocol work).
 */
export function installGrantWrappers(provider: Provider, opts: RefreshGraceOptions): void {
  const { db } = opts;
  const bound = Object.fromEntries(Object.entries(grantHelpers).map(([n, h]) => [n, typeof h === 'function' ? h.bind(undefined, provider) : h]));
  const original = (ctx: KoaContextWithOIDC) => refreshGrant.handler(provider, bound, ctx);
  const box = sealer(opts.keys);
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

  async function refresh(ctx: KoaContextWithOIDC): Promise<void> {
    const client = ctx.oidc.client!;
    const presented = ctx.oidc.params!.refresh_token as string | undefined;
    if (client.clientAuthMethod === 'none' || typeof presented !== 'string' || !presented || opts.graceSeconds === 0) {
      await original(ctx);
      return;
    }
    const key = digest(presented);
    const started = Date.now();
    for (;;) {
      if (await store.claimGrace(db, key, client.clientId, LOCK_SECONDS)) break;
      const g = await store.findGrace(db, key);
      if (g && !g.expired && g.successor_enc) {
        const successor = g.client_id === client.clientId ? box.open(g.successor_enc) : null;
        if (successor) {
          // Within the window: answer from the successor (new access token, same refresh token).
          (ctx.oidc.params as Record<string, unknown>).refresh_token = successor;
        }
        await original(ctx);
        return;
      }
      if (!g || g.expired) {
        await store.deleteExpiredGrace(db, key);
        continue;
      }
      if (Date.now() - started > MAX_WAIT_MS) break; // a stuck lock: let the provider decide
      await sleep(WAIT_MS);
    }
    let rotatedTo: string | undefined;
    try {
      await original(ctx);
      const body = ctx.body as { refresh_token?: string } | undefined;
      if (ctx.oidc.entities.RotatedRefreshToken && body?.refresh_token && body.refresh_token !== presented) rotatedTo = body.refresh_token;
      // Using this token ends the grace of the token it replaced.
      await store.deleteGraceBySuccessor(db, key);
    } finally {
      if (rotatedTo) await store.setGraceSuccessor(db, key, digest(rotatedTo), box.seal(rotatedTo), opts.graceSeconds);
      else await store.deleteGrace(db, key);
    }
  }

  const refreshParams = new Set([...refreshGrant.parameters, 'resource']);
  provider.registerGrantType('refresh_token', refresh as never, refreshParams as never, new Set(['resource']) as never);

  const ccOriginal = (ctx: KoaContextWithOIDC) => clientCredentialsGrant.handler(provider, bound, ctx);
  async function clientCredentials(ctx: KoaContextWithOIDC): Promise<void> {
    // Closed by default: a request naming no scope gets the client's configured default scopes only.
    const params = ctx.oidc.params as Record<string, unknown>;
    if (!params.scope) params.scope = opts.defaultScope(ctx) || undefined;
    await ccOriginal(ctx);
  }
  provider.registerGrantType('client_credentials', clientCredentials as never, new Set([...clientCredentialsGrant.parameters, 'resource']) as never, new Set(['resource']) as never);
}
