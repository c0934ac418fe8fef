/**
 * S3 idle authenticated sockets: ramp sockets in steps, sample the server's heap and RSS after a forced
 * GC at each step, and take the least-squares slope (bytes per socket); connects/s during the ramp.
 */
import type { BenchContext } from '../lib/context.ts';
import { sleep } from '../lib/context.ts';
import type { Child } from '../lib/proc.ts';
import { median, pairedRatios, slope } from '../lib/stats.ts';
import type { MemorySample } from '../servers/memory.ts';
import { baselinePopulation, sutPopulation, type Population } from './population.ts';

interface RampRun {
  contender: string;
  points: Array<{ sockets: number; mem: MemorySample; connectsPerSec: number | null; failed: number }>;
  heapPerSocket: number | null;
  rssPerSocket: number | null;
  connectsPerSec: number | null;
}

async function ramp(ctx: BenchContext, name: string, server: Child, pop: Population): Promise<RampRun> {
  const steps = ctx.profile.s3.steps;
  const specs = pop.clients(Math.max(...steps));
  await ctx.gen.call('closeAll');
  const points: RampRun['points'] = [];
  let have = 0;
  for (const target of steps) {
    let cps: number | null = null;
    let failed = 0;
    if (target > have) {
      const r = await ctx.gen.call<{ connected: number; failed: number; connectsPerSec: number; errors: Record<string, number> }>(
        'connect',
        { url: server.info.url, clients: specs.slice(have, target), concurrency: 50, timeoutMs: 30_000 },
        600_000,
      );
      cps = r.connectsPerSec;
      failed = r.failed;
      if (r.failed) ctx.log(`  ${name}: ${r.failed} connects failed: ${JSON.stringify(r.errors)}`);
      have = target;
    }
    await sleep(500);
    const mem = await server.call<MemorySample>('mem');
    points.push({ sockets: target, mem, connectsPerSec: cps, failed });
    ctx.log(`  ${name} ${target} sockets: heap ${(mem.heapUsed / 2 ** 20).toFixed(1)} MB, rss ${(mem.rss / 2 ** 20).toFixed(1)} MB${cps !== null ? `, ${cps} connects/s` : ''}`);
  }
  await ctx.gen.call('closeAll');
  const xs = points.map((p) => p.sockets);
  const cpsList = points.map((p) => p.connectsPerSec).filter((x): x is number => x !== null);
  return {
    contender: name,
    points,
    heapPerSocket: slope(xs, points.map((p) => p.mem.heapUsed)),
    rssPerSocket: slope(xs, points.map((p) => p.mem.rss)),
    connectsPerSec: median(cpsList),
  };
}

export async function s3(ctx: BenchContext): Promise<void> {
  const p = ctx.profile;
  const base = baselinePopulation(ctx);
  const b1: RampRun[] = [];
  const ours: RampRun[] = [];
  for (let rep = 0; rep < p.reps; rep++) {
    ctx.log(`S3 idle sockets: B1 run ${rep + 1}/${p.reps}`);
    const b = await ctx.startSocketBaseline('memory');
    try {
      b1.push(await ramp(ctx, 'B1', b, base));
      ctx.record('S3', b1.at(-1));
    } finally {
      await ctx.stop(b);
    }
    const sut = await ctx.startSut();
    try {
      const pop = await sutPopulation(ctx, sut);
      if (!pop) continue;
      ctx.log(`S3 idle sockets: SUT run ${rep + 1}/${p.reps}`);
      ours.push(await ramp(ctx, 'SUT', sut, pop));
      ctx.record('S3', ours.at(-1));
    } finally {
      await ctx.stop(sut);
    }
  }
  const kb = (v: number | null) => (v === null ? null : v / 1024);
  const med = (runs: RampRun[], k: 'heapPerSocket' | 'rssPerSocket' | 'connectsPerSec') => median(runs.map((r) => r[k]).filter((x): x is number => x !== null));
  const note = ours.length ? undefined : 'SUT not measured: the build has no authenticated Socket.IO yet';
  const heapRatio = ours.length ? pairedRatios(ours.map((r) => r.heapPerSocket), b1.map((r) => r.heapPerSocket)) : null;
  ctx.rows.push({
    scenario: 'S3',
    metric: 'heap per idle authenticated socket',
    unit: 'KB',
    ours: kb(med(ours, 'heapPerSocket')),
    baseline: kb(med(b1, 'heapPerSocket')),
    baselineName: 'raw Socket.IO',
    ratio: heapRatio,
    target: '≤ 1.3×',
    met: heapRatio?.median != null ? heapRatio.median <= 1.3 : null,
    note,
  });
  ctx.rows.push({
    scenario: 'S3',
    metric: 'RSS per idle authenticated socket',
    unit: 'KB',
    ours: kb(med(ours, 'rssPerSocket')),
    baseline: kb(med(b1, 'rssPerSocket')),
    baselineName: 'raw Socket.IO',
    ratio: ours.length ? pairedRatios(ours.map((r) => r.rssPerSocket), b1.map((r) => r.rssPerSocket)) : null,
    note,
  });
  ctx.rows.push({
    scenario: 'S3',
    metric: 'connects/s during the ramp',
    unit: 'connects/s',
    ours: med(ours, 'connectsPerSec'),
    baseline: med(b1, 'connectsPerSec'),
    baselineName: 'raw Socket.IO',
    ratio: ours.length ? pairedRatios(ours.map((r) => r.connectsPerSec), b1.map((r) => r.connectsPerSec)) : null,
    note: ours.length ? 'generator-side handshake concurrency 50' : note,
  });
}
