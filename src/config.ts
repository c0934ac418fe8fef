/**
 * The one place that reads the environment. `loadConfig()` parses `process.env` (plus an optional `.env`
 * file) with zod once, at start, and returns a frozen, sectioned `Config`. Everything else receives the
 * `Config` (or a part of it) as an argument; tests build one with `buildConfig({...})`.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';

const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no', 'on', 'off'])
  .transform((v) => ['true', '1', 'yes', 'on'].includes(v));

const seconds = z.coerce.number().int().positive();

const csv = z
  .string()
  .transform((v) =>
    v
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
  );

/**
 * Every setting, its default and its meaning. README's configuration table mirrors this schema; keep the
 * two in step.
 */
export const envSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  HOST: z.string().default('127.0.0.1'),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  /** The URL people and clients use to reach this server; decides cookie security and the OAuth issuer. */
  PUBLIC_URL: z.url().optional(),
  /** Extra origins allowed to make cookie-authenticated calls and open sockets (comma separated). */
  ALLOWED_ORIGINS: csv.default([]),
  /** Trust X-Forwarded-* from one reverse proxy in front of the app. */
  TRUST_PROXY: bool.default(false),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** `pretty` for humans (default in development), `json` for machines (default otherwise). */
  LOG_FORMAT: z.enum(['json', 'pretty']).optional(),

  /** PostgreSQL connection string. Unset: embedded PGlite under DATA_DIR. */
  DATABASE_URL: z.string().min(1).optional(),
  /** PostgreSQL schema to use (search_path); tests give each file its own. */
  DATABASE_SCHEMA: z
    .string()
    .regex(/^[a-z_][a-z0-9_]*$/, 'lower-case identifier')
    .default('public'),
  DATABASE_POOL_MAX: z.coerce.number().int().min(1).max(200).default(10),
  DATA_DIR: z.string().default('./data'),
  /** Run pending migrations at start. */
  MIGRATE_ON_START: bool.default(true),

  /** Redis connection string. Unset: in-memory sessions, rate limits and broadcasts (one node only). */
  REDIS_URL: z.string().min(1).optional(),
  /** Prefix for every Redis key and channel this node uses. */
  REDIS_PREFIX: z.string().default('mb:'),

  /**
   * Comma-separated secrets for signing cookies, newest first (rotation keeps older ones valid).
   * Required in production; generated per process otherwise (sessions then end at restart).
   */
  SESSION_KEYS: csv.optional(),
  SESSION_IDLE_TIMEOUT: seconds.default(8 * 3600),
  SESSION_ABSOLUTE_TIMEOUT: seconds.default(7 * 24 * 3600),

  /** Failed sign-ins allowed per account+IP in LOGIN_RATE_WINDOW seconds before 429. */
  LOGIN_MAX_FAILURES_PER_ACCOUNT: z.coerce.number().int().positive().default(10),
  /** Failed sign-ins allowed per IP in LOGIN_RATE_WINDOW seconds before 429. */
  LOGIN_MAX_FAILURES_PER_IP: z.coerce.number().int().positive().default(100),
  LOGIN_RATE_WINDOW: seconds.default(3600),

  /** Largest accepted JSON/form body. */
  BODY_LIMIT: z.string().regex(/^\d+(b|kb|mb)$/i, 'e.g. 100kb').default('100kb'),
  /** Allow anyone to create an account with POST /api/users/. */
  ALLOW_REGISTRATION: bool.default(false),

  /** Largest Socket.IO packet in bytes; a bigger one closes the connection. */
  REALTIME_MAX_PACKET: z.coerce.number().int().min(1024).max(10_000_000).default(100_000),
  /** Largest event payload in bytes a socket handler accepts (bigger → error ack `payload_too_large`). */
  REALTIME_MAX_PAYLOAD: z.coerce.number().int().min(256).max(1_000_000).default(16_384),
  /** Inbound socket events allowed per socket per 10 seconds (all kinds together). */
  REALTIME_EVENTS_PER_10S: z.coerce.number().int().positive().default(200),
  /** Typing signals allowed per socket per 10 seconds (extra ones are dropped). */
  REALTIME_TYPING_PER_10S: z.coerce.number().int().positive().default(10),
  /** Seconds after which a typing indicator ends unless repeated. */
  REALTIME_TYPING_TTL: seconds.default(6),
  /** Seconds a presence entry lives without a heartbeat (a crashed node's sockets go offline after this). */
  PRESENCE_TTL: seconds.default(60),
  /** Seconds between re-checks of a connected socket's session or token. */
  REALTIME_REAUTH_INTERVAL: seconds.default(30),
  /** Longest wait (seconds) a long-poll GET /api/sync may ask for. */
  LONGPOLL_MAX_TIMEOUT: seconds.default(30),

  /** OpenID Connect issuer of the SSO provider. Setting it turns SSO on (needs client id and secret). */
  SSO_ISSUER: z.url().optional(),
  SSO_CLIENT_ID: z.string().min(1).optional(),
  SSO_CLIENT_SECRET: z.string().min(1).optional(),
  /** Explicit endpoints; any left unset come from the issuer's discovery document. */
  SSO_AUTHORIZATION_URL: z.url().optional(),
  SSO_TOKEN_URL: z.url().optional(),
  SSO_JWKS_URL: z.url().optional(),
  SSO_USERINFO_URL: z.url().optional(),
  SSO_END_SESSION_URL: z.url().optional(),
  /** Scopes to request (space or comma separated); must include openid. */
  SSO_SCOPES: z
    .string()
    .default('openid email profile')
    .transform((v) => v.split(/[\s,]+/).filter(Boolean))
    .refine((v) => v.includes('openid'), 'must include openid'),
  SSO_TOKEN_AUTH_METHOD: z.enum(['client_secret_basic', 'client_secret_post']).default('client_secret_basic'),
  /** Where the provider sends the browser back; must be registered at the provider. */
  SSO_REDIRECT_URI: z.url().optional(),
  /** Where the provider sends the browser after RP-initiated logout; must be registered at the provider. */
  SSO_POST_LOGOUT_REDIRECT_URI: z.url().optional(),
  /** Name on the sign-in button ("Sign in with …"). */
  SSO_DISPLAY_NAME: z.string().min(1).max(60).default('single sign-on'),
  SSO_EMAIL_CLAIM: z.string().min(1).default('email'),
  SSO_GIVEN_NAME_CLAIM: z.string().min(1).default('given_name'),
  SSO_FAMILY_NAME_CLAIM: z.string().min(1).default('family_name'),
  SSO_NAME_CLAIM: z.string().min(1).default('name'),
  /** Claim that decides the staff flag on every sign-in (e.g. groups); unset: SSO leaves the flag alone. */
  SSO_STAFF_CLAIM: z.string().min(1).optional(),
  /** Values of SSO_STAFF_CLAIM that mean staff (comma separated); unset: the claim must be boolean true. */
  SSO_STAFF_VALUES: csv.optional(),
  SSO_SUPERUSER_CLAIM: z.string().min(1).optional(),
  SSO_SUPERUSER_VALUES: csv.optional(),

  /** Seconds after which an unacknowledged device command expires (is no longer delivered). */
  DEVICE_COMMAND_TTL: seconds.default(600),
  /** Seconds read and expired device messages are kept before cleanup deletes them. */
  DEVICE_MESSAGE_RETENTION: seconds.default(7 * 24 * 3600),
  /** Seconds between cleanups in the process; 0 leaves cleanup to `npm run clearmessages` (cron). */
  DEVICE_MESSAGE_CLEANUP_INTERVAL: z.coerce.number().int().min(0).default(3600),
  /** Longest long-poll wait a device may ask for (seconds); longer requests are cut to this. */
  DEVICE_POLL_MAX_WAIT: z.coerce.number().int().min(0).max(110).default(60),
  /** A device neither polling nor reporting for this many seconds counts as offline. */
  DEVICE_OFFLINE_AFTER: z.coerce.number().int().min(30).default(300),
  /** Polls allowed per user per minute before 429. */
  DEVICE_POLL_RATE_LIMIT: z.coerce.number().int().positive().default(600),
  /** Devices one user may register. */
  DEVICE_MAX_PER_USER: z.coerce.number().int().positive().default(500),

  /** OAuth access token lifetime (seconds); clients may override. */
  OAUTH_ACCESS_TOKEN_TTL: seconds.default(3600),
  /** OAuth refresh token lifetime (seconds, sliding: each rotation starts a new period); clients may override. */
  OAUTH_REFRESH_TOKEN_TTL: seconds.default(7 * 24 * 3600),
  /** Absolute cap (seconds) on a refresh token family, counted from the first authorization. */
  OAUTH_REFRESH_TOKEN_MAX_LIFETIME: seconds.default(365 * 24 * 3600),
  /** How long a rotated-out refresh token of a confidential client still yields its successor (seconds). */
  OAUTH_REFRESH_GRACE: z.coerce.number().int().min(0).max(600).default(60),
  /** Authorization code lifetime (seconds). */
  OAUTH_CODE_TTL: z.coerce.number().int().min(10).max(600).default(60),
  /** Device code / user code lifetime (seconds). */
  OAUTH_DEVICE_CODE_TTL: z.coerce.number().int().min(60).max(3600).default(600),
  /** Requests per IP per minute to the token, revocation, introspection and device endpoints before 429. */
  OAUTH_TOKEN_RATE_LIMIT: z.coerce.number().int().positive().default(120),
  /** Failed client authentications at the token, revocation and introspection endpoints per IP in 10 minutes before 429. */
  OAUTH_TOKEN_MAX_FAILURES: z.coerce.number().int().positive().default(30),
  /** Seconds between sweeps of expired OAuth codes, tokens and sessions (0 = never). */
  OAUTH_CLEANUP_INTERVAL: z.coerce.number().int().min(0).default(3600),
  /** Milliseconds a node reuses a successful access-token verification (0 = look up every time). */
  OAUTH_BEARER_CACHE_MS: z.coerce.number().int().min(0).max(60_000).default(5000),

  /** Messages a user may send, edit or delete per minute (every node together, with Redis). */
  MESSAGE_RATE_LIMIT: z.coerce.number().int().positive().default(600),
  /** Most sends written by one group-commit transaction. */
  MESSAGE_BATCH_MAX: z.coerce.number().int().min(1).max(5000).default(200),
  /** Milliseconds a send waits for others to share its transaction (0: those arriving in the same tick). */
  MESSAGE_BATCH_WINDOW_MS: z.coerce.number().int().min(0).max(1000).default(0),
  /** Google service-account JSON key (file path) for Home Graph: enables Report State and Request Sync. */
  HOMEGRAPH_CREDENTIALS_FILE: z.string().min(1).optional(),
  /** The same key inline (the JSON text), for platforms that pass secrets as variables. */
  HOMEGRAPH_CREDENTIALS: z.string().min(1).optional(),
  /** Home Graph API base URL. */
  HOMEGRAPH_URL: z.url().default('https://homegraph.googleapis.com'),
  /** Attempts per Home Graph call (first included) before giving up. */
  HOMEGRAPH_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(20).default(6),
  /** First retry delay in milliseconds; doubles per attempt. */
  HOMEGRAPH_RETRY_BASE_MS: z.coerce.number().int().min(1).default(1000),
  /** Wrong smart-home PINs allowed per device before its challenge is locked. */
  SMARTHOME_PIN_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(100).default(5),
  /** Seconds a device's PIN challenge stays locked after too many wrong PINs. */
  SMARTHOME_PIN_LOCKOUT: seconds.default(900),
});

export type Env = z.input<typeof envSchema>;

export interface Config {
  readonly env: 'development' | 'production' | 'test';
  readonly http: {
    readonly host: string;
    readonly port: number;
    /** Origin of PUBLIC_URL, or http://HOST:PORT. */
    readonly publicUrl: string;
    readonly secure: boolean;
    readonly allowedOrigins: readonly string[];
    readonly trustProxy: boolean;
    readonly bodyLimit: string;
  };
  readonly log: { readonly level: string; readonly pretty: boolean };
  readonly db: {
    readonly url: string | undefined;
    readonly schema: string;
    readonly poolMax: number;
    readonly dataDir: string;
    readonly migrateOnStart: boolean;
  };
  readonly redis: { readonly url: string | undefined; readonly prefix: string };
  readonly session: {
    readonly keys: readonly string[];
    readonly keysGenerated: boolean;
    readonly cookieName: string;
    readonly idleTimeoutMs: number;
    readonly absoluteTimeoutMs: number;
  };
  readonly loginLimits: {
    readonly perAccount: number;
    readonly perIp: number;
    readonly windowSeconds: number;
  };
  readonly features: { readonly allowRegistration: boolean };
  readonly realtime: {
    readonly maxPacketBytes: number;
    readonly maxPayloadBytes: number;
    readonly eventsPer10s: number;
    readonly typingPer10s: number;
    readonly typingTtlMs: number;
    readonly presenceTtlMs: number;
    readonly reauthIntervalMs: number;
    readonly longPollMaxMs: number;
  };
  readonly devices: {
    readonly commandTtlSeconds: number;
    readonly retentionSeconds: number;
    readonly cleanupIntervalSeconds: number;
    readonly pollMaxWaitSeconds: number;
    readonly offlineAfterSeconds: number;
    readonly pollRatePerMinute: number;
    readonly maxPerUser: number;
  };
  readonly oauth: {
    readonly accessTokenTtl: number;
    readonly refreshTokenTtl: number;
    readonly refreshTokenMaxLifetime: number;
    readonly refreshGrace: number;
    readonly codeTtl: number;
    readonly deviceCodeTtl: number;
    readonly tokenRateLimit: number;
    readonly tokenMaxFailures: number;
    readonly cleanupInterval: number;
    readonly bearerCacheMs: number;
  };
  /** null when SSO_ISSUER is not set. */
  readonly sso: SsoConfig | null;
  readonly messaging: {
    readonly ratePerMinute: number;
    readonly batchMax: number;
    readonly batchWindowMs: number;
  };
  readonly smarthome: {
    readonly homegraph: {
      /** Path of the service-account key file, or undefined. */
      readonly credentialsFile: string | undefined;
      /** Inline service-account key JSON, or undefined. */
      readonly credentials: string | undefined;
      readonly url: string;
      readonly maxAttempts: number;
      readonly retryBaseMs: number;
    };
    readonly pinMaxAttempts: number;
    readonly pinLockoutMs: number;
  };
}

/** A claim that sets a flag: true when it holds one of `values` (or is boolean true when `values` is empty). */
export interface ClaimRule {
  readonly claim: string;
  readonly values: readonly string[];
}

export interface SsoConfig {
  readonly issuer: string;
  readonly clientId: string;
  readonly clientSecret: string;
  /** Explicitly configured endpoints; missing ones are discovered. */
  readonly endpoints: {
    readonly authorization?: string;
    readonly token?: string;
    readonly jwks?: string;
    readonly userinfo?: string;
    readonly endSession?: string;
  };
  readonly scopes: readonly string[];
  readonly tokenAuthMethod: 'client_secret_basic' | 'client_secret_post';
  readonly redirectUri: string;
  readonly postLogoutRedirectUri: string;
  readonly displayName: string;
  readonly claims: {
    readonly email: string;
    readonly givenName: string;
    readonly familyName: string;
    readonly name: string;
    readonly staff: ClaimRule | null;
    readonly superuser: ClaimRule | null;
  };
}

/** Thrown when the environment does not describe a valid configuration; names every bad variable. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Parse a set of variables into a Config. Pure: reads nothing but its argument. */
export function buildConfig(vars: Record<string, string | undefined>): Config {
  const cleaned = Object.fromEntries(Object.entries(vars).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = envSchema.safeParse(cleaned);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.') || '(env)'}: ${i.message}`);
    throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}`);
  }
  const e = parsed.data;
  const publicUrl = new URL(e.PUBLIC_URL ?? `http://${e.HOST.includes(':') ? `[${e.HOST}]` : e.HOST}:${e.PORT}`);
  const secure = publicUrl.protocol === 'https:';
  if (e.NODE_ENV === 'production' && !e.SESSION_KEYS?.length) {
    throw new ConfigError('Invalid configuration:\n  SESSION_KEYS: required in production');
  }
  for (const k of e.SESSION_KEYS ?? []) {
    if (k.length < 32) throw new ConfigError('Invalid configuration:\n  SESSION_KEYS: each key needs 32+ characters');
  }
  if (e.DEVICE_OFFLINE_AFTER <= e.DEVICE_POLL_MAX_WAIT) {
    throw new ConfigError('Invalid configuration:\n  DEVICE_OFFLINE_AFTER: must be longer than DEVICE_POLL_MAX_WAIT (a waiting device stays online)');
  }
  if (e.HOMEGRAPH_CREDENTIALS_FILE && e.HOMEGRAPH_CREDENTIALS) {
    throw new ConfigError('Invalid configuration:\n  HOMEGRAPH_CREDENTIALS: set either HOMEGRAPH_CREDENTIALS or HOMEGRAPH_CREDENTIALS_FILE, not both');
  }
  const keysGenerated = !e.SESSION_KEYS?.length;
  const keys = keysGenerated ? [randomKey()] : e.SESSION_KEYS!;
  const origin = publicUrl.origin;
  const sso = buildSsoConfig(e, origin);
  return deepFreeze({
    env: e.NODE_ENV,
    http: {
      host: e.HOST,
      port: e.PORT,
      publicUrl: origin,
      secure,
      allowedOrigins: [...new Set([origin, ...e.ALLOWED_ORIGINS.map((o) => new URL(o).origin)])],
      trustProxy: e.TRUST_PROXY,
      bodyLimit: e.BODY_LIMIT,
    },
    log: { level: e.LOG_LEVEL, pretty: (e.LOG_FORMAT ?? (e.NODE_ENV === 'development' ? 'pretty' : 'json')) === 'pretty' },
    db: {
      url: e.DATABASE_URL,
      schema: e.DATABASE_SCHEMA,
      poolMax: e.DATABASE_POOL_MAX,
      dataDir: path.resolve(e.DATA_DIR),
      migrateOnStart: e.MIGRATE_ON_START,
    },
    redis: { url: e.REDIS_URL, prefix: e.REDIS_PREFIX },
    session: {
      keys,
      keysGenerated,
      // The __Host- prefix requires Secure, which browsers only honour over https.
      cookieName: secure ? '__Host-sid' : 'sid',
      idleTimeoutMs: e.SESSION_IDLE_TIMEOUT * 1000,
      absoluteTimeoutMs: e.SESSION_ABSOLUTE_TIMEOUT * 1000,
    },
    loginLimits: {
      perAccount: e.LOGIN_MAX_FAILURES_PER_ACCOUNT,
      perIp: e.LOGIN_MAX_FAILURES_PER_IP,
      windowSeconds: e.LOGIN_RATE_WINDOW,
    },
    features: { allowRegistration: e.ALLOW_REGISTRATION },
    realtime: {
      maxPacketBytes: e.REALTIME_MAX_PACKET,
      maxPayloadBytes: e.REALTIME_MAX_PAYLOAD,
      eventsPer10s: e.REALTIME_EVENTS_PER_10S,
      typingPer10s: e.REALTIME_TYPING_PER_10S,
      typingTtlMs: e.REALTIME_TYPING_TTL * 1000,
      presenceTtlMs: e.PRESENCE_TTL * 1000,
      reauthIntervalMs: e.REALTIME_REAUTH_INTERVAL * 1000,
      longPollMaxMs: e.LONGPOLL_MAX_TIMEOUT * 1000,
    },
    sso,
    devices: {
      commandTtlSeconds: e.DEVICE_COMMAND_TTL,
      retentionSeconds: e.DEVICE_MESSAGE_RETENTION,
      cleanupIntervalSeconds: e.DEVICE_MESSAGE_CLEANUP_INTERVAL,
      pollMaxWaitSeconds: e.DEVICE_POLL_MAX_WAIT,
      offlineAfterSeconds: e.DEVICE_OFFLINE_AFTER,
      pollRatePerMinute: e.DEVICE_POLL_RATE_LIMIT,
      maxPerUser: e.DEVICE_MAX_PER_USER,
      },
    oauth: {
      accessTokenTtl: e.OAUTH_ACCESS_TOKEN_TTL,
      refreshTokenTtl: e.OAUTH_REFRESH_TOKEN_TTL,
      refreshTokenMaxLifetime: e.OAUTH_REFRESH_TOKEN_MAX_LIFETIME,
      refreshGrace: e.OAUTH_REFRESH_GRACE,
      codeTtl: e.OAUTH_CODE_TTL,
      deviceCodeTtl: e.OAUTH_DEVICE_CODE_TTL,
      tokenRateLimit: e.OAUTH_TOKEN_RATE_LIMIT,
      tokenMaxFailures: e.OAUTH_TOKEN_MAX_FAILURES,
      cleanupInterval: e.OAUTH_CLEANUP_INTERVAL,
      bearerCacheMs: e.OAUTH_BEARER_CACHE_MS,
    },
    messaging: {
      ratePerMinute: e.MESSAGE_RATE_LIMIT,
      batchMax: e.MESSAGE_BATCH_MAX,
      batchWindowMs: e.MESSAGE_BATCH_WINDOW_MS,
    },
    smarthome: {
      homegraph: {
        credentialsFile: e.HOMEGRAPH_CREDENTIALS_FILE ? path.resolve(e.HOMEGRAPH_CREDENTIALS_FILE) : undefined,
        credentials: e.HOMEGRAPH_CREDENTIALS,
        url: e.HOMEGRAPH_URL,
        maxAttempts: e.HOMEGRAPH_MAX_ATTEMPTS,
        retryBaseMs: e.HOMEGRAPH_RETRY_BASE_MS,
      },
      pinMaxAttempts: e.SMARTHOME_PIN_MAX_ATTEMPTS,
      pinLockoutMs: e.SMARTHOME_PIN_LOCKOUT * 1000,
    },
  });
}

function buildSsoConfig(e: z.output<typeof envSchema>, origin: string): SsoConfig | null {
  const fail = (msg: string): never => {
    throw new ConfigError(`Invalid configuration:\n  ${msg}`);
  };
  if (!e.SSO_ISSUER) {
    if (e.SSO_CLIENT_ID || e.SSO_CLIENT_SECRET) fail('SSO_ISSUER: required when SSO_CLIENT_ID or SSO_CLIENT_SECRET is set');
    return null;
  }
  if (!e.SSO_CLIENT_ID) fail('SSO_CLIENT_ID: required when SSO_ISSUER is set');
  if (!e.SSO_CLIENT_SECRET) fail('SSO_CLIENT_SECRET: required when SSO_ISSUER is set');
  if (e.NODE_ENV === 'production' && !e.SSO_ISSUER.startsWith('https://')) fail('SSO_ISSUER: must be https in production');
  const rule = (claim: string | undefined, values: string[] | undefined): ClaimRule | null => (claim ? { claim, values: values ?? [] } : null);
  return {
    issuer: e.SSO_ISSUER,
    clientId: e.SSO_CLIENT_ID!,
    clientSecret: e.SSO_CLIENT_SECRET!,
    endpoints: {
      ...(e.SSO_AUTHORIZATION_URL ? { authorization: e.SSO_AUTHORIZATION_URL } : {}),
      ...(e.SSO_TOKEN_URL ? { token: e.SSO_TOKEN_URL } : {}),
      ...(e.SSO_JWKS_URL ? { jwks: e.SSO_JWKS_URL } : {}),
      ...(e.SSO_USERINFO_URL ? { userinfo: e.SSO_USERINFO_URL } : {}),
      ...(e.SSO_END_SESSION_URL ? { endSession: e.SSO_END_SESSION_URL } : {}),
    },
    scopes: e.SSO_SCOPES,
    tokenAuthMethod: e.SSO_TOKEN_AUTH_METHOD,
    redirectUri: e.SSO_REDIRECT_URI ?? `${origin}/auth/callback/`,
    postLogoutRedirectUri: e.SSO_POST_LOGOUT_REDIRECT_URI ?? `${origin}/home/`,
    displayName: e.SSO_DISPLAY_NAME,
    claims: {
      email: e.SSO_EMAIL_CLAIM,
      givenName: e.SSO_GIVEN_NAME_CLAIM,
      familyName: e.SSO_FAMILY_NAME_CLAIM,
      name: e.SSO_NAME_CLAIM,
      staff: rule(e.SSO_STAFF_CLAIM, e.SSO_STAFF_VALUES),
      superuser: rule(e.SSO_SUPERUSER_CLAIM, e.SSO_SUPERUSER_VALUES),
    },
  };
}

/**
 * Read the process environment (and `.env` in the working directory, when present, without overriding
 * variables already set) and build the Config. The only function in the code base that touches
 * `process.env`.
 */
export function loadConfig(overrides: Record<string, string | undefined> = {}): Config {
  const envFile = path.resolve('.env');
  const fromFile: Record<string, string> = {};
  if (existsSync(envFile)) {
    const before = { ...process.env };
    process.loadEnvFile(envFile);
    for (const [k, v] of Object.entries(process.env)) if (before[k] === undefined && v !== undefined) fromFile[k] = v;
  }
  return buildConfig({ ...fromFile, ...process.env, ...overrides });
}

/** A copy of the process environment, for callers that layer their own defaults (the test harness). */
export function readEnv(): Record<string, string | undefined> {
  return { ...process.env };
}

function randomKey(): string {
  return Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString('base64url');
}

function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object') {
    for (const v of Object.values(o)) deepFreeze(v);
    Object.freeze(o);
  }
  return o;
}
