/**
 * Child processes of the benchmark: every contender and the load generator runs in its own Node process,
 * pinned to a core with `taskset` when the machine has one to spare, and driven over the IPC channel with
 * a small request/response protocol.
 */
import { execFileSync, fork, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';

interface RpcRequest {
  rpc: number;
  method: string;
  params: unknown;
}
interface RpcReply {
  rpc: number;
  result?: unknown;
  error?: string;
}

export type RpcHandlers = Record<string, (params: any) => unknown>;

/** Child side: answer the parent's calls with `handlers`; tell it we are ready with `info`. */
export function serveRpc(handlers: RpcHandlers, info: Record<string, unknown> = {}): void {
  if (!process.send) throw new Error('this script is started by scripts/bench/run.ts');
  process.on('message', (msg: RpcRequest) => {
    if (!msg || typeof msg.rpc !== 'number') return;
    const h = handlers[msg.method];
    const reply = (r: Omit<RpcReply, 'rpc'>) => process.send?.({ rpc: msg.rpc, ...r });
    if (!h) return reply({ error: `unknown method ${msg.method}` });
    Promise.resolve()
      .then(() => h(msg.params))
      .then(
        (result) => reply({ result: result ?? null }),
        (err: unknown) => reply({ error: err instanceof Error ? `${err.message}\n${err.stack ?? ''}` : String(err) }),
      );
  });
  // The orchestrator going away (crash, Ctrl-C) must not leave servers behind.
  process.on('disconnect', () => process.exit(0));
  process.send({ ready: true, ...info });
}

export interface Child {
  readonly name: string;
  readonly pid: number;
  readonly info: Record<string, unknown>;
  call<T = unknown>(method: string, params?: unknown, timeoutMs?: number): Promise<T>;
  /** Stop: ask nicely, then SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
  readonly proc: ChildProcess;
}

let tasksetChecked: boolean | null = null;
/** Whether `taskset` exists and there are at least two CPUs to separate server and generator. */
export function canPin(): boolean {
  if (tasksetChecked === null) {
    try {
      execFileSync('taskset', ['-p', String(process.pid)], { stdio: 'ignore' });
      tasksetChecked = os.availableParallelism() >= 2;
    } catch {
      tasksetChecked = false;
    }
  }
  return tasksetChecked;
}

/** Pin every thread of `pid` to `core` (no-op when pinning is not possible). */
export function pin(pid: number, core: number): boolean {
  if (!canPin()) return false;
  try {
    execFileSync('taskset', ['-a', '-p', '-c', String(core), String(pid)], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

export interface StartOptions {
  name: string;
  script: string;
  args?: string[];
  env?: Record<string, string | undefined>;
  execArgv?: string[];
  core?: number;
  /** How long to wait for the child's ready message. */
  readyTimeoutMs?: number;
}

/** Fork a Node script that calls `serveRpc`, pin it, and wait until it says it is ready. */
export async function startChild(opts: StartOptions): Promise<Child> {
  const proc = fork(opts.script, opts.args ?? [], {
    env: { ...process.env, ...opts.env },
    execArgv: opts.execArgv ?? [],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    serialization: 'advanced',
  });
  if (opts.core !== undefined) pin(proc.pid!, opts.core);
  const pending = new Map<number, { resolve: (v: any) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }>();
  let seq = 0;
  let exited = false;
  const info = await new Promise<Record<string, unknown>>((resolve, reject) => {
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`${opts.name} did not start within ${opts.readyTimeoutMs ?? 60_000} ms`));
    }, opts.readyTimeoutMs ?? 60_000);
    proc.on('message', (m: any) => {
      if (m?.ready) {
        clearTimeout(timer);
        resolve(m);
      } else if (typeof m?.rpc === 'number') {
        const p = pending.get(m.rpc);
        if (!p) return;
        pending.delete(m.rpc);
        clearTimeout(p.timer);
        if (m.error) p.reject(new Error(`${opts.name}: ${m.error}`));
        else p.resolve(m.result);
      }
    });
    proc.once('exit', (code, signal) => {
      exited = true;
      clearTimeout(timer);
      reject(new Error(`${opts.name} exited before it was ready (${signal ?? code})`));
      for (const p of pending.values()) {
        clearTimeout(p.timer);
        p.reject(new Error(`${opts.name} exited (${signal ?? code})`));
      }
      pending.clear();
    });
  });
  return {
    name: opts.name,
    pid: proc.pid!,
    info,
    proc,
    call<T>(method: string, params?: unknown, timeoutMs = 120_000) {
      if (exited) return Promise.reject(new Error(`${opts.name} is not running`));
      const rpc = ++seq;
      return new Promise<T>((resolve, reject) => {
        const timer = setTimeout(() => {
          pending.delete(rpc);
          reject(new Error(`${opts.name}.${method} timed out after ${timeoutMs} ms`));
        }, timeoutMs);
        pending.set(rpc, { resolve, reject, timer });
        proc.send({ rpc, method, params: params ?? null });
      });
    },
    async stop(graceMs = 10_000) {
      if (exited) return;
      await new Promise<void>((resolve) => {
        const kill = setTimeout(() => proc.kill('SIGKILL'), graceMs);
        proc.once('exit', () => {
          clearTimeout(kill);
          resolve();
        });
        proc.kill('SIGTERM');
      });
    },
  };
}

const CLK_TCK = 100;
/** CPU seconds (user + system) consumed so far by process `pid`, from /proc; null where unavailable. */
export function cpuSeconds(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may contain spaces) start after the last ')'.
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / CLK_TCK;
  } catch {
    return null;
  }
}

/** Measure the CPU share (1 = one core) of `pid` over an interval: call once to start, again to read. */
export function cpuMeter(pid: number): () => number | null {
  const c0 = cpuSeconds(pid);
  const t0 = performance.now();
  return () => {
    const c1 = cpuSeconds(pid);
    if (c0 === null || c1 === null) return null;
    const wall = (performance.now() - t0) / 1000;
    return wall > 0 ? Math.round(((c1 - c0) / wall) * 1000) / 1000 : null;
  };
}
