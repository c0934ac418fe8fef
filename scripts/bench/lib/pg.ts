/**
 * PostgreSQL's own single-row commit rate, measured in the same run as the durable ceiling for sends:
 * one client inserting one message-shaped row per transaction (fsync per commit, as configured). Uses
 * `pgbench` when installed (Debian `postgresql-client`), else an equivalent loop over `pg`.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { canPin } from './proc.ts';

export interface CommitRate {
  tool: 'pgbench' | 'pg-loop';
  clients: number;
  seconds: number;
  commitsPerSec: number;
  synchronousCommit: string;
  fsync: string;
}

const TABLE = 'bench_commit_probe';

async function withClient<T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { env, timeout: timeoutMs, maxBuffer: 1 << 20 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${cmd}: ${err.message}\n${stderr}`));
      else resolve(stdout + stderr);
    });
  });
}

/**
 * Measure commits/s of single-row INSERTs into a message-like table in `schema` for `seconds`, with
 * `clients` concurrent sessions (1 = the serial ceiling). The table is created and dropped here.
 */
export async function pgCommitRate(url: string, schema: string, seconds: number, clients = 1, core?: number): Promise<CommitRate> {
  const settings = await withClient(url, async (c) => {
    await c.query(`create schema if not exists "${schema}"`);
    await c.query(`drop table if exists "${schema}".${TABLE}`);
    await c.query(
      `create table "${schema}".${TABLE} (id bigserial primary key, conversation_id bigint not null, seq bigint not null, body text not null, created_at timestamptz not null default now())`,
    );
    await c.query(`create index on "${schema}".${TABLE} (conversation_id, seq)`);
    const sc = (await c.query('show synchronous_commit')).rows[0].synchronous_commit as string;
    const fs = (await c.query('show fsync')).rows[0].fsync as string;
    return { sc, fs };
  });
  try {
    const result = await pgbench(url, schema, seconds, clients, core).catch(() => null);
    const rate = result ?? (await loop(url, schema, seconds, clients));
    return { ...rate, clients, seconds, synchronousCommit: settings.sc, fsync: settings.fs };
  } finally {
    await withClient(url, (c) => c.query(`drop table if exists "${schema}".${TABLE}`)).catch(() => undefined);
  }
}

async function pgbench(url: string, schema: string, seconds: number, clients: number, core?: number) {
  const u = new URL(url);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'mb-pgbench-'));
  try {
    const script = path.join(dir, 'insert.sql');
    writeFileSync(script, `\\set c random(1, 1000)\ninsert into ${TABLE} (conversation_id, seq, body) values (:c, :c, repeat('x', 200));\n`);
    const args = ['-n', '-c', String(clients), '-j', String(Math.min(clients, 2)), '-T', String(seconds), '-f', script];
    args.push('-h', u.hostname, '-p', u.port || '5432', '-U', decodeURIComponent(u.username || 'postgres'), u.pathname.slice(1) || 'postgres');
    const env = { ...process.env, PGOPTIONS: `-c search_path=${schema}`, ...(u.password ? { PGPASSWORD: decodeURIComponent(u.password) } : {}) };
    const [cmd, argv] = core !== undefined && canPin() ? ['taskset', ['-c', String(core), 'pgbench', ...args]] : ['pgbench', args];
    const out = await run(cmd as string, argv as string[], env, (seconds + 30) * 1000);
    const m = /tps = ([\d.]+)/.exec(out);
    if (!m) throw new Error(`pgbench printed no tps:\n${out}`);
    return { tool: 'pgbench' as const, commitsPerSec: Math.round(Number(m[1])) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function loop(url: string, schema: string, seconds: number, clients: number) {
  const until = performance.now() + seconds * 1000;
  const maxPerClient = 10_000_000;
  const counts = await Promise.all(
    Array.from({ length: clients }, () =>
      withClient(url, async (c) => {
        await c.query(`set search_path to "${schema}"`);
        let n = 0;
        while (performance.now() < until && n < maxPerClient) {
          const cid = 1 + Math.floor(Math.random() * 1000);
          await c.query(`insert into ${TABLE} (conversation_id, seq, body) values ($1, $1, repeat('x', 200))`, [cid]);
          n++;
        }
        return n;
      }),
    ),
  );
  return { tool: 'pg-loop' as const, commitsPerSec: Math.round(counts.reduce((a, b) => a + b, 0) / seconds) };
}
