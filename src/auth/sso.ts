/**
 * SSO through an external OpenID Connect provider (the backend-for-frontend sign-in). grant does the
 * redirect dance (state, nonce, PKCE, code exchange); what grant does not do is done here: discovery,
 * id_token verification with jose (signature against the provider's JWKS, iss, aud, exp, nonce), the
 * userinfo call and the mapping of claims to our user fields. Upstream tokens are used once and dropped:
 * the browser never sees them and the session does not keep them.
 */
import grant from 'grant';
import { createRemoteJWKSet, jwtVerify, type JWTPayload } from 'jose';
import type Koa from 'koa';
import type { SsoConfig, ClaimRule } from '../config.ts';
import type { ExternalIdentity } from '../domain/identities/identity.types.ts';
import { emailSchema } from '../domain/users/user.schemas.ts';
import type { Logger } from '../logger.ts';

/** Why an SSO sign-in failed; shown to the person (as a sentence) and logged (as the code). */
export type SsoFailure =
  | 'state_mismatch'
  | 'missing_session'
  | 'flow_expired'
  | 'provider_error'
  | 'provider_unavailable'
  | 'invalid_id_token'
  | 'account_disabled'
  | 'email_taken'
  | 'missing_email';

export class SsoError extends Error {
  override name = 'SsoError';
  readonly reason: SsoFailure;
  /** Extra text safe to log and show (never a token). */
  readonly detail: string | undefined;
  constructor(reason: SsoFailure, detail?: string) {
    super(detail ? `${reason}: ${detail}` : reason);
    this.reason = reason;
    this.detail = detail;
  }
}

/** The provider's endpoints, from configuration and discovery. */
export interface SsoProviderMetadata {
  issuer: string;
  authorization: string;
  token: string;
  jwks: string;
  userinfo: string | null;
  endSession: string | null;
}

/** What grant keeps in `ctx.session.grant` between the two legs, plus where to go afterwards. */
interface FlowState {
  provider?: string;
  state?: string;
  nonce?: string;
  code_verifier?: string;
  next?: string;
  startedAt?: number;
  [key: string]: unknown;
}

type GrantMiddleware = (ctx: Koa.Context, next: () => Promise<void>) => Promise<void>;

/** grant's provider name and route prefix; only used internally (see `runGrant`). */
const PROVIDER = 'oidc';
const PREFIX = '/sso';
/** A flow not completed within this time is refused. */
const FLOW_MAX_AGE_MS = 15 * 60_000;
const HTTP_TIMEOUT_MS = 10_000;
const ID_TOKEN_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519'];

export interface SsoClient {
  readonly config: SsoConfig;
  /** Redirect the browser to the provider (a new flow with state, nonce and PKCE); `next` is where to land afterwards. */
  start(ctx: Koa.Context, next: string): Promise<void>;
  /**
   * Complete the flow on the redirect back: checks state, exchanges the code, verifies the id_token and
   * reads userinfo. The flow state is removed from the session whatever happens. Throws SsoError.
   */
  complete(ctx: Koa.Context): Promise<{ identity: ExternalIdentity; next: string }>;
  /** The `next` of the flow in progress, if any (for the failure page). */
  pendingNext(ctx: Koa.Context): string | undefined;
  /** The provider's RP-initiated logout URL, when it has an end-session endpoint. */
  endSessionUrl(): Promise<string | null>;
}

/** Build the SSO client. Nothing is fetched until the first sign-in (discovery is cached after success). */
export function createSsoClient(config: SsoConfig, logger: Logger): SsoClient {
  const log = logger.child({ subsystem: 'sso' });
  let resolved: Promise<{ meta: SsoProviderMetadata; grant: GrantMiddleware; jwks: ReturnType<typeof createRemoteJWKSet> }> | null = null;

  function resolve() {
    resolved ??= (async () => {
      const meta = await providerMetadata(config);
      // grant is CommonJS: its declared default export is `module.exports.default` (the same function).
      const mw = grant.default.koa()({
        config: {
          defaults: { prefix: PREFIX, transport: 'state' },
          [PROVIDER]: {
            oauth: 2,
            authorize_url: meta.authorization,
            access_url: meta.token,
            key: config.clientId,
            secret: config.clientSecret,
            scope: [...config.scopes],
            // grant joins scopes with ',' by default; OpenID providers need a space.
            scope_delimiter: ' ',
            state: true,
            nonce: true,
            pkce: true,
            redirect_uri: config.redirectUri,
            token_endpoint_auth_method: config.tokenAuthMethod,
            response: ['tokens'],
          },
        },
        request: { timeout: HTTP_TIMEOUT_MS },
      } as never) as unknown as GrantMiddleware;
      return { meta, grant: mw, jwks: createRemoteJWKSet(new URL(meta.jwks), { timeoutDuration: HTTP_TIMEOUT_MS }) };
    })();
    // A failed discovery is retried on the next sign-in rather than cached.
    resolved.catch(() => (resolved = null));
    return resolved.catch((err: unknown) => {
      log.error({ err, issuer: config.issuer }, 'SSO provider metadata unavailable');
      throw new SsoError('provider_unavailable', 'the identity provider could not be reached');
    });
  }

  /**
   * grant's Koa handler routes by `ctx.originalUrl` (`<prefix>/<provider>[/callback]`), while our public
   * routes are fixed (`/auth/login/sso`, the registered `/auth/callback/`): present it the URL it expects
   * for the duration of the call.
   */
  async function runGrant(mw: GrantMiddleware, ctx: Koa.Context, callback: boolean): Promise<void> {
    const original = ctx.originalUrl;
    ctx.originalUrl = `${PREFIX}/${PROVIDER}${callback ? '/callback' : ''}`;
    try {
      await mw(ctx, async () => {});
    } finally {
      ctx.originalUrl = original;
    }
  }

  return {
    config,

    async start(ctx, next) {
      const { grant: mw } = await resolve();
      await runGrant(mw, ctx, false);
      const flow = ctx.session?.grant as FlowState | undefined;
      if (ctx.status !== 302 || !flow?.state) throw new SsoError('provider_unavailable', 'the sign-in could not be started');
      // grant copies the query into `dynamic`; it is never used (no `dynamic` in the provider config).
      delete flow.dynamic;
      ctx.session!.grant = { ...flow, next, startedAt: Date.now() };
    },

    pendingNext(ctx) {
      return (ctx.session?.grant as FlowState | undefined)?.next;
    },

    async complete(ctx) {
      const flow = ctx.session?.grant as FlowState | undefined;
      if (ctx.session) ctx.session.grant = undefined;
      if (!flow?.state || !flow.nonce || flow.provider !== PROVIDER) throw new SsoError('missing_session');
      const next = flow.next ?? '/home/';
      const query = ctx.query;
      if (typeof query.state !== 'string' || query.state !== flow.state) throw new SsoError('state_mismatch');
      if (Date.now() - (flow.startedAt ?? 0) > FLOW_MAX_AGE_MS) throw new SsoError('flow_expired');
      if (typeof query.error === 'string') {
        const desc = typeof query.error_description === 'string' ? query.error_description : '';
        throw new SsoError('provider_error', `${query.error.slice(0, 100)}${desc ? ` (${desc.slice(0, 300)})` : ''}`);
      }
      const { meta, grant: mw, jwks } = await resolve();
      // grant exchanges the code (with the PKCE verifier and client authentication) and checks aud/nonce.
      ctx.session!.grant = flow;
      try {
        await runGrant(mw, ctx, true);
      } finally {
        ctx.session!.grant = undefined;
      }
      const response = (ctx.state.grant as { response?: Record<string, unknown> } | undefined)?.response;
      ctx.state.grant = undefined;
      if (!response) throw new SsoError('provider_error', 'no answer from the token endpoint');
      if (response.error) {
        const e = response.error as unknown;
        const text = typeof e === 'string' ? e : JSON.stringify(e);
        if (/id_token|nonce/i.test(text)) throw new SsoError('invalid_id_token', text.slice(0, 200));
        throw new SsoError('provider_error', text.slice(0, 300));
      }
      const idToken = response.id_token;
      if (typeof idToken !== 'string') throw new SsoError('invalid_id_token', 'the provider sent no id_token');

      let payload: JWTPayload;
      try {
        ({ payload } = await jwtVerify(idToken, jwks, {
          issuer: meta.issuer,
          audience: config.clientId,
          algorithms: ID_TOKEN_ALGORITHMS,
          clockTolerance: 30,
          requiredClaims: ['sub', 'iat', 'exp'],
        }));
      } catch (err) {
        const code = (err as { code?: string }).code ?? 'ERR_JWT_INVALID';
        throw new SsoError('invalid_id_token', `${code}: ${(err as Error).message}`.slice(0, 200));
      }
      if (payload.nonce !== flow.nonce) throw new SsoError('invalid_id_token', 'nonce mismatch');
      if (Array.isArray(payload.aud) && payload.aud.length > 1 && payload.azp !== config.clientId) {
        throw new SsoError('invalid_id_token', 'azp is not this client');
      }

      let claims: Record<string, unknown> = { ...payload };
      const accessToken = response.access_token;
      if (meta.userinfo && typeof accessToken === 'string') {
        const info = await fetchUserinfo(meta.userinfo, accessToken);
        if (info.sub !== payload.sub) throw new SsoError('invalid_id_token', 'userinfo sub differs from the id_token');
        claims = { ...info, ...payload };
      }
      return { identity: mapClaims(config, claims, meta.issuer), next };
    },

    async endSessionUrl() {
      let meta: SsoProviderMetadata;
      try {
        ({ meta } = await resolve());
      } catch {
        return null;
      }
      if (!meta.endSession) return null;
      // No id_token_hint: the id_token is not kept and never goes to the browser; client_id identifies us.
      const url = new URL(meta.endSession);
      url.searchParams.set('client_id', config.clientId);
      url.searchParams.set('post_logout_redirect_uri', config.postLogoutRedirectUri);
      return url.toString();
    },
  };
}

/** Configured endpoints, completed from `<issuer>/.well-known/openid-configuration` when any is missing. */
export async function providerMetadata(config: SsoConfig): Promise<SsoProviderMetadata> {
  const e = config.endpoints;
  if (e.authorization && e.token && e.jwks) {
    return { issuer: config.issuer, authorization: e.authorization, token: e.token, jwks: e.jwks, userinfo: e.userinfo ?? null, endSession: e.endSession ?? null };
  }
  const url = `${config.issuer.replace(/\/$/, '')}/.well-known/openid-configuration`;
  const res = await fetch(url, { headers: { accept: 'application/json' }, signal: AbortSignal.timeout(HTTP_TIMEOUT_MS) });
  if (!res.ok) throw new Error(`discovery answered ${res.status}`);
  const doc = (await res.json()) as Record<string, unknown>;
  // OpenID Connect Discovery §4.3: the document must name exactly the configured issuer.
  if (doc.issuer !== config.issuer) throw new Error(`discovery issuer ${String(doc.issuer)} is not ${config.issuer}`);
  const str = (v: unknown) => (typeof v === 'string' && v ? v : undefined);
  const authorization = e.authorization ?? str(doc.authorization_endpoint);
  const token = e.token ?? str(doc.token_endpoint);
  const jwks = e.jwks ?? str(doc.jwks_uri);
  if (!authorization || !token || !jwks) throw new Error('discovery lacks authorization_endpoint, token_endpoint or jwks_uri');
  return {
    issuer: config.issuer,
    authorization,
    token,
    jwks,
    userinfo: e.userinfo ?? str(doc.userinfo_endpoint) ?? null,
    endSession: e.endSession ?? str(doc.end_session_endpoint) ?? null,
  };
}

async function fetchUserinfo(url: string, accessToken: string): Promise<Record<string, unknown>> {
  let res: Response;
  try {
    res = await fetch(url, { headers: { authorization: `Bearer ${accessToken}`, accept: 'application/json' }, signal: AbortSignal.timeout(HTTP_TIMEOUT_MS) });
  } catch (err) {
    throw new SsoError('provider_unavailable', `userinfo: ${(err as Error).message}`.slice(0, 200));
  }
  if (!res.ok) throw new SsoError('provider_error', `userinfo answered ${res.status}`);
  const body = (await res.json().catch(() => null)) as unknown;
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw new SsoError('provider_error', 'userinfo is not a JSON object');
  return body as Record<string, unknown>;
}

/** A claim by name, or by dotted path into nested objects (e.g. `realm_access.roles`). */
function claimValue(claims: Record<string, unknown>, name: string): unknown {
  if (name in claims) return claims[name];
  let v: unknown = claims;
  for (const part of name.split('.')) {
    if (!v || typeof v !== 'object') return undefined;
    v = (v as Record<string, unknown>)[part];
  }
  return v;
}

/** Whether a claim rule holds: one of its values is present, or (no values) the claim is true. */
export function ruleHolds(rule: ClaimRule, claims: Record<string, unknown>): boolean {
  const v = claimValue(claims, rule.claim);
  if (rule.values.length === 0) return v === true || v === 'true';
  const list = Array.isArray(v) ? v : typeof v === 'string' ? v.split(/[\s,]+/) : [];
  return list.some((x) => rule.values.includes(String(x)));
}

/** Turn verified claims into the fields of a local user, per the configured claim names. */
export function mapClaims(config: SsoConfig, claims: Record<string, unknown>, issuer: string): ExternalIdentity {
  const text = (name: string) => {
    const v = claimValue(claims, name);
    return typeof v === 'string' ? v.trim().slice(0, 150) : '';
  };
  const rawEmail = text(config.claims.email);
  const parsed = emailSchema.safeParse(rawEmail);
  // An address the provider itself says is unverified is not used to create an account.
  const email = parsed.success && claims.email_verified !== false ? parsed.data : null;
  const firstName = text(config.claims.givenName);
  const lastName = text(config.claims.familyName);
  const superuser = config.claims.superuser ? ruleHolds(config.claims.superuser, claims) : undefined;
  // A superuser is always staff; without a staff rule the flag is only ever raised, never lowered.
  const staff = config.claims.staff ? ruleHolds(config.claims.staff, claims) || superuser === true : superuser === true ? true : undefined;
  return {
    issuer,
    subject: String(claims.sub),
    email,
    firstName,
    lastName,
    displayName: text(config.claims.name) || [firstName, lastName].filter(Boolean).join(' '),
    ...(staff !== undefined ? { isStaff: staff } : {}),
    ...(superuser !== undefined ? { isSuperuser: superuser } : {}),
  };
}
