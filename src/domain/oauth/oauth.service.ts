/**
 * OAuth clients and grants: registration, secret rotation, listing and revoking what users authorized.
 * Transport-independent; the `oauth:client` CLI, the admin pages and account unlinking call these
 * functions. The authorization server itself (oidc-provider) stores its artefacts through the same tables.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database } from '../../db/database.ts';
import { isForeignKeyViolation } from '../../db/errors.ts';
import { NotFoundError, ValidationError, type FieldIssue } from '../../errors.ts';
import type { EventBus } from '../../infra/events.ts';
import * as clients from './oauth-client.repository.ts';
import * as store from './oauth-store.repository.ts';
import { clientUpdateSchema, newClientSchema, type ClientUpdateInput, type NewClientInput } from './oauth.schemas.ts';
import { DEVICE_CODE_GRANT, type OAuthClient, type OAuthClientWithSecret, type OAuthGrant } from './oauth.types.ts';

declare module '../../infra/events.ts' {
  interface AppEvents {
    /** A user's authorization of a client was revoked (its tokens no longer work). */
    'oauth.grant_revoked': { grantId: string; userId: string; clientId: string };
  }
}

/** SHA-256, base64url: how token keys, user codes and client secrets are stored. */
export function digest(value: string): string {
  return createHash('sha256').update(value).digest('base64url');
}

const SECRET_PREFIX = 'sha256:';

/** The stored form of a client secret. */
export function hashClientSecret(secret: string): string {
  return SECRET_PREFIX + digest(secret);
}

/** Constant-time check of a presented secret against its stored form. */
export function clientSecretMatches(stored: string | null | undefined, presented: string | undefined): boolean {
  if (!stored || !presented || presented.length > 512) return false;
  const a = Buffer.from(stored);
  const b = Buffer.from(hashClientSecret(presented));
  return a.length === b.length && timingSafeEqual(a, b);
}

/** The grant's primary key in oauth_models (grant ids are hashed like every other key). */
export const grantKey = (grantId: string) => digest(grantId);

function parse<T>(schema: { safeParse(v: unknown): { success: true; data: T } | { success: false; error: { issues: Array<{ path: PropertyKey[]; message: string; code?: string }> } } }, input: unknown): T {
  const r = schema.safeParse(input);
  if (!r.success) {
    throw new ValidationError(
      'The client is not valid',
      r.error.issues.map((i) => ({ path: i.path.map(String).join('.'), message: i.message, ...(i.code ? { code: i.code } : {}) })),
    );
  }
  return r.data;
}

interface Shape {
  authMethod: string;
  redirectUris: string[];
  grantTypes: string[];
  scopes: string[];
  defaultScopes: string[];
  ownerUserId: string | null;
}

/** Cross-field rules a client must satisfy; returns the problems. */
function shapeProblems(s: Shape): FieldIssue[] {
  const out: FieldIssue[] = [];
  const has = (g: string) => s.grantTypes.includes(g);
  if (s.authMethod === 'none' && has('client_credentials')) out.push({ path: 'grant_types', message: 'public clients cannot use client_credentials' });
  if (has('client_credentials') && !s.ownerUserId) out.push({ path: 'owner_user_id', message: 'client_credentials needs an owner user (the tokens act as that user)' });
  if (has('authorization_code') && s.redirectUris.length === 0) out.push({ path: 'redirect_uris', message: 'authorization_code needs at least one redirect URI' });
  if (has('refresh_token') && !has('authorization_code') && !has(DEVICE_CODE_GRANT)) {
    out.push({ path: 'grant_types', message: 'refresh_token needs authorization_code or the device code grant' });
  }
  for (const d of s.defaultScopes) if (!s.scopes.includes(d)) out.push({ path: 'default_scopes', message: `${d} is not among the client's scopes` });
  return out;
}

export interface OAuthServiceDeps {
  db: Kysely<Database>;
  events: EventBus;
}

export function createOAuthService(deps: OAuthServiceDeps) {
  const { db, events } = deps;

  const ownerProblem = (err: unknown): never => {
    if (isForeignKeyViolation(err)) throw new ValidationError('The client is not valid', [{ path: 'owner_user_id', message: 'no such user' }]);
    throw err;
  };

  async function revokeGrantRow(grantId: string, userId: string, clientId: string): Promise<void> {
    await store.destroyGrantFamily(db, grantId, grantKey(grantId));
    await events.emit('oauth.grant_revoked', { grantId, userId, clientId });
  }

  function toGrant(row: store.GrantRow, names: Map<string, string>): OAuthGrant {
    const p = row.payload as { jti: string; clientId: string; accountId: string; resources?: Record<string, string>; openid?: { scope?: string } };
    const scopes = new Set<string>();
    for (const s of Object.values(p.resources ?? {})) for (const w of s.split(' ')) if (w) scopes.add(w);
    return {
      grantId: p.jti,
      clientId: p.clientId,
      clientName: names.get(p.clientId) ?? null,
      userId: p.accountId,
      scopes: [...scopes].sort(),
      createdAt: row.created_at,
      expiresAt: row.expires_at,
    };
  }

  async function withNames(rows: store.GrantRow[]): Promise<OAuthGrant[]> {
    const ids = [...new Set(rows.map((r) => (r.payload as { clientId: string }).clientId))];
    const names = new Map((await clients.findClientsByIds(db, ids)).map((c) => [c.client_id, c.name]));
    return rows.map((r) => toGrant(r, names));
  }

  const service = {
    /**
     * Register a client. Returns the secret once (null for public clients); only its digest is stored.
     * Throws ValidationError for inconsistent settings (public + client_credentials, missing redirect URI,
     * client_credentials without an owner, unknown owner).
     */
    async createClient(input: NewClientInput): Promise<OAuthClientWithSecret> {
      const v = parse(newClientSchema, input);
      const authMethod = v.token_endpoint_auth_method ?? (v.type === 'public' ? 'none' : 'client_secret_basic');
      if ((v.type === 'public') !== (authMethod === 'none')) {
        throw new ValidationError('The client is not valid', [{ path: 'token_endpoint_auth_method', message: 'public clients use "none"; confidential clients a secret method' }]);
      }
      const shape: Shape = {
        authMethod,
        redirectUris: v.redirect_uris,
        grantTypes: v.grant_types,
        scopes: v.scopes,
        defaultScopes: v.default_scopes,
        ownerUserId: v.owner_user_id ?? null,
      };
      const problems = shapeProblems(shape);
      if (problems.length) throw new ValidationError('The client is not valid', problems);
      const clientId = randomBytes(18).toString('base64url');
      const secret = authMethod === 'none' ? null : randomBytes(32).toString('base64url');
      try {
        const row = await clients.insertClient(db, clientId, secret ? hashClientSecret(secret) : null, {
          name: v.name,
          owner_user_id: v.owner_user_id ?? null,
          token_endpoint_auth_method: authMethod,
          redirect_uris: [...new Set(v.redirect_uris)],
          grant_types: [...new Set(v.grant_types)],
          scope: [...new Set(v.scopes)].join(' '),
          default_scope: [...new Set(v.default_scopes)].join(' '),
          require_pkce: authMethod === 'none' ? true : v.require_pkce,
          skip_consent: v.skip_consent,
          access_token_ttl: v.access_token_ttl ?? null,
          refresh_token_ttl: v.refresh_token_ttl ?? null,
        });
        return { client: clients.rowToClient(row), clientSecret: secret };
      } catch (err) {
        return ownerProblem(err);
      }
    },

    /** Every client (optionally those owned by one user), oldest first. */
    async listClients(opts: { ownerUserId?: string } = {}): Promise<OAuthClient[]> {
      return (await clients.listClients(db, opts)).map(clients.rowToClient);
    },

    async findClient(clientId: string): Promise<OAuthClient | null> {
      const row = await clients.findClient(db, clientId);
      return row ? clients.rowToClient(row) : null;
    },

    /** A client, or NotFoundError (`client_not_found`). */
    async getClient(clientId: string): Promise<OAuthClient> {
      const c = await service.findClient(clientId);
      if (!c) throw new NotFoundError('Client', 'client_not_found');
      return c;
    },

    /** The stored secret digest of a client (for the authorization server's client lookup). */
    async clientRecord(clientId: string): Promise<{ client: OAuthClient; secretHash: string | null } | null> {
      const row = await clients.findClient(db, clientId);
      return row ? { client: clients.rowToClient(row), secretHash: row.secret_hash } : null;
    },

    /** Change a client's settings. Throws NotFoundError, ValidationError. */
    async updateClient(clientId: string, input: ClientUpdateInput): Promise<OAuthClient> {
      const patch = parse(clientUpdateSchema, input);
      const current = await service.getClient(clientId);
      const shape: Shape = {
        authMethod: current.tokenEndpointAuthMethod,
        redirectUris: patch.redirect_uris ?? current.redirectUris,
        grantTypes: patch.grant_types ?? current.grantTypes,
        scopes: patch.scopes ?? current.scopes,
        defaultScopes: patch.default_scopes ?? current.defaultScopes,
        ownerUserId: patch.owner_user_id === undefined ? current.ownerUserId : patch.owner_user_id,
      };
      const problems = shapeProblems(shape);
      if (problems.length) throw new ValidationError('The client is not valid', problems);
      try {
        const row = await clients.updateClient(db, clientId, {
          ...(patch.name !== undefined ? { name: patch.name } : {}),
          ...(patch.redirect_uris ? { redirect_uris: [...new Set(patch.redirect_uris)] } : {}),
          ...(patch.grant_types ? { grant_types: [...new Set(patch.grant_types)] } : {}),
          ...(patch.scopes ? { scope: [...new Set(patch.scopes)].join(' ') } : {}),
          ...(patch.default_scopes ? { default_scope: [...new Set(patch.default_scopes)].join(' ') } : {}),
          ...(patch.require_pkce !== undefined && current.confidential ? { require_pkce: patch.require_pkce } : {}),
          ...(patch.skip_consent !== undefined ? { skip_consent: patch.skip_consent } : {}),
          ...(patch.owner_user_id !== undefined ? { owner_user_id: patch.owner_user_id } : {}),
          ...(patch.access_token_ttl !== undefined ? { access_token_ttl: patch.access_token_ttl } : {}),
          ...(patch.refresh_token_ttl !== undefined ? { refresh_token_ttl: patch.refresh_token_ttl } : {}),
        });
        if (!row) throw new NotFoundError('Client', 'client_not_found');
        return clients.rowToClient(row);
      } catch (err) {
        if (err instanceof NotFoundError) throw err;
        return ownerProblem(err);
      }
    },

    /**
     * Issue a new secret (returned once); the old one stops working at once. Tokens already issued stay
     * valid (revoke the client's grants to end them). Throws NotFoundError, ValidationError for public clients.
     */
    async rotateSecret(clientId: string): Promise<OAuthClientWithSecret> {
      const current = await service.getClient(clientId);
      if (!current.confidential) throw new ValidationError('Public clients have no secret', [{ path: 'client_id', message: 'public client' }]);
      const secret = randomBytes(32).toString('base64url');
      const row = await clients.setClientSecret(db, clientId, hashClientSecret(secret));
      if (!row) throw new NotFoundError('Client', 'client_not_found');
      return { client: clients.rowToClient(row), clientSecret: secret };
    },

    /** Delete a client and everything issued to it (grants, codes, tokens). Throws NotFoundError. */
    async deleteClient(clientId: string): Promise<void> {
      const grants = await store.listGrants(db, { clientId });
      await db.transaction().execute(async (trx) => {
        await store.destroyByClient(trx, clientId);
        if (!(await clients.deleteClient(trx, clientId))) throw new NotFoundError('Client', 'client_not_found');
      });
      for (const g of grants) {
        const p = g.payload as { jti: string; accountId: string };
        await events.emit('oauth.grant_revoked', { grantId: p.jti, userId: p.accountId, clientId });
      }
    },

    /** The clients a user has authorized (one entry per grant), newest first. */
    async listUserGrants(userId: string): Promise<OAuthGrant[]> {
      return withNames(await store.listGrants(db, { accountId: userId }));
    },

    /** Every user's grant for one client, newest first. */
    async listClientGrants(clientId: string): Promise<OAuthGrant[]> {
      return withNames(await store.listGrants(db, { clientId }));
    },

    /**
     * Revoke one grant and every token issued under it. With `userId`, only that user's grant (else
     * NotFoundError, also for unknown ids: no probing of other users' grants).
     */
    async revokeGrant(grantId: string, opts: { userId?: string } = {}): Promise<void> {
      const row = await store.findModel(db, 'Grant', grantKey(grantId));
      const p = row?.payload as { accountId?: string; clientId?: string } | undefined;
      if (!p || (opts.userId && p.accountId !== opts.userId)) throw new NotFoundError('Grant', 'grant_not_found');
      await revokeGrantRow(grantId, p.accountId!, p.clientId!);
    },

    /**
     * Revoke every grant of a user (optionally only for one client, e.g. unlinking Google), with all their
     * tokens. Returns how many grants were revoked.
     */
    async revokeUserGrants(userId: string, opts: { clientId?: string } = {}): Promise<number> {
      const rows = await store.listGrants(db, { accountId: userId, ...(opts.clientId ? { clientId: opts.clientId } : {}) });
      for (const r of rows) {
        const p = r.payload as { jti: string; clientId: string };
        await revokeGrantRow(p.jti, userId, p.clientId);
      }
      if (!opts.clientId) await store.destroyByAccount(db, userId);
      return rows.length;
    },

    /** Delete expired codes, tokens, sessions and grace records. Returns the number of rows removed. */
    async cleanupExpired(): Promise<number> {
      let total = 0;
      for (;;) {
        const n = await store.deleteExpired(db);
        total += n;
        if (n < 5000) return total;
      }
    },
  };
  return service;
}

export type OAuthService = ReturnType<typeof createOAuthService>;
