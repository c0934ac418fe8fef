/** zod schemas for OAuth clients, shared by the CLI, REST and the admin pages. */
import { z } from 'zod';
import { OAUTH_AUTH_METHODS, OAUTH_GRANT_TYPES, OAUTH_SCOPES } from './oauth.types.ts';

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);
const FORBIDDEN_SCHEMES = new Set(['javascript:', 'data:', 'vbscript:', 'file:', 'blob:']);

/**
 * A redirect URI: https anywhere, http only on loopback addresses, or a private-use scheme
 * (`com.example.app:/cb`) for native apps. No fragment.
 */
export const redirectUriSchema = z
  .string()
  .trim()
  .max(2048)
  .superRefine((v, ctx) => {
    const u = URL.parse(v);
    if (!u) return void ctx.addIssue({ code: 'custom', message: 'must be an absolute URI' });
    if (u.hash || v.includes('#')) ctx.addIssue({ code: 'custom', message: 'must not contain a fragment' });
    if (u.protocol === 'http:' && !LOOPBACK.has(u.hostname)) ctx.addIssue({ code: 'custom', message: 'http is only allowed for loopback addresses; use https' });
    if (FORBIDDEN_SCHEMES.has(u.protocol)) ctx.addIssue({ code: 'custom', message: `the ${u.protocol} scheme is not allowed` });
    if (u.protocol === 'https:' && LOOPBACK.has(u.hostname)) return;
    if (u.protocol !== 'http:' && u.protocol !== 'https:' && !/^[a-z][a-z0-9+.-]*\.[a-z0-9+.-]+:$/.test(u.protocol)) {
      ctx.addIssue({ code: 'custom', message: 'custom schemes must be reverse domain names (com.example.app:/callback)' });
    }
  });

const scopeList = z.array(z.enum(OAUTH_SCOPES)).max(OAUTH_SCOPES.length);
const ttl = (min: number, max: number) => z.number().int().min(min).max(max).nullable().optional();

const clientFields = {
  name: z.string().trim().min(1).max(100),
  redirect_uris: z.array(redirectUriSchema).max(20),
  grant_types: z.array(z.enum(OAUTH_GRANT_TYPES)).min(1).max(OAUTH_GRANT_TYPES.length),
  scopes: scopeList,
  default_scopes: scopeList,
  require_pkce: z.boolean(),
  skip_consent: z.boolean(),
  owner_user_id: z.uuid().nullable(),
  access_token_ttl: ttl(60, 24 * 3600),
  refresh_token_ttl: ttl(3600, 366 * 24 * 3600),
};

/** A new client. `type` decides the authentication method unless one is given. */
export const newClientSchema = z.object({
  name: clientFields.name,
  type: z.enum(['confidential', 'public']).default('confidential'),
  token_endpoint_auth_method: z.enum(OAUTH_AUTH_METHODS).optional(),
  redirect_uris: clientFields.redirect_uris.default([]),
  grant_types: clientFields.grant_types.default(['authorization_code', 'refresh_token']),
  scopes: clientFields.scopes.min(1, 'at least one scope'),
  default_scopes: clientFields.default_scopes.default([]),
  require_pkce: clientFields.require_pkce.default(false),
  skip_consent: clientFields.skip_consent.default(false),
  owner_user_id: clientFields.owner_user_id.optional(),
  access_token_ttl: clientFields.access_token_ttl,
  refresh_token_ttl: clientFields.refresh_token_ttl,
});
export type NewClientInput = z.input<typeof newClientSchema>;

/** Changes to a client (the secret is changed only by rotation). */
export const clientUpdateSchema = z
  .object({
    name: clientFields.name,
    redirect_uris: clientFields.redirect_uris,
    grant_types: clientFields.grant_types,
    scopes: clientFields.scopes.min(1, 'at least one scope'),
    default_scopes: clientFields.default_scopes,
    require_pkce: clientFields.require_pkce,
    skip_consent: clientFields.skip_consent,
    owner_user_id: clientFields.owner_user_id,
    access_token_ttl: clientFields.access_token_ttl,
    refresh_token_ttl: clientFields.refresh_token_ttl,
  })
  .partial()
  .strict();
export type ClientUpdateInput = z.input<typeof clientUpdateSchema>;

/** Opaque client id as issued (also accepted from the CLI). */
export const clientIdSchema = z.string().min(1).max(100).regex(/^[A-Za-z0-9._~-]+$/, 'invalid client id');
