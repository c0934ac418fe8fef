/**
 * `npm run bench -- --profile quick|full [--only S1,S4] [--cpu-prof] [--out DIR]`
 *
 * Runs the product (PostgreSQL + Redis, Redis adapter on, its own schema and key prefix) side by side with
 * baselines started here (raw Socket.IO, bare Koa, bare node:http), drives them from a load generator
 * pinned to the other core, and prints a ratio table. Writes `<out>/<time>-<profile>.json` (every run's
 * absolute numbers, the machine, the versions) and `.md` (the table). The SUT's schema and Redis keys are
 * removed at the end, also on Ctrl-C.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import pg from 'pg';
import { BenchContext, type BenchEnv } from './lib/context.ts';
import { canPin } from './lib/proc.ts';
import { markdownTable } from './lib/report.ts';
import { PROFILES, type Profile } from './profiles.ts';
import { s1, s2 } from './scenarios/fanout.ts';
import { s4, s5, s6 } from './scenarios/rest.ts';
import { s3 } from './scenarios/sockets.ts';

const SCENARIOS: Record<string, (ctx: BenchContext) => Promise<void>> = { S1: s1, S2: s2, S3: s3, S4: s4, S5: s5, S6: s6 };

const { values } = parseArgs({
  options: {
    profile: { type: 'string', default: 'quick' },
    only: { type: 'string' },
    'cpu-prof': { type: 'boolean', default: false },
    out: { type: 'string', default: 'bench-results' },
    help: { type: 'boolean', default: false },
  },
});

if (values.help) {
  process.stdout.write('npm run bench -- --profile quick|full [--only S1,S2,…] [--cpu-prof] [--out DIR]\n');
  process.exit(0);
}
const profile: Profile | undefined = PROFILES[values.profile as Profile['name']];
if (!profile) {
  process.stderr.write(`unknown profile ${values.profile} (quick or full)\n`);
  process.exit(2);
}
const only = values.only ? values.only.split(',').map((s) => s.trim().toUpperCase()) : Object.keys(SCENARIOS);
for (const s of only) {
  if (!SCENARIOS[s]) {
    process.stderr.write(`unknown scenario ${s} (S1…S6)\n`);
    process.exit(2);
  }
}

const env: BenchEnv = {
  databaseUrl: process.env.BENCH_DATABASE_URL ?? process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test',
  redisUrl: process.env.BENCH_REDIS_URL ?? process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
};
for (const [name, u] of Object.entries(env)) {
  const host = new URL(u).hostname;
  if (!['127.0.0.1', 'localhost', '::1', '[::1]'].includes(host)) {
    process.stderr.write(`${name} must point at a loopback address (got ${host}): the benchmark only runs on loopback\n`);
    process.exit(2);
  }
}

const outDir = path.resolve(values.out!);
mkdirSync(outDir, { recursive: true });
const cpuProfDir = values['cpu-prof'] ? path.join(outDir, 'profiles') : null;
if (cpuProfDir) mkdirSync(cpuProfDir, { recursive: true });

const ctx = new BenchContext(profile, env, cpuProfDir);

let cleaning: Promise<void> | null = null;
const cleanup = () => (cleaning ??= ctx.cleanup());
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    ctx.log(`${sig}: stopping and cleaning up`);
    void cleanup().finally(() => process.exit(130));
  });
}

function version(pkg: string): string | null {
  try {
    return JSON.parse(readFileSync(path.resolve('node_modules', pkg, 'package.json'), 'utf8')).version as string;
  } catch {
    return null;
  }
}

function sh(cmd: string, args: string[]): string | null {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return null;
  }
}

async function machine() {
  const c = new pg.Client({ connectionString: env.databaseUrl });
  await c.connect();
  const pgVersion = (await c.query('show server_version')).rows[0].server_version as string;
  await c.end();
  const r = new Redis(env.redisUrl);
  const info = await r.info('server');
  r.disconnect();
  return {
    nproc: os.availableParallelism(),
    cpu: os.cpus()[0]?.model ?? null,
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    loadAverageAtStart: os.loadavg().map((x) => Math.round(x * 100) / 100),
    pinned: canPin(),
    node: process.version,
    postgres: pgVersion,
    redis: /redis_version:(\S+)/.exec(info)?.[1] ?? null,
    kernel: os.release(),
    gitCommit: sh('git', ['rev-parse', '--short', 'HEAD']),
    packages: Object.fromEntries(
      ['socket.io', 'socket.io-client', '@socket.io/redis-adapter', 'ioredis', 'koa', '@koa/router', 'kysely', 'pg', 'ws', 'autocannon', 'hdr-histogram-js'].map((p) => [p, version(p)]),
    ),
  };
}

const started = new Date();
const t0 = performance.now();
let exitCode = 0;
let mach: Awaited<ReturnType<typeof machine>> | null = null;
try {
  mach = await machine();
  ctx.log(
    `profile ${profile.name}: ${only.join(', ')}; ${mach.nproc} CPUs, Node ${mach.node}, PostgreSQL ${mach.postgres}, Redis ${mach.redis}; ${mach.pinned ? 'servers on core 0, generator on core 1' : 'no pinning (taskset missing or one CPU)'}`,
  );
  await ctx.startGenerator();
  // One start of the SUT migrates its schema and tells which product features this build has.
  const sut = await ctx.startSut();
  ctx.features = await sut.call<Record<string, boolean>>('features');
  await ctx.stop(sut);
  ctx.log(`SUT features: ${Object.entries(ctx.features).map(([k, v]) => `${k}${v ? '' : ' (missing)'}`).join(', ')}`);
  for (const s of only) {
    const ts = performance.now();
    try {
      await SCENARIOS[s]!(ctx);
    } catch (err) {
      exitCode = 1;
      ctx.log(`${s} failed: ${(err as Error).stack ?? err}`);
      ctx.skipped.push({ scenario: s, reason: `failed: ${(err as Error).message.slice(0, 300)}` });
      await ctx.gen.call('closeAll').catch(() => undefined);
    }
    ctx.log(`${s} took ${((performance.now() - ts) / 1000).toFixed(1)} s`);
  }
} catch (err) {
  exitCode = 1;
  ctx.log(`bench failed: ${(err as Error).stack ?? err}`);
} finally {
  await cleanup();
}

const seconds = Math.round((performance.now() - t0) / 100) / 10;
const stamp = started.toISOString().replace(/[:.]/g, '-').slice(0, 19);
const base = path.join(outDir, `${stamp}-${profile.name}`);
const command = `npm run bench -- --profile ${profile.name}${values.only ? ` --only ${values.only}` : ''}${values['cpu-prof'] ? ' --cpu-prof' : ''}`;
const table = markdownTable(ctx.rows);
const skipped = ctx.skipped.map((s) => `- ${s.scenario}: ${s.reason}`).join('\n');
const md = [
  `# Benchmark ${profile.name} — ${started.toISOString()}`,
  '',
  `Command: \`${command}\` (${seconds} s)`,
  mach
    ? `Machine: ${mach.nproc} CPUs (${mach.cpu}), ${mach.memoryGiB} GiB, load average at start ${mach.loadAverageAtStart.join(' ')}; Node ${mach.node}, PostgreSQL ${mach.postgres}, Redis ${mach.redis}; ${mach.pinned ? 'servers pinned to core 0, generator to core 1' : 'not pinned'}; commit ${mach.gitCommit}`
    : '',
  '',
  table,
  skipped ? `\nNot measured:\n${skipped}` : '',
  '',
].join('\n');
writeFileSync(`${base}.json`, JSON.stringify({ command, profile, started, seconds, machine: mach, features: ctx.features, rows: ctx.rows, skipped: ctx.skipped, runs: ctx.raw }, null, 2));
writeFileSync(`${base}.md`, md);
process.stdout.write(`\n${md}\nWrote ${base}.json and ${base}.md\n`);
process.exit(exitCode);
