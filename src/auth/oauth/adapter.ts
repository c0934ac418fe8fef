/**
 * oidc-provider storage on Kysely (PostgreSQL or PGlite): one table for every model, keys stored as
 * SHA-256 digests, an atomic `consume()`, and the `Client` model answered from oauth_clients.
 */
import type { Kysely } from 'kysely';
import { errors, type Adapter, type AdapterPayload } from 'oidc-provider';
import type { Database } from '../../db/database.ts';
import * as store from '../../domain/oauth/oauth-store.repository.ts';
import { digest, type OAuthService } from '../../domain/oauth/oauth.service.ts';
import type { OAuthClient } from '../../domain/oauth/oauth.types.ts';

/**
 * Models whose id is a credential (the token value itself): the value is never stored, not even inside
 * the payload. Session, Interaction and DeviceCode keep theirs in the payload because the provider looks
 * them up by another key (uid, user code) and needs the id back; they live for minutes.
 */
const SECRET_ID_MODELS = new Set(['AccessToken', 'RefreshToken', 'AuthorizationCode', 'ClientCredentials', 'PushedAuthorizationRequest', 'BackchannelAuthenticationRequest']);

/** Client metadata as oidc-provider expects it, from our client record. */
export function clientMetadata(c: OAuthClient, secretHash: string | null): AdapterPayload {
  const native = c.redirectUris.some((u) => !/^https?:/i.test(u));
  return {
    client_id: c.clientId,
    client_name: c.name,
    ...(c.confidential ? { client_secret: secretHash ?? '' } : {}),
    token_endpoint_auth_method: c.tokenEndpointAuthMethod,
    redirect_uris: c.redirectUris,
    grant_types: c.grantTypes,
    response_types: c.grantTypes.includes('authorization_code') ? ['code'] : [],
    scope: c.scopes.join(' '),
    application_type: native ? 'native' : 'web',
    require_pkce: c.requirePkce || !c.confidential,
    default_scope: c.defaultScopes.join(' '),
    skip_consent: c.skipConsent,
    ...(c.accessTokenTtl ? { access_token_ttl: c.accessTokenTtl } : {}),
    ...(c.refreshTokenTtl ? { refresh_token_ttl: c.refreshTokenTtl } : {}),
  } as AdapterPayload;
}

/** The adapter class oidc-provider instantiates once per model name. */
export function createAdapter(db: Kysely<Database>, oauth: OAuthService): new (name: string) => Adapter {
  return class KyselyAdapter implements Adapter {
    readonly name: string;
    constructor(name: string) {
      this.name = name;
    }

    async upsert(id: string, payload: AdapterPayload, expiresIn?: number): Promise<void> {
      if (this.name === 'Client') throw new Error('clients are managed by the oauth service');
      const p = { ...payload } as Record<string, unknown>;
      if (SECRET_ID_MODELS.has(this.name)) delete p.jti;
      const accountId = (payload.accountId as string | undefined) ?? null;
      await store.upsertModel(db, this.name, digest(id), {
        payload: p,
        grantId: (payload.grantId as string | undefined) ?? (this.name === 'Grant' ? id : null),
        accountId,
        clientId: (payload.clientId as string | undefined) ?? null,
        uid: this.name === 'Session' && payload.uid ? digest(payload.uid) : null,
        userCode: payload.userCode ? digest(payload.userCode) : null,
        expiresAt: expiresIn ? new Date(Date.now() + expiresIn * 1000) : null,
      });
    }

    async find(id: string): Promise<AdapterPayload | undefined> {
      if (this.name === 'Client') {
        const rec = await oauth.clientRecord(id);
        return rec ? clientMetadata(rec.client, rec.secretHash) : undefined;
      }
      return this.#out(id, await store.findModel(db, this.name, digest(id)));
    }

    async findByUserCode(userCode: string): Promise<AdapterPayload | undefined> {
      return this.#out(undefined, await store.findModelByUserCode(db, this.name, digest(userCode)));
    }

    async findByUid(uid: string): Promise<AdapterPayload | undefined> {
      return this.#out(undefined, await store.findModelByUid(db, this.name, digest(uid)));
    }

    /**
     * Atomic: of several parallel redemptions of one code or refresh token exactly one wins; the others
     * fail with invalid_grant. A loser does not revoke the grant here: the winner is still issuing its
     * tokens under it and would fail too. A later replay is caught by the provider (the row reads
     * `consumed`), which then revokes the grant.
     */
    async consume(id: string): Promise<void> {
      const r = await store.consumeModel(db, this.name, digest(id));
      if (r.result === 'ok') return;
      throw new errors.InvalidGrant(`${this.name === 'RefreshToken' ? 'refresh token' : 'grant'} already used`);
    }

    async destroy(id: string): Promise<void> {
      await store.destroyModel(db, this.name, digest(id));
    }

    async revokeByGrantId(grantId: string): Promise<void> {
      await store.destroyModelsByGrant(db, this.name, grantId);
    }

    #out(id: string | undefined, row: store.ModelRow | undefined): AdapterPayload | undefined {
      if (!row) return undefined;
      return { ...row.payload, ...(id && SECRET_ID_MODELS.has(this.name) ? { jti: id } : {}), ...(row.consumed ? { consumed: true } : {}) } as AdapterPayload;
    }
  };
}
