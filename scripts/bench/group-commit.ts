/**
 * `node scripts/bench/group-commit.ts [--n 4000] [--concurrency 64] [--conversations 1]`: message sends
 * through the messaging service on the local PostgreSQL, with group commit (MESSAGE_BATCH_MAX=200) and
 * without it (MESSAGE_BATCH_MAX=1: one transaction per send). The same N sends go into `conversations`
 * two-person conversations each time. Prints sends/s and latency percentiles from submit to commit. The
 * absolute numbers depend on the machine, so compare runs on the same one.
 */
import { parseArgs } from 'node:util';
import { buildConfig, readEnv } from '../../src/config.ts';
import { createServer } from '../../src/server.ts';

const { values } = parseArgs({
  options: { n: { type: 'string', default: '4000' }, concurrency: { type: 'string', default: '64' }, conversations: { type: 'string', default: '1' } },
});
const N = Number(values.n);
const C = Number(values.concurrency);
const K = Number(values.conversations);
const env = readEnv();
const pct = (xs: number[], p: number) => xs[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]!;

async function run(batchMax: number): Promise<void> {
  const schema = `bench_gc_${process.pid}_${batchMax}`;
  const config = buildConfig({
    ...env,
    NODE_ENV: 'production',
    PORT: '0',
    LOG_LEVEL: 'error',
    LOG_FORMAT: 'json',
    DATABASE_URL: env.BENCH_DATABASE_URL ?? env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test',
    DATABASE_SCHEMA: schema,
    REDIS_URL: undefined,
    SESSION_KEYS: 'bench-session-key-0123456789abcdefghijklmnop',
    MESSAGE_RATE_LIMIT: '100000000',
    MESSAGE_BATCH_MAX: String(batchMax),
  });
  const srv = await createServer(config, { listen: false });
  try {
    const { users, conversations, messages } = srv.app.services;
    const a = await users.create({ email: `a-${process.pid}@example.test`, password: null });
    const b = await users.create({ email: `b-${process.pid}@example.test`, password: null });
    const actor = { user: a, via: 'session' as const, scopes: null };
    const convs = await Promise.all(Array.from({ length: K }, (_, i) => conversations.create(actor, { participants: [b.id], title: `bench ${i}` })));
    const lat: number[] = [];
    let next = 0;
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: C }, async () => {
        for (let i = next++; i < N; i = next++) {
          const s = performance.now();
          await messages.send(actor, { conversationId: convs[i % K]!.conversation.id, body: `message ${i}` });
          lat.push(performance.now() - s);
        }
      }),
    );
    const secs = (performance.now() - t0) / 1000;
    lat.sort((x, y) => x - y);
    const last = await conversations.get(actor, convs[0]!.conversation.id);
    if (last.lastSeq !== Math.ceil(N / K)) throw new Error(`expected last_seq ${Math.ceil(N / K)}, got ${last.lastSeq}`);
    console.log(`| ${batchMax === 1 ? 'one transaction per send' : `group commit (≤ ${batchMax})`} | ${N} | ${(N / secs).toFixed(0)} | ${pct(lat, 50).toFixed(2)} | ${pct(lat, 99).toFixed(2)} |`);
  } finally {
    await srv.close();
    const pg = (await import('pg')).default;
    const c = new pg.Client({ connectionString: config.db.url });
    await c.connect();
    await c.query(`drop schema if exists "${schema}" cascade`);
    await c.end();
  }
}

console.log(`\nMessage sends, concurrency ${C}, ${K} conversation(s), PostgreSQL\n`);
console.log('| mode | sends | sends/s | p50 ms | p99 ms |');
console.log('| --- | --- | --- | --- | --- |');
await run(1);
await run(200);
process.exit(0);
