/**
 * Google Home Graph API client: Report State (`devices:reportStateAndNotification`) and Request Sync
 * (`devices:requestSync`), authenticated with a service-account key (an RS256 JWT signed with jose,
 * exchanged for an access token that is cached until shortly before it expires).
 *
 * Calls are fire-and-forget: they are queued per agent user and never block or fail the caller. Queued
 * reports for the same user are merged (the newest state of each device wins), failures (network, 401,
 * 429, 5xx) are retried with exponential backoff and logged, and a 404 (Google does not know this agent
 * user: never linked, or disconnected) stops retrying and is passed to `onNotFound`.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { importPKCS8, SignJWT } from 'jose';
import type { Logger } from '../logger.ts';

export const HOMEGRAPH_SCOPE = 'https://www.googleapis.com/auth/homegraph';
export const DEFAULT_TOKEN_URI = 'https://oauth2.googleapis.com/token';

/** The fields of a Google service-account JSON key that we use. */
export interface ServiceAccountKey {
  client_email: string;
  private_key: string;
  private_key_id?: string;
  token_uri?: string;
}

export type DeviceStates = Record<string, Record<string, unknown>>;

export interface HomeGraphClient {
  /** False when no credentials are configured: every call is a no-op. */
  readonly enabled: boolean;
  /** Queue a Report State for these devices (id → full state including `online`). */
  reportState(agentUserId: string, states: DeviceStates): void;
  /** Queue a Request Sync for the agent user (coalesced while one is waiting). */
  requestSync(agentUserId: string): void;
  /** Resolves once nothing is queued or in flight (tests, graceful shutdown). */
  idle(): Promise<void>;
  /** Stop: pending retries are dropped, in-flight calls aborted. */
  close(): Promise<void>;
}

export interface HomeGraphOptions {
  key: ServiceAccountKey;
  /** API base, `https://homegraph.googleapis.com` in production. */
  baseUrl: string;
  /** Attempts per call, first included. */
  maxAttempts: number;
  /** First retry delay; doubles each attempt (with jitter), capped at 5 minutes. */
  retryBaseMs: number;
  /** Per-request timeout. */
  timeoutMs?: number;
  logger: Logger;
  /** Google answered 404 for this agent user: it is not (or no longer) linked. */
  onNotFound?: (agentUserId: string) => void;
}

/** The client used when Home Graph is not configured. */
export const disabledHomeGraph: HomeGraphClient = {
  enabled: false,
  reportState: () => {},
  requestSync: () => {},
  idle: async () => {},
  close: async () => {},
};

type Kind = 'report' | 'sync';

interface Job {
  kind: Kind;
  agentUserId: string;
  states: DeviceStates;
}

interface Lane {
  running: Promise<void> | null;
  pending: Job | null;
}

class HttpFailure extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

/** Build a Home Graph client from a service-account key. */
export function createHomeGraphClient(opts: HomeGraphOptions): HomeGraphClient {
  const log = opts.logger.child({ subsystem: 'homegraph' });
  const base = opts.baseUrl.replace(/\/+$/, '');
  const tokenUri = opts.key.token_uri ?? DEFAULT_TOKEN_URI;
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const lanes = new Map<string, Lane>();
  const aborter = new AbortController();
  const timers = new Set<{ timer: NodeJS.Timeout; resolve: () => void }>();
  let closed = false;
  let cached: { token: string; expiresAt: number } | null = null;
  let fetching: Promise<string> | null = null;
  let signingKey: ReturnType<typeof importPKCS8> | null = null;

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const entry = {
        timer: setTimeout(() => {
          timers.delete(entry);
          resolve();
        }, ms),
        resolve,
      };
      timers.add(entry);
    });

  async function fetchToken(): Promise<string> {
    signingKey ??= importPKCS8(opts.key.private_key, 'RS256');
    const assertion = await new SignJWT({ scope: HOMEGRAPH_SCOPE })
      .setProtectedHeader({ alg: 'RS256', typ: 'JWT', ...(opts.key.private_key_id ? { kid: opts.key.private_key_id } : {}) })
      .setIssuer(opts.key.client_email)
      .setAudience(tokenUri)
      .setIssuedAt()
      .setExpirationTime('1h')
      .sign(await signingKey);
    const res = await fetch(tokenUri, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion }),
      signal: AbortSignal.any([aborter.signal, AbortSignal.timeout(timeoutMs)]),
    });
    const body = (await res.json().catch(() => ({}))) as { access_token?: unknown; expires_in?: unknown };
    if (!res.ok || typeof body.access_token !== 'string') throw new HttpFailure(res.status >= 400 && res.status < 500 && res.status !== 429 ? 0 : res.status, `token endpoint answered ${res.status}`);
    const ttl = typeof body.expires_in === 'number' ? body.expires_in : 3600;
    // Renew a minute early so a token never expires in flight.
    cached = { token: body.access_token, expiresAt: Date.now() + Math.max(0, ttl - 60) * 1000 };
    return body.access_token;
  }

  async function accessToken(): Promise<string> {
    if (cached && cached.expiresAt > Date.now()) return cached.token;
    fetching ??= fetchToken().finally(() => (fetching = null));
    return fetching;
  }

  async function call(job: Job): Promise<void> {
    const token = await accessToken();
    const path = job.kind === 'report' ? '/v1/devices:reportStateAndNotification' : '/v1/devices:requestSync';
    const body =
      job.kind === 'report'
        ? { requestId: randomUUID(), agentUserId: job.agentUserId, payload: { devices: { states: job.states } } }
        : { agentUserId: job.agentUserId, async: false };
    const res = await fetch(base + path, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify(body),
      signal: AbortSignal.any([aborter.signal, AbortSignal.timeout(timeoutMs)]),
    });
    await res.arrayBuffer().catch(() => undefined);
    if (res.ok) return;
    // A rejected token (revoked key, clock skew) is fetched anew on the next attempt.
    if (res.status === 401) cached = null;
    throw new HttpFailure(res.status, `${path} answered ${res.status}`);
  }

  const retryable = (status: number) => status === 0 || status === 401 || status === 408 || status === 429 || status >= 500;

  async function runJob(job: Job): Promise<void> {
    for (let attempt = 1; !closed; attempt++) {
      try {
        await call(job);
        log.debug({ kind: job.kind, agentUserId: job.agentUserId, attempt }, 'home graph call done');
        return;
      } catch (err) {
        if (closed) return;
        const status = err instanceof HttpFailure ? err.status : 0;
        if (status === 404) {
          log.info({ kind: job.kind, agentUserId: job.agentUserId }, 'home graph does not know this agent user; not retrying');
          const lane = lanes.get(`report:${job.agentUserId}`);
          if (lane) lane.pending = null;
          opts.onNotFound?.(job.agentUserId);
          return;
        }
        if (!retryable(status) || attempt >= opts.maxAttempts) {
          log.warn({ kind: job.kind, agentUserId: job.agentUserId, status, attempt, err: err instanceof HttpFailure ? undefined : err }, 'home graph call failed; giving up');
          return;
        }
        const delay = Math.min(300_000, opts.retryBaseMs * 2 ** (attempt - 1)) * (0.75 + Math.random() * 0.5);
        log.warn({ kind: job.kind, agentUserId: job.agentUserId, status, attempt, retryInMs: Math.round(delay) }, 'home graph call failed; retrying');
        await sleep(delay);
      }
    }
  }

  function pump(key: string, lane: Lane): void {
    if (lane.running || !lane.pending || closed) {
      if (!lane.running && !lane.pending) lanes.delete(key);
      return;
    }
    const job = lane.pending;
    lane.pending = null;
    lane.running = runJob(job).finally(() => {
      lane.running = null;
      pump(key, lane);
    });
  }

  function enqueue(job: Job): void {
    if (closed) return;
    const key = `${job.kind}:${job.agentUserId}`;
    let lane = lanes.get(key);
    if (!lane) lanes.set(key, (lane = { running: null, pending: null }));
    if (lane.pending) Object.assign(lane.pending.states, job.states);
    else lane.pending = job;
    pump(key, lane);
  }

  return {
    enabled: true,
    reportState(agentUserId, states) {
      if (Object.keys(states).length) enqueue({ kind: 'report', agentUserId, states: { ...states } });
    },
    requestSync(agentUserId) {
      enqueue({ kind: 'sync', agentUserId, states: {} });
    },
    async idle() {
      while (lanes.size && !closed) {
        await Promise.all([...lanes.values()].map((l) => l.running).filter(Boolean));
        for (const [k, l] of lanes) if (!l.running && !l.pending) lanes.delete(k);
      }
    },
    async close() {
      closed = true;
      for (const t of timers) {
        clearTimeout(t.timer);
        t.resolve();
      }
      timers.clear();
      aborter.abort();
      await Promise.allSettled([...lanes.values()].map((l) => l.running));
      lanes.clear();
    },
  };
}

/**
 * Parse a service-account key (the JSON Google's console downloads). Throws an Error naming what is wrong;
 * the message never contains the key itself.
 */
export function parseServiceAccountKey(json: string, where: string): ServiceAccountKey {
  let v: unknown;
  try {
    v = JSON.parse(json);
  } catch {
    throw new Error(`${where}: not valid JSON`);
  }
  const k = v as Partial<ServiceAccountKey> | null;
  if (!k || typeof k.client_email !== 'string' || typeof k.private_key !== 'string' || !k.private_key.includes('PRIVATE KEY')) {
    throw new Error(`${where}: not a service-account key (client_email and private_key are required)`);
  }
  if (k.token_uri !== undefined && typeof k.token_uri !== 'string') throw new Error(`${where}: token_uri must be a string`);
  return {
    client_email: k.client_email,
    private_key: k.private_key,
    ...(typeof k.private_key_id === 'string' ? { private_key_id: k.private_key_id } : {}),
    ...(k.token_uri ? { token_uri: k.token_uri } : {}),
  };
}

/**
 * The Home Graph client the configuration asks for: a real one when a service-account key is configured
 * (read from HOMEGRAPH_CREDENTIALS_FILE or HOMEGRAPH_CREDENTIALS), `disabledHomeGraph` otherwise. Throws
 * at start when the key cannot be read or is not a service-account key.
 */
export function homeGraphFromConfig(
  cfg: { credentialsFile: string | undefined; credentials: string | undefined; url: string; maxAttempts: number; retryBaseMs: number },
  logger: Logger,
  onNotFound?: (agentUserId: string) => void,
): HomeGraphClient {
  let key: ServiceAccountKey;
  if (cfg.credentialsFile) {
    let text: string;
    try {
      text = readFileSync(cfg.credentialsFile, 'utf8');
    } catch (err) {
      throw new Error(`HOMEGRAPH_CREDENTIALS_FILE: cannot read ${cfg.credentialsFile} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
    }
    key = parseServiceAccountKey(text, 'HOMEGRAPH_CREDENTIALS_FILE');
  } else if (cfg.credentials) {
    key = parseServiceAccountKey(cfg.credentials, 'HOMEGRAPH_CREDENTIALS');
  } else {
    logger.info('Home Graph not configured: Report State and Request Sync are off, SYNC says willReportState false');
    return disabledHomeGraph;
  }
  return createHomeGraphClient({ key, baseUrl: cfg.url, maxAttempts: cfg.maxAttempts, retryBaseMs: cfg.retryBaseMs, logger, ...(onNotFound ? { onNotFound } : {}) });
}
