/** Kysely access to oauth_clients. Only this file speaks SQL about OAuth clients. */
import { sql } from 'kysely';
import type { Db, OAuthClientRow } from '../../db/database.ts';
import type { OAuthAuthMethod, OAuthClient, OAuthGrantType, OAuthScope } from './oauth.types.ts';

const words = (s: string) => s.split(' ').filter(Boolean);

export function rowToClient(r: OAuthClientRow): OAuthClient {
  return {
    clientId: r.client_id,
    name: r.name,
    ownerUserId: r.owner_user_id,
    confidential: r.token_endpoint_auth_method !== 'none',
    tokenEndpointAuthMethod: r.token_endpoint_auth_method as OAuthAuthMethod,
    redirectUris: r.redirect_uris,
    grantTypes: r.grant_types as OAuthGrantType[],
    scopes: words(r.scope) as OAuthScope[],
    defaultScopes: words(r.default_scope) as OAuthScope[],
    requirePkce: r.require_pkce,
    skipConsent: r.skip_consent,
    accessTokenTtl: r.access_token_ttl,
    refreshTokenTtl: r.refresh_token_ttl,
    secretRotatedAt: r.secret_rotated_at,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

export interface ClientRowValues {
  name: string;
  owner_user_id: string | null;
  token_endpoint_auth_method: string;
  redirect_uris: string[];
  grant_types: string[];
  scope: string;
  default_scope: string;
  require_pkce: boolean;
  skip_consent: boolean;
  access_token_ttl: number | null;
  refresh_token_ttl: number | null;
}

export async function insertClient(db: Db, clientId: string, secretHash: string | null, v: ClientRowValues): Promise<OAuthClientRow> {
  return db
    .insertInto('oauth_clients')
    .values({
      ...v,
      client_id: clientId,
      secret_hash: secretHash,
      redirect_uris: JSON.stringify(v.redirect_uris),
      grant_types: JSON.stringify(v.grant_types),
    })
    .returningAll()
    .executeTakeFirstOrThrow();
}

export async function findClient(db: Db, clientId: string): Promise<OAuthClientRow | undefined> {
  return db.selectFrom('oauth_clients').selectAll().where('client_id', '=', clientId).executeTakeFirst();
}

export async function findClientsByIds(db: Db, ids: readonly string[]): Promise<OAuthClientRow[]> {
  if (ids.length === 0) return [];
  return db.selectFrom('oauth_clients').selectAll().where('client_id', 'in', ids).execute();
}

export async function listClients(db: Db, opts: { ownerUserId?: string } = {}): Promise<OAuthClientRow[]> {
  let q = db.selectFrom('oauth_clients').selectAll().orderBy('created_at').orderBy('client_id');
  if (opts.ownerUserId) q = q.where('owner_user_id', '=', opts.ownerUserId);
  return q.execute();
}

export async function updateClient(db: Db, clientId: string, v: Partial<ClientRowValues>): Promise<OAuthClientRow | undefined> {
  const { redirect_uris, grant_types, ...rest } = v;
  return db
    .updateTable('oauth_clients')
    .set({
      ...rest,
      ...(redirect_uris ? { redirect_uris: JSON.stringify(redirect_uris) } : {}),
      ...(grant_types ? { grant_types: JSON.stringify(grant_types) } : {}),
      updated_at: sql`now()`,
    })
    .where('client_id', '=', clientId)
    .returningAll()
    .executeTakeFirst();
}

export async function setClientSecret(db: Db, clientId: string, secretHash: string): Promise<OAuthClientRow | undefined> {
  return db
    .updateTable('oauth_clients')
    .set({ secret_hash: secretHash, secret_rotated_at: sql`now()`, updated_at: sql`now()` })
    .where('client_id', '=', clientId)
    .returningAll()
    .executeTakeFirst();
}

export async function deleteClient(db: Db, clientId: string): Promise<boolean> {
  const r = await db.deleteFrom('oauth_clients').where('client_id', '=', clientId).executeTakeFirst();
  return Number(r.numDeletedRows) > 0;
}
