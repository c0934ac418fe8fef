/**
 * The load generator: one Node process, pinned to its own core by the orchestrator, driven over IPC.
 * It holds the sockets (minimal Engine.IO clients), runs open-loop senders at a fixed Poisson rate with
 * the intended send time stamped in the payload, runs autocannon and open-loop HTTP, parks long-polls,
 * and reports its own CPU and event-loop delay so a run where it saturated can be flagged invalid.
 */
import http from 'node:http';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import autocannon from 'autocannon';
import { encode, newHistogram, recordMs, type Histogram } from '../lib/hist.ts';
import { serveRpc } from '../lib/proc.ts';
import type { GeneratorHealth } from '../lib/stats.ts';
import { EioSocket, eventPayload } from './eio-client.ts';
import { conversationOf, deliveredUpTo, readStamp, readTextStamp, stampedBody } from './protocol.ts';

const now = () => performance.timeOrigin + performance.now();

/** Loopback source addresses, so that many sockets do not exhaust one address's ephemeral ports. */
const LOCAL_ADDRESSES = ['127.0.0.2', '127.0.0.3', '127.0.0.4', '127.0.0.5', '127.0.0.6', '127.0.0.7', '127.0.0.8', '127.0.0.9'];

// ---------------------------------------------------------------------------------------------------------
// Self-measurement

function healthMeter(maxLag: () => number = () => 0): () => GeneratorHealth {
  const eld = monitorEventLoopDelay({ resolution: 5 });
  eld.enable();
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  return () => {
    eld.disable();
    const c = process.cpuUsage(c0);
    const wallUs = (performance.now() - t0) * 1000;
    return {
      // Below 100 ms of wall time the ratio says nothing (GC and worker threads count too).
      cpu: wallUs > 100_000 ? Math.round(((c.user + c.system) / wallUs) * 1000) / 1000 : 0,
      eventLoopP99Ms: Math.round(eld.percentile(99) / 1e4) / 100,
      maxLagMs: Math.round(maxLag() * 100) / 100,
    };
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Exponential inter-arrival time (ms) of a Poisson process at `rate` per second. */
function poissonGapMs(rate: number): number {
  return (-Math.log(1 - Math.random()) / rate) * 1000;
}

// ---------------------------------------------------------------------------------------------------------
// Sockets

interface ClientSpec {
  auth?: Record<string, unknown>;
  headers?: Record<string, string>;
}

interface Client {
  idx: number;
  sock: EioSocket;
}

let clients: Client[] = [];

interface ConnectParams {
  url: string;
  clients: ClientSpec[];
  /** Parallel handshakes in flight. */
  concurrency?: number;
  timeoutMs?: number;
}

/** Open sockets for `clients` (appended to the ones already open). */
async function connect(p: ConnectParams) {
  const base = clients.length;
  const concurrency = Math.max(1, Math.min(p.concurrency ?? 100, 1000));
  const errors = new Map<string, number>();
  let ok = 0;
  let next = 0;
  const t0 = performance.now();
  const worker = async () => {
    while (next < p.clients.length) {
      const i = next++;
      const spec = p.clients[i]!;
      const sock = new EioSocket();
      const idx = base + i;
      clients[idx] = { idx, sock };
      try {
        await sock.connect({
          url: p.url,
          auth: spec.auth,
          headers: spec.headers,
          localAddress: LOCAL_ADDRESSES[idx % LOCAL_ADDRESSES.length],
          timeoutMs: p.timeoutMs ?? 15_000,
        });
        ok++;
      } catch (err) {
        const m = (err as Error).message.slice(0, 120);
        errors.set(m, (errors.get(m) ?? 0) + 1);
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const ms = performance.now() - t0;
  return {
    requested: p.clients.length,
    connected: ok,
    failed: p.clients.length - ok,
    total: clients.filter((c) => c?.sock.connected).length,
    ms: Math.round(ms),
    connectsPerSec: ms > 0 ? Math.round((ok / ms) * 1000 * 10) / 10 : 0,
    errors: Object.fromEntries(errors),
  };
}

function closeAll() {
  for (const c of clients) c?.sock.close();
  const n = clients.length;
  clients = [];
  return { closed: n };
}

// ---------------------------------------------------------------------------------------------------------
// Fan-out: open-loop senders, receivers counting and timing deliveries

interface RoomSpec {
  id: string | number;
  /** Client indices (as connected) that are members. */
  members: number[];
}

interface FanoutParams {
  rooms: RoomSpec[];
  /** Offered messages per second (all rooms together). */
  rate: number;
  warmupMs: number;
  measureMs: number;
  /** Longest wait after the last send for stragglers. */
  drainMs: number;
  /** Size of the message body in characters (stamp included). */
  bodyBytes: number;
  /** Recipients acknowledge deliveries (`receipt:delivered`), batched every `batchMs`. */
  receipts?: { event: string; batchMs: number } | null;
  /** Record send → `message:status` (delivered) at the sender. */
  statusEvent?: string | null;
  sendEvent?: string;
  newEvent?: string;
  tag: string;
}

interface StatusWaiter {
  seq: number;
  t0: number;
}

function pick<T>(a: readonly T[]): T {
  return a[Math.floor(Math.random() * a.length)]!;
}

async function fanout(p: FanoutParams) {
  const sendEvent = p.sendEvent ?? 'message:send';
  const newPrefix = `42["${p.newEvent ?? 'message:new'}"`;
  const statusPrefix = p.statusEvent ? `42["${p.statusEvent}"` : null;
  // Only connected sockets can receive: a failed handshake is reported by `connect`, not counted here as a
  // lost delivery.
  const rooms = p.rooms
    .map((r) => ({ id: r.id, members: r.members.filter((m) => clients[m]?.sock.connected) }))
    .filter((r) => r.members.length > 1);
  if (!rooms.length) throw new Error('no room with two connected members');
  const hAck = newHistogram();
  const hDeliver = newHistogram();
  const hStatus = newHistogram();
  let deliveredInWindow = 0;
  let deliveredTotal = 0;
  let selfEchoes = 0;
  let acked = 0;
  let ackErrors = 0;
  let notSent = 0;
  let statusRecorded = 0;
  const errorSamples: unknown[] = [];
  let windowSends = 0;
  let expected = 0;
  let sendsTotal = 0;
  let maxLag = 0;

  const start = now() + 20;
  const winStart = start + p.warmupMs;
  const winEnd = winStart + p.measureMs;
  const inWindow = (t0: number) => t0 >= winStart && t0 < winEnd;

  // Per sender: messages waiting for their delivered status, by conversation.
  const waiting = new Map<number, Map<string, StatusWaiter[]>>();
  // Per recipient: highest seq seen per conversation not yet acknowledged.
  const toAck = new Map<number, Map<string, number>>();

  const members = new Set<number>();
  for (const r of rooms) for (const m of r.members) members.add(m);
  for (const idx of members) {
    const c = clients[idx];
    if (!c) continue;
    c.sock.onEvent = (frame) => {
      if (frame.startsWith(newPrefix)) {
        const s = readStamp(frame);
        if (!s) return;
        if (s[1] === idx) {
          selfEchoes++;
          return;
        }
        deliveredTotal++;
        if (inWindow(s[0])) {
          deliveredInWindow++;
          recordMs(hDeliver, now() - s[0]);
        }
        if (p.receipts) {
          const m = eventPayload(frame) as Record<string, unknown>;
          const conv = conversationOf(m);
          const seq = Number(m.seq);
          if (conv !== null && Number.isFinite(seq)) {
            let mm = toAck.get(idx);
            if (!mm) toAck.set(idx, (mm = new Map()));
            if ((mm.get(conv) ?? 0) < seq) mm.set(conv, seq);
          }
        }
      } else if (statusPrefix && frame.startsWith(statusPrefix)) {
        const m = eventPayload(frame) as Record<string, unknown>;
        const w = waiting.get(idx);
        if (!w) return;
        for (const [conv, upTo] of deliveredUpTo(m)) {
          const list = w.get(conv);
          if (!list) continue;
          let k = 0;
          const t = now();
          while (k < list.length && list[k]!.seq <= upTo) {
            if (inWindow(list[k]!.t0)) {
              recordMs(hStatus, t - list[k]!.t0);
              statusRecorded++;
            }
            k++;
          }
          if (k) list.splice(0, k);
        }
      }
    };
  }

  let receiptTimer: NodeJS.Timeout | null = null;
  if (p.receipts) {
    const ev = p.receipts.event;
    receiptTimer = setInterval(() => {
      for (const [idx, mm] of toAck) {
        const c = clients[idx];
        for (const [conv, seq] of mm) c?.sock.emit(ev, { conversation_id: conversationId(conv, rooms), seq });
        mm.clear();
      }
    }, p.receipts.batchMs);
  }

  const meterAtWindow = { read: null as null | (() => GeneratorHealth) };
  const sendEnd = winEnd;
  const maxSends = Math.ceil(p.rate * ((p.warmupMs + p.measureMs) / 1000) * 1.5) + 100;
  let nextT = start;
  let seqNo = 0;
  while (sendsTotal < maxSends) {
    const t = now();
    if (!meterAtWindow.read && t >= winStart) meterAtWindow.read = healthMeter(() => maxLag);
    if (nextT >= sendEnd) break;
    if (t < nextT) {
      await sleep(Math.min(nextT - t, 5) >= 1 ? Math.min(nextT - t, 5) : 1);
      continue;
    }
    while (nextT <= t && nextT < sendEnd && sendsTotal < maxSends) {
      const t0 = nextT;
      nextT += poissonGapMs(p.rate);
      const lag = t - t0;
      if (inWindow(t0) && lag > maxLag) maxLag = lag;
      const room = pick(rooms);
      const senderIdx = pick(room.members);
      const c = clients[senderIdx];
      sendsTotal++;
      const counted = inWindow(t0);
      if (counted) {
        windowSends++;
        expected += room.members.length - 1;
      }
      const body = stampedBody(t0, senderIdx, p.bodyBytes);
      const payload = { conversation_id: room.id, body, client_msg_id: `${p.tag}-${++seqNo}` };
      const ok = c?.sock.emit(sendEvent, payload, (reply) => {
        const r = reply as { data?: { seq?: unknown }; error?: unknown } | null;
        if (!r || r.error) {
          ackErrors++;
          if (errorSamples.length < 5) errorSamples.push(r?.error ?? r);
          return;
        }
        acked++;
        if (counted) recordMs(hAck, now() - t0);
        if (statusPrefix && counted) {
          const seq = Number(r.data?.seq);
          if (Number.isFinite(seq)) {
            let w = waiting.get(senderIdx);
            if (!w) waiting.set(senderIdx, (w = new Map()));
            const key = String(room.id);
            let list = w.get(key);
            if (!list) w.set(key, (list = []));
            // Acks may arrive out of order across conversations but not within one; keep sorted anyway.
            let pos = list.length;
            while (pos > 0 && list[pos - 1]!.seq > seq) pos--;
            list.splice(pos, 0, { seq, t0 });
          }
        }
      });
      if (!ok) notSent++;
    }
  }
  const health = (meterAtWindow.read ?? healthMeter())();

  // Drain: wait for stragglers, bounded.
  const drainUntil = performance.now() + p.drainMs;
  while (performance.now() < drainUntil) {
    const statusDone = !statusPrefix || statusRecorded >= windowSends;
    if (deliveredInWindow >= expected && acked + ackErrors >= sendsTotal - notSent && statusDone) break;
    await sleep(20);
  }
  if (receiptTimer) clearInterval(receiptTimer);
  for (const idx of members) if (clients[idx]) clients[idx]!.sock.onEvent = null;

  const secs = p.measureMs / 1000;
  return {
    rate: p.rate,
    windowSends,
    sendsTotal,
    notSent,
    acked,
    ackErrors,
    errorSamples,
    expected,
    delivered: deliveredInWindow,
    deliveredTotal,
    selfEchoes,
    deliveredRatio: expected ? deliveredInWindow / expected : 0,
    deliveriesPerSec: Math.round(deliveredInWindow / secs),
    statusRecorded,
    hist: { ack: encode(hAck), deliver: encode(hDeliver), status: encode(hStatus) },
    health,
  };
}

function conversationId(key: string, rooms: RoomSpec[]): string | number {
  const r = rooms.find((x) => String(x.id) === key);
  return r ? r.id : key;
}

// ---------------------------------------------------------------------------------------------------------
// HTTP: autocannon (closed loop, max throughput) and open-loop fixed rate

interface RequestSpec {
  method: string;
  path: string;
  headers?: Record<string, string>;
  body?: string;
  /** Replace `{{n}}` in the body and headers by a per-request counter (unique idempotency keys). */
  unique?: boolean;
}

interface CannonParams {
  url: string;
  requests: RequestSpec[];
  connections: number;
  pipelining: number;
  /** Discarded first round (connections opened, caches and JIT warm). */
  warmupSec: number;
  durationSec: number;
  tag: string;
}

async function cannon(p: CannonParams) {
  let n = 0;
  const reqs = p.requests.map((r) => {
    const base = { method: r.method as autocannon.Request['method'], path: r.path, headers: r.headers, body: r.body };
    if (!r.unique) return base;
    return {
      ...base,
      setupRequest: (req: autocannon.Request) => {
        const k = `${p.tag}-${++n}`;
        const sub = (s: string) => s.replaceAll('{{n}}', k);
        return {
          ...req,
          body: r.body ? sub(r.body) : undefined,
          headers: r.headers ? Object.fromEntries(Object.entries(r.headers).map(([h, v]) => [h, sub(v)])) : undefined,
        } as autocannon.Request;
      },
    };
  });
  const opts = { url: p.url, connections: p.connections, pipelining: p.pipelining, requests: reqs, timeout: 10 };
  if (p.warmupSec > 0) await autocannon({ ...opts, duration: Math.min(p.warmupSec, 60) });
  const meter = healthMeter();
  const result = await autocannon({
    url: p.url,
    connections: p.connections,
    pipelining: p.pipelining,
    duration: Math.max(1, Math.min(p.durationSec, 600)),
    requests: reqs,
    timeout: 10,
  });
  const health = meter();
  const ok = result['2xx'];
  return {
    reqPerSec: Math.round(ok / result.duration),
    total: result.requests.total,
    ok,
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    statusCodes: result.statusCodeStats,
    latencyMs: { p50: result.latency.p50, p90: result.latency.p90, p99: result.latency.p99, max: result.latency.max, mean: result.latency.average },
    durationSec: result.duration,
    health,
  };
}

interface OpenHttpParams {
  url: string;
  requests: RequestSpec[];
  rate: number;
  warmupMs: number;
  measureMs: number;
  /** Requests in flight beyond this count are not sent and counted as dropped. */
  maxInFlight: number;
  timeoutMs: number;
  /** Longest wait after the window for answers still in flight (those left are reported as unfinished). */
  drainMs: number;
  tag: string;
}

const agents = new Map<string, http.Agent>();
function agentFor(url: string, maxSockets: number): http.Agent {
  let a = agents.get(url);
  if (!a) {
    a = new http.Agent({ keepAlive: true, maxSockets, maxFreeSockets: maxSockets, keepAliveMsecs: 30_000 });
    agents.set(url, a);
  }
  return a;
}

function request(url: URL, agent: http.Agent, spec: RequestSpec, n: string, timeoutMs: number): Promise<{ status: number; body: string }> {
  const sub = (s: string) => (spec.unique ? s.replaceAll('{{n}}', n) : s);
  const body = spec.body !== undefined ? sub(spec.body) : undefined;
  const headers: Record<string, string | number> = {};
  for (const [k, v] of Object.entries(spec.headers ?? {})) headers[k] = sub(v);
  if (body !== undefined) headers['content-length'] = Buffer.byteLength(body);
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: url.hostname, port: url.port, method: spec.method, path: spec.path, headers, agent, timeout: timeoutMs },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end(body);
  });
}

async function openHttp(p: OpenHttpParams) {
  const url = new URL(p.url);
  const agent = agentFor(p.url, Math.min(p.maxInFlight, 1024));
  const h = newHistogram();
  const statuses: Record<string, number> = {};
  let inFlight = 0;
  let dropped = 0;
  let errors = 0;
  let sent = 0;
  let completed = 0;
  let maxLag = 0;
  let n = 0;
  const errorSamples: string[] = [];
  const start = now() + 10;
  const winStart = start + p.warmupMs;
  const winEnd = winStart + p.measureMs;
  let meter: (() => GeneratorHealth) | null = null;
  let nextT = start;
  const maxSends = Math.ceil(p.rate * ((p.warmupMs + p.measureMs) / 1000) * 1.5) + 100;
  let i = 0;
  while (i < maxSends) {
    const t = now();
    if (!meter && t >= winStart) meter = healthMeter(() => maxLag);
    if (nextT >= winEnd) break;
    if (t < nextT) {
      await sleep(Math.max(1, Math.min(nextT - t, 5)));
      continue;
    }
    while (nextT <= t && nextT < winEnd && i < maxSends) {
      const t0 = nextT;
      nextT += 1000 / p.rate;
      i++;
      const counted = t0 >= winStart;
      if (counted && t - t0 > maxLag) maxLag = t - t0;
      if (inFlight >= p.maxInFlight) {
        if (counted) dropped++;
        continue;
      }
      const spec = p.requests[i % p.requests.length]!;
      inFlight++;
      if (counted) sent++;
      request(url, agent, spec, `${p.tag}-${++n}`, p.timeoutMs).then(
        (r) => {
          inFlight--;
          if (!counted) return;
          completed++;
          statuses[r.status] = (statuses[r.status] ?? 0) + 1;
          recordMs(h, now() - t0);
          if (r.status >= 400 && errorSamples.length < 3) errorSamples.push(`${r.status} ${r.body.slice(0, 200)}`);
        },
        (err: Error) => {
          inFlight--;
          if (!counted) return;
          errors++;
          if (errorSamples.length < 3) errorSamples.push(err.message);
        },
      );
    }
  }
  const health = (meter ?? healthMeter())();
  const until = performance.now() + Math.min(p.drainMs, p.timeoutMs);
  while (inFlight > 0 && performance.now() < until) await sleep(10);
  const unfinished = Math.max(0, sent - completed - errors);
  agent.destroy();
  agents.delete(p.url);
  return { rate: p.rate, sent, completed, dropped, errors, unfinished, statuses, errorSamples, hist: encode(h), health };
}

// ---------------------------------------------------------------------------------------------------------
// Long-poll: park requests, time their wake-up from the stamp in the message they return

interface ParkParams {
  url: string;
  requests: RequestSpec[];
  timeoutMs: number;
}

let parked: { promise: Promise<void>; hist: Histogram; woken: number; empty: number; errors: number; errorSamples: string[] } | null = null;

/** Send every request and keep them open; resolves once all were written. */
async function park(p: ParkParams) {
  const url = new URL(p.url);
  const agent = new http.Agent({ keepAlive: true, maxSockets: p.requests.length + 10 });
  const hist = newHistogram();
  const state = { hist, woken: 0, empty: 0, errors: 0, errorSamples: [] as string[], promise: Promise.resolve() };
  const all = p.requests.map((spec, i) =>
    request(url, agent, spec, String(i), p.timeoutMs).then(
      (r) => {
        const t = now();
        const s = readStamp(r.body)?.[0] ?? readTextStamp(r.body);
        if (r.status !== 200) {
          state.errors++;
          if (state.errorSamples.length < 3) state.errorSamples.push(`${r.status} ${r.body.slice(0, 200)}`);
        } else if (s !== null) {
          state.woken++;
          recordMs(hist, t - s);
        } else state.empty++;
      },
      (err: Error) => {
        state.errors++;
        if (state.errorSamples.length < 3) state.errorSamples.push(err.message);
      },
    ),
  );
  state.promise = Promise.all(all).then(() => agent.destroy());
  parked = state;
  return { parked: p.requests.length };
}

/** Wait (bounded) for the parked requests to come back and report their wake-up latencies. */
async function parkedResult(p: { timeoutMs: number }) {
  if (!parked) throw new Error('nothing parked');
  const meter = healthMeter();
  await Promise.race([parked.promise, sleep(p.timeoutMs)]);
  const r = { woken: parked.woken, empty: parked.empty, errors: parked.errors, errorSamples: parked.errorSamples, hist: encode(parked.hist), health: meter() };
  parked = null;
  return r;
}

serveRpc({
  connect,
  closeAll,
  fanout,
  cannon,
  openHttp,
  park,
  parkedResult,
  ping: () => ({ pid: process.pid, clients: clients.length }),
});
