/**
 * Kysely access to oauth_models (every oidc-provider artefact) and oauth_refresh_grace. Keys arrive
 * already hashed; this file never sees a token value.
 */
import { sql } from 'kysely';
import type { Db } from '../../db/database.ts';

export interface ModelRow {
  payload: Record<string, unknown>;
  consumed: boolean;
  grantId: string | null;
}

export interface ModelValues {
  payload: Record<string, unknown>;
  grantId: string | null;
  accountId: string | null;
  clientId: string | null;
  uid: string | null;
  userCode: string | null;
  expiresAt: Date | null;
}

export async function upsertModel(db: Db, model: string, id: string, v: ModelValues): Promise<void> {
  const row = {
    payload: JSON.stringify(v.payload),
    grant_id: v.grantId,
    account_id: v.accountId,
    client_id: v.clientId,
    uid: v.uid,
    user_code: v.userCode,
    expires_at: v.expiresAt,
  };
  await db
    .insertInto('oauth_models')
    .values({ model, id, ...row })
    .onConflict((oc) => oc.columns(['model', 'id']).doUpdateSet(row))
    .execute();
}

function live(db: Db, model: string) {
  return db
    .selectFrom('oauth_models')
    .select(['payload', 'consumed_at', 'grant_id'])
    .where('model', '=', model)
    .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', sql<Date>`now()`)]));
}

const toModelRow = (r: { payload: Record<string, unknown>; consumed_at: Date | null; grant_id: string | null } | undefined): ModelRow | undefined =>
  r ? { payload: r.payload, consumed: r.consumed_at !== null, grantId: r.grant_id } : undefined;

/** An unexpired row by primary key. */
export async function findModel(db: Db, model: string, id: string): Promise<ModelRow | undefined> {
  return toModelRow(await live(db, model).where('id', '=', id).executeTakeFirst());
}

export async function findModelByUid(db: Db, model: string, uid: string): Promise<ModelRow | undefined> {
  return toModelRow(await live(db, model).where('uid', '=', uid).executeTakeFirst());
}

export async function findModelByUserCode(db: Db, model: string, userCode: string): Promise<ModelRow | undefined> {
  return toModelRow(await live(db, model).where('user_code', '=', userCode).executeTakeFirst());
}

/**
 * Mark a row consumed if nobody did before (atomic). Returns 'ok', or 'already' with the row's grant id
 * when it was consumed already, or 'missing'.
 */
export async function consumeModel(db: Db, model: string, id: string): Promise<{ result: 'ok' | 'already' | 'missing'; grantId: string | null }> {
  const updated = await db
    .updateTable('oauth_models')
    .set({ consumed_at: sql`now()` })
    .where('model', '=', model)
    .where('id', '=', id)
    .where('consumed_at', 'is', null)
    .returning('grant_id')
    .executeTakeFirst();
  if (updated) return { result: 'ok', grantId: updated.grant_id };
  const existing = await db.selectFrom('oauth_models').select('grant_id').where('model', '=', model).where('id', '=', id).executeTakeFirst();
  return existing ? { result: 'already', grantId: existing.grant_id } : { result: 'missing', grantId: null };
}

export async function destroyModel(db: Db, model: string, id: string): Promise<void> {
  await db.deleteFrom('oauth_models').where('model', '=', model).where('id', '=', id).execute();
}

/** Delete the rows of `model` issued under a grant. */
export async function destroyModelsByGrant(db: Db, model: string, grantId: string): Promise<void> {
  await db.deleteFrom('oauth_models').where('grant_id', '=', grantId).where('model', '=', model).execute();
}

/** Delete a grant and everything issued under it (codes, tokens, device codes). */
export async function destroyGrantFamily(db: Db, grantId: string, grantKey: string): Promise<number> {
  const r = await db
    .deleteFrom('oauth_models')
    .where((eb) => eb.or([eb('grant_id', '=', grantId), eb.and([eb('model', '=', 'Grant'), eb('id', '=', grantKey)])]))
    .executeTakeFirst();
  return Number(r.numDeletedRows);
}

/** Every artefact of a client (on delete or secret compromise): tokens, codes, grants. */
export async function destroyByClient(db: Db, clientId: string): Promise<number> {
  const r = await db.deleteFrom('oauth_models').where('client_id', '=', clientId).executeTakeFirst();
  return Number(r.numDeletedRows);
}

export interface GrantRow {
  payload: Record<string, unknown>;
  created_at: Date;
  expires_at: Date | null;
}

/** Unexpired Grant rows of a user (optionally one client). */
export async function listGrants(db: Db, filter: { accountId?: string; clientId?: string }): Promise<GrantRow[]> {
  let q = db
    .selectFrom('oauth_models')
    .select(['payload', 'created_at', 'expires_at'])
    .where('model', '=', 'Grant')
    .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', sql<Date>`now()`)]));
  if (filter.accountId) q = q.where('account_id', '=', filter.accountId);
  if (filter.clientId) q = q.where('client_id', '=', filter.clientId);
  return q.orderBy('created_at', 'desc').execute();
}

/** Grant ids of every grant a user holds (any client). */
export async function grantIdsOfAccount(db: Db, accountId: string): Promise<string[]> {
  const rows = await db
    .selectFrom('oauth_models')
    .select(sql<string>`payload->>'jti'`.as('grant_id'))
    .where('model', '=', 'Grant')
    .where('account_id', '=', accountId)
    .execute();
  return rows.map((r) => r.grant_id);
}

/** Every artefact bound to a user (grants, tokens, codes, provider sessions). */
export async function destroyByAccount(db: Db, accountId: string): Promise<number> {
  const r = await db.deleteFrom('oauth_models').where('account_id', '=', accountId).executeTakeFirst();
  return Number(r.numDeletedRows);
}

/** Remove expired rows (and expired grace records). Returns how many were deleted. */
export async function deleteExpired(db: Db, limit = 5000): Promise<number> {
  const r = await db
    .deleteFrom('oauth_models')
    .where(({ eb, selectFrom }) =>
      eb(
        sql`(model, id)`,
        'in',
        selectFrom('oauth_models').select(['model', 'id']).where('expires_at', '<', sql<Date>`now()`).limit(limit),
      ),
    )
    .executeTakeFirst();
  const g = await db.deleteFrom('oauth_refresh_grace').where('expires_at', '<', sql<Date>`now()`).executeTakeFirst();
  return Number(r.numDeletedRows) + Number(g.numDeletedRows);
}

// --- refresh grace -------------------------------------------------------------------------------

export interface GraceRow {
  client_id: string;
  successor_enc: string | null;
  expires_at: Date;
}

/** Take the per-token refresh lock. False when another refresh of the same token holds it (or a grace record exists). */
export async function claimGrace(db: Db, tokenHash: string, clientId: string, lockSeconds: number): Promise<boolean> {
  const r = await db
    .insertInto('oauth_refresh_grace')
    .values({ token_hash: tokenHash, client_id: clientId, expires_at: sql`now() + make_interval(secs => ${lockSeconds})` as never })
    .onConflict((oc) => oc.column('token_hash').doNothing())
    .returning('token_hash')
    .executeTakeFirst();
  return !!r;
}

export async function findGrace(db: Db, tokenHash: string): Promise<(GraceRow & { expired: boolean }) | undefined> {
  const r = await db
    .selectFrom('oauth_refresh_grace')
    .select(['client_id', 'successor_enc', 'expires_at', sql<boolean>`expires_at <= now()`.as('expired')])
    .where('token_hash', '=', tokenHash)
    .executeTakeFirst();
  return r;
}

/** Turn a held lock into a grace record naming the successor. */
export async function setGraceSuccessor(db: Db, tokenHash: string, successorHash: string, successorEnc: string, graceSeconds: number): Promise<void> {
  await db
    .updateTable('oauth_refresh_grace')
    .set({ successor_hash: successorHash, successor_enc: successorEnc, expires_at: sql`now() + make_interval(secs => ${graceSeconds})` as never })
    .where('token_hash', '=', tokenHash)
    .execute();
}

export async function deleteGrace(db: Db, tokenHash: string): Promise<void> {
  await db.deleteFrom('oauth_refresh_grace').where('token_hash', '=', tokenHash).execute();
}

export async function deleteExpiredGrace(db: Db, tokenHash: string): Promise<void> {
  await db.deleteFrom('oauth_refresh_grace').where('token_hash', '=', tokenHash).where('expires_at', '<=', sql<Date>`now()`).execute();
}

/** The successor was used: the token it replaced stops working (no grace any more). */
export async function deleteGraceBySuccessor(db: Db, successorHash: string): Promise<void> {
  await db.deleteFrom('oauth_refresh_grace').where('successor_hash', '=', successorHash).execute();
}
