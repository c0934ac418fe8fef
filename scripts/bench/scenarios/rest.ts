/**
 * HTTP scenarios against bare Koa (and bare node:http) serving the very bytes the product returns:
 * S4 message page GET and durable POST send, with PostgreSQL's single-row commit rate measured in the same
 * run; S5 empty device poll and long-poll wake-up latency with many parked requests; S6 Google Smart Home
 * QUERY/EXECUTE latency at a fixed rate.
 */
import type { BenchContext } from '../lib/context.ts';
import { GENERATOR_CORE, sleep } from '../lib/context.ts';
import { decode, summarize, type LatencySummary } from '../lib/hist.ts';
import { pgCommitRate, type CommitRate } from '../lib/pg.ts';
import type { Child } from '../lib/proc.ts';
import { generatorDisturbance, generatorSaturation, median, pairedRatios } from '../lib/stats.ts';

export interface RequestSpec {
  method: 'GET' | 'POST';
  path: string;
  headers?: Record<string, string>;
  body?: string;
  unique?: boolean;
}

interface CannonResult {
  reqPerSec: number;
  total: number;
  ok: number;
  non2xx: number;
  errors: number;
  statusCodes?: Record<string, { count?: number }>;
  latencyMs: { p50: number; p99: number };
  health: { cpu: number; eventLoopP99Ms: number };
}

interface RouteBytes {
  method: 'GET' | 'POST';
  path: string;
  status: number;
  contentType: string;
  body: string;
}

const nums = (xs: Array<number | null | undefined>) => xs.filter((x): x is number => typeof x === 'number' && Number.isFinite(x));

async function cannon(ctx: BenchContext, url: string, requests: RequestSpec[], pipelining: number, label: string): Promise<CannonResult & { invalid: string | null }> {
  const p = ctx.profile.s4;
  const r = await ctx.gen.call<CannonResult>(
    'cannon',
    { url, requests, connections: p.connections, pipelining, warmupSec: p.warmupSec, durationSec: p.durationSec, tag: ctx.tag('c') },
    (p.warmupSec + p.durationSec + 60) * 1000,
  );
  const invalid = generatorSaturation(r.health);
  const bad = r.non2xx || r.errors ? ` (${r.non2xx} non-2xx, ${r.errors} errors: ${JSON.stringify(r.statusCodes ?? {})})` : '';
  ctx.log(`  ${label}: ${r.reqPerSec} req/s, p99 ${r.latencyMs.p99} ms, generator CPU ${(r.health.cpu * 100).toFixed(0)} %${bad}${invalid ? ` [INVALID: ${invalid}]` : ''}`);
  return { ...r, invalid };
}

/** Fetch what the SUT answers to `spec`, to be served byte for byte by the baselines. */
async function capture(url: string, spec: RequestSpec, n = 'capture'): Promise<RouteBytes> {
  const body = spec.body?.replaceAll('{{n}}', n);
  const headers = Object.fromEntries(Object.entries(spec.headers ?? {}).map(([k, v]) => [k, v.replaceAll('{{n}}', n)]));
  const res = await fetch(url + spec.path, { method: spec.method, headers, body });
  const text = await res.text();
  if (res.status >= 400) throw new Error(`${spec.method} ${spec.path} → ${res.status} ${text.slice(0, 300)}`);
  return { method: spec.method, path: spec.path.split('?')[0]!, status: res.status, contentType: res.headers.get('content-type') ?? 'application/json', body: text };
}

/** A message page shaped like the product's, for when the build cannot serve one yet. */
function syntheticPage(count: number): string {
  const results = Array.from({ length: count }, (_, i) => ({
    message_id: `0190c0de-0000-7000-8000-${String(i).padStart(12, '0')}`,
    conversation: '0190c0de-0000-7000-8000-000000000001',
    seq: i + 1,
    sender: '0190c0de-0000-7000-8000-000000000002',
    client_msg_id: null,
    message_body: 'x'.repeat(200),
    status: 'read',
    sent_at: new Date(0).toISOString(),
    edited_at: null,
  }));
  return JSON.stringify({ results, has_more: true });
}

interface RestTargets {
  get: RequestSpec;
  posts: RequestSpec[];
}

export async function s4(ctx: BenchContext): Promise<void> {
  const p = ctx.profile;
  let targets: RestTargets | null = null;
  let page: RouteBytes;
  let sent: RouteBytes;
  if (ctx.features.messaging && ctx.features.oauth) {
    const sut = await ctx.startSut();
    try {
      targets = await sut.call<RestTargets>('restTargets', { seedMessages: p.s4.seedMessages, conversations: 50, tag: ctx.id }, 600_000);
      page = await capture(sut.info.url as string, targets.get);
      sent = await capture(sut.info.url as string, targets.posts[0]!);
    } finally {
      await ctx.stop(sut);
    }
  } else {
    const json = 'application/json; charset=utf-8';
    page = { method: 'GET', path: '/api/conversations/1/messages/', status: 200, contentType: json, body: syntheticPage(50) };
    sent = { method: 'POST', path: page.path, status: 201, contentType: json, body: JSON.stringify(JSON.parse(syntheticPage(1)).results[0]) };
  }
  const getSpec: RequestSpec = targets?.get ?? { method: 'GET', path: `${page.path}?limit=50` };
  const postSpecs: RequestSpec[] = targets?.posts ?? [
    { method: 'POST', path: sent.path, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ message_body: 'x'.repeat(200), client_msg_id: '{{n}}' }), unique: true },
  ];
  // The baselines answer the POST on every conversation path the SUT is hit on, with the SUT's bytes.
  const postPaths = [...new Set(postSpecs.map((s) => s.path.split('?')[0]!))];
  const baselineRoutes: RouteBytes[] = [page, ...postPaths.map((path) => ({ ...sent, path }))];
  const routes = [page, sent];

  const res: Record<string, Array<CannonResult & { invalid: string | null }>> = { http: [], koa: [], sutGet: [], koaPost: [], sutPost: [] };
  const pgRates: CommitRate[] = [];
  for (let rep = 0; rep < p.reps; rep++) {
    ctx.log(`S4 REST run ${rep + 1}/${p.reps}`);
    for (const mode of ['http', 'koa'] as const) {
      const b = await ctx.startHttpBaseline(mode);
      try {
        await b.call('setRoutes', baselineRoutes);
        res[mode]!.push(await cannon(ctx, b.info.url as string, [getSpec], p.s4.getPipelining, `bare ${mode} GET`));
        if (mode === 'koa') res.koaPost!.push(await cannon(ctx, b.info.url as string, postSpecs, p.s4.postPipelining, 'bare koa POST'));
      } finally {
        await ctx.stop(b);
      }
    }
    if (targets) {
      const sut = await ctx.startSut();
      try {
        res.sutGet!.push(await cannon(ctx, sut.info.url as string, [getSpec], p.s4.getPipelining, 'SUT message page GET'));
        res.sutPost!.push(await cannon(ctx, sut.info.url as string, postSpecs, p.s4.postPipelining, 'SUT durable POST send'));
      } finally {
        await ctx.stop(sut);
      }
    }
    const rate = await pgCommitRate(ctx.env.databaseUrl, ctx.schema, p.s4.pgSeconds, 1, GENERATOR_CORE);
    pgRates.push(rate);
    ctx.log(`  PostgreSQL single-row commits (${rate.tool}, 1 client): ${rate.commitsPerSec}/s (synchronous_commit=${rate.synchronousCommit}, fsync=${rate.fsync})`);
  }
  ctx.record('S4', { routes: routes.map((r) => ({ ...r, body: `${r.body.length} bytes` })), res, pgRates });
  const rps = (k: string) => res[k]!.map((r) => r.reqPerSec);
  const inv = (...ks: string[]) => {
    const w = ks.flatMap((k) => res[k]!.map((r) => r.invalid)).filter(Boolean);
    return w.length ? String(w[0]) : undefined;
  };
  const note = targets ? undefined : 'SUT not measured: the build has no messaging REST with OAuth yet (baselines serve a synthetic page)';
  ctx.rows.push({
    scenario: 'S4',
    metric: 'bare Koa GET vs bare node:http (same bytes)',
    unit: 'req/s',
    ours: median(rps('koa')),
    baseline: median(rps('http')),
    baselineName: 'node:http',
    ratio: pairedRatios(rps('koa'), rps('http')),
    note: 'reference ≈ 0.71× (fastify/benchmarks)',
    invalid: inv('koa', 'http'),
  });
  const getRatio = targets ? pairedRatios(rps('sutGet'), rps('koa')) : null;
  ctx.rows.push({
    scenario: 'S4',
    metric: `message page GET (${getSpec.path.split('?')[1] ?? ''})`,
    unit: 'req/s',
    ours: targets ? median(rps('sutGet')) : null,
    baseline: median(rps('koa')),
    baselineName: 'bare Koa',
    ratio: getRatio,
    target: '≥ 0.6×',
    met: getRatio?.median != null ? getRatio.median >= 0.6 : null,
    invalid: inv('sutGet', 'koa'),
    note,
  });
  const pgMed = median(pgRates.map((r) => r.commitsPerSec));
  const postVsPg = targets ? pairedRatios(rps('sutPost'), pgRates.map((r) => r.commitsPerSec)) : null;
  ctx.rows.push({
    scenario: 'S4',
    metric: `durable POST send, ${p.s4.connections} connections`,
    unit: 'sends/s',
    ours: targets ? median(rps('sutPost')) : null,
    baseline: pgMed,
    baselineName: 'PG single-row commits/s',
    ratio: postVsPg,
    target: '≥ 1.5×',
    met: postVsPg?.median != null ? postVsPg.median >= 1.5 : null,
    invalid: inv('sutPost'),
    note: note ?? `PG: ${pgRates[0]?.tool}, synchronous_commit=${pgRates[0]?.synchronousCommit}`,
  });
  ctx.rows.push({
    scenario: 'S4',
    metric: 'durable POST send vs bare Koa POST',
    unit: 'req/s',
    ours: targets ? median(rps('sutPost')) : null,
    baseline: median(rps('koaPost')),
    baselineName: 'bare Koa',
    ratio: targets ? pairedRatios(rps('sutPost'), rps('koaPost')) : null,
    invalid: inv('sutPost', 'koaPost'),
    note,
  });
}

interface PollTargets {
  emptyPoll: RequestSpec;
  /** One long-poll request per parked device (each its own owner and token). */
  parked: RequestSpec[];
  owners: Array<{ ownerId: string; deviceId: string }>;
}

export async function s5(ctx: BenchContext): Promise<void> {
  const p = ctx.profile;
  if (!ctx.features.devices || !ctx.features.oauth) {
    ctx.skipped.push({ scenario: 'S5', reason: 'the build has no device polling with OAuth tokens yet' });
    return;
  }
  const sut0 = await ctx.startSut();
  let targets: PollTargets;
  let route: RouteBytes;
  try {
    ctx.log(`S5: creating ${p.s5.parked} device owners, devices and tokens in the SUT`);
    targets = await sut0.call<PollTargets>('pollTargets', { parked: p.s5.parked, waitSec: p.s5.waitSec, tag: ctx.id }, 900_000);
    route = await capture(sut0.info.url as string, targets.emptyPoll);
  } finally {
    await ctx.stop(sut0);
  }
  const koa: number[] = [];
  const ours: number[] = [];
  const invalid: string[] = [];
  const wakes: Array<{ summary: LatencySummary; woken: number; empty: number; errors: number }> = [];
  for (let rep = 0; rep < p.reps; rep++) {
    ctx.log(`S5 polling run ${rep + 1}/${p.reps}`);
    const b = await ctx.startHttpBaseline('koa');
    try {
      await b.call('setRoutes', [route]);
      const r = await cannon(ctx, b.info.url as string, [targets.emptyPoll], 1, 'bare koa empty poll');
      koa.push(r.reqPerSec);
      if (r.invalid) invalid.push(r.invalid);
    } finally {
      await ctx.stop(b);
    }
    const sut = await ctx.startSut();
    try {
      const r = await cannon(ctx, sut.info.url as string, [targets.emptyPoll], 1, 'SUT empty poll');
      ours.push(r.reqPerSec);
      if (r.invalid) invalid.push(r.invalid);
      if (rep < p.reps - 1) continue;
      // Long-poll (once): park every device's poll, then enqueue one command per device at a fixed rate.
      await sut.call('clearCommands', { owners: targets.owners }, 600_000);
      await ctx.gen.call('park', { url: sut.info.url, requests: targets.parked, timeoutMs: (p.s5.waitSec + 30) * 1000 });
      await sleep(Math.min(10_000, 1000 + p.s5.parked / 2));
      ctx.log(`  parked ${targets.parked.length} long-polls; waking them at ${p.s5.wakeRate}/s`);
      const wake = await sut.call<{ enqueued: number }>('wakeDevices', { owners: targets.owners, rate: p.s5.wakeRate }, (p.s5.waitSec + 60) * 1000);
      const done = await ctx.gen.call<{ woken: number; empty: number; errors: number; errorSamples: string[]; hist: string }>('parkedResult', { timeoutMs: (p.s5.waitSec + 30) * 1000 }, (p.s5.waitSec + 90) * 1000);
      const summary = summarize(decode(done.hist));
      wakes.push({ summary, woken: done.woken, empty: done.empty, errors: done.errors });
      ctx.log(`  long-poll wake: ${done.woken}/${wake.enqueued} woken, p50 ${summary.p50} ms, p99 ${summary.p99} ms, ${done.empty} empty, ${done.errors} errors ${done.errorSamples.join(' | ').slice(0, 300)}`);
    } finally {
      await ctx.stop(sut);
    }
  }
  ctx.record('S5', { koa, ours, wakes });
  const ratio = pairedRatios(ours, koa);
  ctx.rows.push({
    scenario: 'S5',
    metric: 'empty device poll',
    unit: 'req/s',
    ours: median(ours),
    baseline: median(koa),
    baselineName: 'bare Koa',
    ratio,
    target: '≥ 0.6×',
    met: ratio.median != null ? ratio.median >= 0.6 : null,
    invalid: invalid[0],
  });
  for (const pct of ['p50', 'p99'] as const) {
    const v = median(nums(wakes.filter((w) => w.summary.count > 0).map((w) => w.summary[pct])));
    ctx.rows.push({
      scenario: 'S5',
      metric: `long-poll wake ${pct} with ${p.s5.parked} parked (woken at ${p.s5.wakeRate}/s)`,
      unit: 'ms',
      ours: v,
      baseline: null,
      baselineName: null,
      ratio: null,
      target: pct === 'p99' ? '≤ 50 ms' : undefined,
      met: pct === 'p99' ? (v !== null ? v <= 50 : null) : undefined,
      note: pct === 'p99' ? `woken ${wakes.map((w) => `${w.woken}/${p.s5.parked}`).join(', ')}` : undefined,
    });
  }
}

interface SmartHomeTargets {
  /** One request per linked user; the generator rotates through them. */
  query: RequestSpec[];
  execute: RequestSpec[];
}

interface OpenResult {
  /** Still in flight when the drain ended. */
  unfinished: number;
  sent: number;
  completed: number;
  dropped: number;
  errors: number;
  statuses: Record<string, number>;
  errorSamples: string[];
  hist: string;
  health: { cpu: number; eventLoopP99Ms: number; maxLagMs?: number };
}

async function openRun(ctx: BenchContext, server: Child, specs: RequestSpec[], label: string) {
  const p = ctx.profile;
  const r = await ctx.gen.call<OpenResult>(
    'openHttp',
    { url: server.info.url, requests: specs, rate: p.s6.rate, warmupMs: p.warmupMs, measureMs: p.measureMs, maxInFlight: 1000, timeoutMs: 10_000, drainMs: Math.max(2000, p.drainMs * 2), tag: ctx.tag('o') },
    p.warmupMs + p.measureMs + 60_000,
  );
  const s = summarize(decode(r.hist));
  const invalid = generatorSaturation(r.health);
  const noise = generatorDisturbance(r.health);
  const bad = r.errors || r.dropped || Object.keys(r.statuses).some((k) => Number(k) >= 400) ? ` statuses ${JSON.stringify(r.statuses)}, ${r.errors} errors, ${r.dropped} dropped ${r.errorSamples.join(' | ').slice(0, 200)}` : '';
  ctx.log(`  ${label} at ${p.s6.rate}/s: p50 ${s.p50} ms, p99 ${s.p99} ms, max ${s.max} ms${bad}${invalid ? ` [INVALID: ${invalid}]` : ''}${noise ? ` [noisy: ${noise}]` : ''}`);
  return { summary: s, invalid, ok: !r.errors && !r.dropped, unfinished: r.unfinished + r.dropped + r.errors };
}

export async function s6(ctx: BenchContext): Promise<void> {
  const p = ctx.profile;
  if (!ctx.features.smarthome || !ctx.features.oauth) {
    ctx.skipped.push({ scenario: 'S6', reason: 'the build has no Google Smart Home fulfillment yet' });
    return;
  }
  const sut0 = await ctx.startSut();
  let targets: SmartHomeTargets;
  let routes: Record<'query' | 'execute', RouteBytes>;
  try {
    ctx.log(`S6: creating ${p.s6.users} Google-linked users with five lights each in the SUT`);
    targets = await sut0.call<SmartHomeTargets>('smarthomeTargets', { users: p.s6.users, tag: ctx.id }, 300_000);
    routes = { query: await capture(sut0.info.url as string, targets.query[0]!), execute: await capture(sut0.info.url as string, targets.execute[0]!) };
  } finally {
    await ctx.stop(sut0);
  }
  const out: Record<string, { ours: LatencySummary[]; koa: LatencySummary[]; invalid: string[]; unfinished: number[] }> = {
    query: { ours: [], koa: [], invalid: [], unfinished: [] },
    execute: { ours: [], koa: [], invalid: [], unfinished: [] },
  };
  for (let rep = 0; rep < p.reps; rep++) {
    ctx.log(`S6 smart home run ${rep + 1}/${p.reps}`);
    for (const intent of ['query', 'execute'] as const) {
      const b = await ctx.startHttpBaseline('koa');
      try {
        await b.call('setRoutes', [routes[intent]]);
        const r = await openRun(ctx, b, targets[intent].slice(0, 1), `bare koa ${intent.toUpperCase()}`);
        out[intent]!.koa.push(r.summary);
        if (r.invalid) out[intent]!.invalid.push(r.invalid);
      } finally {
        await ctx.stop(b);
      }
    }
    const sut = await ctx.startSut();
    try {
      for (const intent of ['query', 'execute'] as const) {
        const r = await openRun(ctx, sut, targets[intent], `SUT ${intent.toUpperCase()}`);
        out[intent]!.ours.push(r.summary);
        out[intent]!.unfinished.push(r.unfinished);
        if (r.invalid) out[intent]!.invalid.push(r.invalid);
      }
    } finally {
      await ctx.stop(sut);
    }
  }
  ctx.record('S6', out);
  for (const intent of ['query', 'execute'] as const) {
    for (const pct of ['p50', 'p99'] as const) {
      // A run with no completed request has no latency to report (not 0 ms).
      const o = out[intent]!.ours.map((s) => (s.count > 0 ? s[pct] : null));
      const k = out[intent]!.koa.map((s) => (s.count > 0 ? s[pct] : null));
      const v = median(nums(o));
      ctx.rows.push({
        scenario: 'S6',
        metric: `Google ${intent.toUpperCase()} ${pct} at ${p.s6.rate} req/s`,
        unit: 'ms',
        ours: v,
        baseline: median(nums(k)),
        baselineName: 'bare Koa',
        ratio: pairedRatios(o, k),
        target: pct === 'p99' ? '≤ 20 ms' : undefined,
        met: pct === 'p99' ? (v !== null ? v <= 20 : null) : undefined,
        invalid: out[intent]!.invalid[0],
        note: out[intent]!.unfinished.some((n) => n > 0) ? `requests unanswered at the end of the window: ${out[intent]!.unfinished.join(', ')}` : undefined,
      });
    }
  }
}
