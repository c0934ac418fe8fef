/**
 * What every scenario works with: the profile, the load generator, starters for each contender (all
 * pinned to the server core), the shared SUT fixtures, result rows, and cleanup of the SUT's schema and
 * Redis keys however the run ends.
 */
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import path from 'node:path';
import { Redis } from 'ioredis';
import pg from 'pg';
import type { Profile } from '../profiles.ts';
import { startChild, type Child } from './proc.ts';
import type { Row } from './report.ts';

const here = path.dirname(new URL(import.meta.url).pathname);
const SERVERS = path.resolve(here, '../servers');

export const SERVER_CORE = 0;
export const GENERATOR_CORE = 1;

export interface BenchEnv {
  databaseUrl: string;
  redisUrl: string;
}

export interface ContenderOptions {
  env?: Record<string, string | undefined>;
}

export class BenchContext {
  readonly id = `${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
  readonly schema: string;
  readonly redisPrefix: string;
  /** One signing key for every SUT start: sessions and OAuth tokens made by fixtures stay valid. */
  readonly sessionKey = `bench-${randomBytes(24).toString('hex')}`;
  readonly rows: Row[] = [];
  /** Raw per-run results, keyed by scenario, written to the JSON file. */
  readonly raw: Record<string, unknown[]> = {};
  readonly skipped: Array<{ scenario: string; reason: string }> = [];
  gen!: Child;
  private readonly running = new Set<Child>();
  private readonly extraPrefixes: string[] = [];
  private n = 0;
  private sutPort: number | null = null;
  /** Cached SUT fixtures (users, conversations, tokens…), created once per invocation. */
  fixtures: Record<string, unknown> = {};
  /** Which product features the SUT build has. */
  features: Record<string, boolean> = {};
  /** B1's knee from S1 (messages/s), used by S2. */
  b1KneeRate: number | null = null;

  readonly profile: Profile;
  readonly env: BenchEnv;
  readonly cpuProf: string | null;

  constructor(profile: Profile, env: BenchEnv, cpuProf: string | null) {
    this.profile = profile;
    this.env = env;
    this.cpuProf = cpuProf;
    this.schema = `bench_${this.id}`;
    this.redisPrefix = `bench:${this.id}:`;
  }

  /** A unique tag for client message ids and idempotency keys. */
  tag(prefix: string): string {
    return `${prefix}${this.id}x${++this.n}`;
  }

  log(msg: string): void {
    const t = new Date().toISOString().slice(11, 19);
    process.stderr.write(`[bench ${t}] ${msg}\n`);
  }

  record(scenario: string, run: unknown): void {
    (this.raw[scenario] ??= []).push(run);
  }

  async startGenerator(): Promise<void> {
    this.gen = await startChild({ name: 'loadgen', script: path.resolve(here, '../loadgen/main.ts'), core: GENERATOR_CORE });
    this.running.add(this.gen);
  }

  private async start(name: string, script: string, env: Record<string, string | undefined>, profileName?: string): Promise<Child> {
    const execArgv = ['--expose-gc'];
    if (this.cpuProf && profileName) execArgv.push('--cpu-prof', `--cpu-prof-dir=${this.cpuProf}`, `--cpu-prof-name=${profileName}-${Date.now()}.cpuprofile`);
    const child = await startChild({ name, script, env, execArgv, core: SERVER_CORE, readyTimeoutMs: 120_000 });
    this.running.add(child);
    return child;
  }

  /** The product, started as in production: PostgreSQL, Redis (adapter on), NODE_ENV=production. */
  async startSut(opts: ContenderOptions = {}): Promise<Child> {
    // One port for every start: the OAuth issuer and token audience derive from PUBLIC_URL, so fixtures'
    // tokens only stay valid on the same URL.
    const port = (this.sutPort ??= await freePort());
    return this.start(
      'sut',
      path.join(SERVERS, 'sut.ts'),
      {
        NODE_ENV: 'production',
        HOST: '127.0.0.1',
        PORT: String(port),
        PUBLIC_URL: `http://127.0.0.1:${port}`,
        LOG_LEVEL: 'error',
        LOG_FORMAT: 'json',
        DATABASE_URL: this.env.databaseUrl,
        DATABASE_SCHEMA: this.schema,
        REDIS_URL: this.env.redisUrl,
        REDIS_PREFIX: this.redisPrefix,
        SESSION_KEYS: this.sessionKey,
        MIGRATE_ON_START: 'true',
        ...this.profile.sutEnv,
        ...opts.env,
      },
      this.cpuProf ? 'sut' : undefined,
    );
  }

  /** B1 (in-memory adapter) or B2 (the sharded Redis adapter on the same Redis). */
  async startSocketBaseline(adapter: 'memory' | 'redis' = 'memory'): Promise<Child> {
    const prefix = `${this.redisPrefix}b2:${++this.n}:`;
    if (adapter === 'redis') this.extraPrefixes.push(prefix);
    return this.start(
      adapter === 'redis' ? 'b2' : 'b1',
      path.join(SERVERS, 'baseline-socketio.ts'),
      { BENCH_ADAPTER: adapter, BENCH_REDIS_URL: this.env.redisUrl, BENCH_REDIS_PREFIX: prefix },
      this.cpuProf ? (adapter === 'redis' ? 'b2' : 'b1') : undefined,
    );
  }

  /** B3: bare node:http or bare Koa. */
  async startHttpBaseline(mode: 'http' | 'koa'): Promise<Child> {
    return this.start(mode, path.join(SERVERS, 'baseline-http.ts'), { BENCH_HTTP: mode }, this.cpuProf ? mode : undefined);
  }

  async stop(child: Child): Promise<void> {
    this.running.delete(child);
    await child.stop();
  }

  /** Stop every child, drop the SUT's schema and delete its Redis keys. Safe to call twice. */
  async cleanup(): Promise<void> {
    await Promise.allSettled([...this.running].map((c) => c.stop(5_000)));
    this.running.clear();
    const client = new pg.Client({ connectionString: this.env.databaseUrl });
    try {
      await client.connect();
      await client.query(`drop schema if exists "${this.schema}" cascade`);
    } catch (err) {
      this.log(`could not drop schema ${this.schema}: ${(err as Error).message}`);
    } finally {
      await client.end().catch(() => undefined);
    }
    const redis = new Redis(this.env.redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
    try {
      await redis.connect();
      let cursor = '0';
      let rounds = 0;
      do {
        const [next, keys] = await redis.scan(cursor, 'MATCH', `${this.redisPrefix}*`, 'COUNT', 1000);
        cursor = next;
        if (keys.length) await redis.del(...keys);
      } while (cursor !== '0' && ++rounds < 100_000);
    } catch (err) {
      this.log(`could not delete Redis keys ${this.redisPrefix}*: ${(err as Error).message}`);
    } finally {
      redis.disconnect();
    }
  }
}

/** A free TCP port on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
