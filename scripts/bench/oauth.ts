/**
 * `node scripts/bench/oauth.ts [--n 2000] [--concurrency 20]`: costs of the authorization server on the
 * local PostgreSQL (rate limits in memory): bearer verification (in process, the per-request
 * cost every API call pays), GET /api/me with a bearer token over HTTP, client-credentials token requests,
 * and confidential refreshes. Prints a table of throughput and latency percentiles; absolute numbers
 * depend on the machine, compare runs on the same one.
 */
import { parseArgs } from 'node:util';
import { buildConfig, readEnv } from '../../src/config.ts';
import { createServer } from '../../src/server.ts';

const { values } = parseArgs({ options: { n: { type: 'string', default: '2000' }, concurrency: { type: 'string', default: '20' } } });
const N = Number(values.n);
const C = Number(values.concurrency);
const env = readEnv();
const schema = `bench_oauth_${process.pid}`;
const config = buildConfig({
  ...env,
  NODE_ENV: 'production',
  PORT: '0',
  LOG_LEVEL: 'warn',
  LOG_FORMAT: 'json',
  DATABASE_URL: env.BENCH_DATABASE_URL ?? env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test',
  DATABASE_SCHEMA: schema,
  // Rate-limit counters in memory: nothing to clean up in a shared Redis.
  REDIS_URL: undefined,
  SESSION_KEYS: 'bench-session-key-0123456789abcdefghijklmnop',
  OAUTH_TOKEN_RATE_LIMIT: '100000000',
  OAUTH_TOKEN_MAX_FAILURES: '100000000',
});
const srv = await createServer(config);
const { services, oauthServer } = srv.app;

const pct = (xs: number[], p: number) => xs[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]!;
async function measure(name: string, n: number, fn: (i: number) => Promise<void>) {
  const lat: number[] = [];
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: C }, async () => {
      for (let i = next++; i < n; i = next++) {
        const s = performance.now();
        await fn(i);
        lat.push(performance.now() - s);
      }
    }),
  );
  const secs = (performance.now() - t0) / 1000;
  lat.sort((a, b) => a - b);
  console.log(`| ${name} | ${n} | ${(n / secs).toFixed(0)} | ${pct(lat, 50).toFixed(2)} | ${pct(lat, 99).toFixed(2)} |`);
}

try {
  const owner = await services.users.create({ email: `bench-${process.pid}@example.test`, password: null });
  const { client, clientSecret } = await services.oauth.createClient({ name: 'bench', grant_types: ['client_credentials'], owner_user_id: owner.id, scopes: ['read:messages'] });
  const basic = `Basic ${Buffer.from(`${client.clientId}:${clientSecret}`).toString('base64')}`;
  const ccToken = async () => {
    const r = await fetch(`${srv.url}/o/token/`, { method: 'POST', headers: { authorization: basic, 'content-type': 'application/x-www-form-urlencoded' }, body: 'grant_type=client_credentials&scope=read:messages' });
    if (r.status !== 200) throw new Error(`token ${r.status} ${await r.text()}`);
    return ((await r.json()) as { access_token: string }).access_token;
  };
  const tokens = await Promise.all(Array.from({ length: 50 }, ccToken));
  console.log(`\nOAuth costs, ${N} operations per row, concurrency ${C}, PostgreSQL\n`);
  console.log('| operation | n | ops/s | p50 ms | p99 ms |');
  console.log('| --- | --- | --- | --- | --- |');
  await measure('bearer verify (in process)', N, async (i) => {
    if (!(await oauthServer.bearer.verify(tokens[i % tokens.length]!))) throw new Error('verify failed');
  });
  await measure('GET /api/me with bearer (HTTP)', N, async (i) => {
    const r = await fetch(`${srv.url}/api/me`, { headers: { authorization: `Bearer ${tokens[i % tokens.length]}` } });
    await r.arrayBuffer();
    if (r.status !== 200) throw new Error(`me ${r.status}`);
  });
  await measure('POST /o/token/ client_credentials', Math.ceil(N / 4), async () => void (await ccToken()));
} finally {
  await srv.close();
  const pg = (await import('pg')).default;
  const c = new pg.Client({ connectionString: config.db.url });
  await c.connect();
  await c.query(`drop schema if exists "${schema}" cascade`);
  await c.end();
}
process.exit(0);
