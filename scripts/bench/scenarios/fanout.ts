/**
 * S1 fan-out throughput (deliveries/s at the knee: ≥ 99.9 % delivered and p99 ≤ 250 ms) for rooms of 10
 * and one room of 1000, and S2 end-to-end latency at 25/50/80 % of the baseline's knee (send→ack,
 * send→deliver, send→delivered-status at the sender). Baseline: raw Socket.IO (B1); the full profile also
 * runs B2 (the same with the sharded Redis adapter) once to separate adapter cost from persistence.
 */
import type { BenchContext } from '../lib/context.ts';
import { sleep } from '../lib/context.ts';
import { decode, summarize, type LatencySummary } from '../lib/hist.ts';
import type { Child } from '../lib/proc.ts';
import { generatorDisturbance, generatorSaturation, knee, median, nextKneeRate, pairedRatios, type KneePlan, type StepResult } from '../lib/stats.ts';
import { baselinePopulation, sutPopulation, type Population, type RoomSpec } from './population.ts';

interface FanoutResult {
  rate: number;
  windowSends: number;
  expected: number;
  delivered: number;
  deliveredRatio: number;
  deliveriesPerSec: number;
  acked: number;
  ackErrors: number;
  deliveredTotal: number;
  errorSamples: unknown[];
  notSent: number;
  statusRecorded: number;
  hist: { ack: string; deliver: string; status: string };
  health: { cpu: number; eventLoopP99Ms: number; maxLagMs?: number };
}

interface KneeRun {
  contender: string;
  connected: number;
  failedConnects: number;
  steps: Array<StepResult & { ack: LatencySummary; deliver: LatencySummary; invalidWhy: string | null; disturbed: string | null }>;
  knee: StepResult | null;
  /** The knee search hit the generator's limit, not the server's. */
  generatorBound: boolean;
}

interface FanoutOptions {
  receipts: boolean;
}

async function connectPopulation(ctx: BenchContext, url: string, pop: Population, count: number) {
  await ctx.gen.call('closeAll');
  const r = await ctx.gen.call<{ connected: number; failed: number; errors: Record<string, number>; connectsPerSec: number }>(
    'connect',
    { url, clients: pop.clients(count), concurrency: 50, timeoutMs: 30_000 },
    300_000,
  );
  if (r.failed) ctx.log(`  ${r.failed} of ${count} sockets failed to connect: ${JSON.stringify(r.errors)}`);
  return r;
}

async function runFanout(ctx: BenchContext, rooms: RoomSpec[], rate: number, opts: FanoutOptions): Promise<FanoutResult> {
  const p = ctx.profile;
  return ctx.gen.call<FanoutResult>(
    'fanout',
    {
      rooms,
      rate,
      warmupMs: p.warmupMs,
      measureMs: p.measureMs,
      drainMs: p.drainMs,
      bodyBytes: p.bodyBytes,
      receipts: opts.receipts ? { event: 'receipt:delivered', batchMs: 50 } : null,
      statusEvent: opts.receipts ? 'message:status' : null,
      tag: ctx.tag('f'),
    },
    p.warmupMs + p.measureMs + p.drainMs + 120_000,
  );
}

async function kneeSearch(ctx: BenchContext, contender: string, server: Child, pop: Population, rooms: RoomSpec[], members: number, plan: KneePlan): Promise<KneeRun> {
  const conn = await connectPopulation(ctx, server.info.url as string, pop, members);
  const steps: KneeRun['steps'] = [];
  let rate: number | null;
  while ((rate = nextKneeRate(steps, plan)) !== null) {
    const r = await runFanout(ctx, rooms, rate, { receipts: false });
    const deliver = summarize(decode(r.hist.deliver));
    const ack = summarize(decode(r.hist.ack));
    const why = generatorSaturation(r.health);
    const noise = generatorDisturbance(r.health);
    const step = { rate, deliveredRatio: r.deliveredRatio, p99Ms: deliver.p99, deliveriesPerSec: r.deliveriesPerSec, invalid: why !== null, invalidWhy: why, disturbed: noise, health: r.health, ack, deliver };
    steps.push(step);
    if (steps.length === 1 && r.acked === 0 && r.deliveredTotal === 0 && r.ackErrors === 0) {
      await ctx.gen.call('closeAll');
      throw new Error(`${contender} never answered message:send (no ack, no delivery): this build has no socket send handler`);
    }
    ctx.log(
      `  ${contender} λ=${rate}/s: ${r.deliveriesPerSec} deliveries/s, delivered ${(r.deliveredRatio * 100).toFixed(2)} %, p99 ${deliver.p99} ms, ack p99 ${ack.p99} ms, errors ${r.ackErrors}, generator CPU ${(r.health.cpu * 100).toFixed(0)} %${why ? ` [INVALID: ${why}]` : ''}${noise ? ` [noisy: ${noise}]` : ''}`,
    );
    if (r.ackErrors && r.errorSamples.length) ctx.log(`    error sample: ${JSON.stringify(r.errorSamples[0]).slice(0, 300)}`);
    // Let a saturated server drain its backlog before the next step.
    if (r.deliveredRatio < 0.999) await sleep(1000);
  }
  await ctx.gen.call('closeAll');
  const k = knee(steps);
  const failures = steps.filter((s) => !(s.deliveredRatio >= 0.999 && s.p99Ms <= 250) || s.invalid);
  const lowestFail = failures.sort((a, b) => a.rate - b.rate)[0];
  return { contender, connected: conn.connected, failedConnects: conn.failed, steps, knee: k, generatorBound: Boolean(lowestFail?.invalid) };
}

/** "noisy: …" when some steps ran with the generator's core taken by other processes. */
function disturbedNote(runs: KneeRun[]): string {
  const steps = runs.flatMap((r) => r.steps);
  const n = steps.filter((s) => s.disturbed).length;
  return n ? `noisy: generator delayed by other load in ${n}/${steps.length} steps` : '';
}

/** S1: knee of B1 and of the SUT, alternating, for rooms of 10 and one room of 1000. */
export async function s1(ctx: BenchContext): Promise<void> {
  const p = ctx.profile;
  const shapes = [
    { name: 'rooms of 10', members: p.s1.rooms10 * 10, rooms: (pop: Population) => pop.rooms10, plan: p.s1.knee, target: 0.8, reps: p.reps },
    { name: `room of ${p.s1.bigRoom}`, members: p.s1.bigRoom, rooms: (pop: Population) => [pop.big], plan: p.s1.bigKnee, target: null, reps: p.s1.bigReps },
  ];
  const base = baselinePopulation(ctx);
  for (const s of shapes) {
    const b1: KneeRun[] = [];
    const ours: KneeRun[] = [];
    for (let rep = 0; rep < s.reps; rep++) {
      ctx.log(`S1 ${s.name}: B1 run ${rep + 1}/${s.reps}`);
      const b = await ctx.startSocketBaseline('memory');
      try {
        b1.push(await kneeSearch(ctx, 'B1', b, base, s.rooms(base), s.members, s.plan));
      } finally {
        await ctx.stop(b);
      }
      ctx.record('S1', { shape: s.name, rep, ...b1.at(-1) });
      const sut = await ctx.startSut();
      try {
        const pop = await sutPopulation(ctx, sut);
        if (!pop) continue;
        ctx.log(`S1 ${s.name}: SUT run ${rep + 1}/${s.reps}`);
        ours.push(await kneeSearch(ctx, 'SUT', sut, pop, s.rooms(pop), s.members, s.plan));
        ctx.record('S1', { shape: s.name, rep, ...ours.at(-1) });
      } finally {
        await ctx.stop(sut);
      }
    }
    const bk = b1.map((r) => r.knee?.deliveriesPerSec ?? null);
    const ok = ours.map((r) => r.knee?.deliveriesPerSec ?? null);
    if (s.name === 'rooms of 10') {
      const rates = b1.map((r) => r.knee?.rate ?? NaN);
      ctx.b1KneeRate = median(rates);
    }
    const ratio = ours.length ? pairedRatios(ok, bk) : null;
    const invalid = [...b1, ...ours].filter((r) => r.generatorBound).map((r) => `${r.contender} knee bounded by the generator`);
    ctx.rows.push({
      scenario: 'S1',
      metric: `fan-out deliveries/s at knee, ${s.name}`,
      unit: 'deliveries/s',
      ours: median(ok.filter((x): x is number => x !== null)),
      baseline: median(bk.filter((x): x is number => x !== null)),
      baselineName: 'raw Socket.IO',
      ratio,
      target: s.target ? `≥ ${s.target}×` : undefined,
      met: s.target && ratio?.median != null ? ratio.median >= s.target : s.target ? null : undefined,
      invalid: invalid.length ? [...new Set(invalid)].join(', ') : undefined,
      note: [ours.length ? '' : 'SUT not measured: the build has no Socket.IO messaging with OAuth tokens yet', disturbedNote([...b1, ...ours])].filter(Boolean).join('; ') || undefined,
    });
  }

  if (p.reps > 1) {
    ctx.log('S1 rooms of 10: B2 (raw Socket.IO + sharded Redis adapter), once');
    const b2 = await ctx.startSocketBaseline('redis');
    try {
      const r = await kneeSearch(ctx, 'B2', b2, base, base.rooms10, p.s1.rooms10 * 10, p.s1.knee);
      ctx.record('S1', { shape: 'rooms of 10', rep: 0, ...r });
      const oursRow = ctx.rows.find((x) => x.scenario === 'S1' && x.metric.includes('rooms of 10'));
      const b2k = r.knee?.deliveriesPerSec ?? null;
      ctx.rows.push({
        scenario: 'S1',
        metric: 'fan-out deliveries/s at knee, rooms of 10, vs Socket.IO + Redis adapter',
        unit: 'deliveries/s',
        ours: oursRow?.ours ?? null,
        baseline: b2k,
        baselineName: 'Socket.IO + sharded Redis adapter',
        ratio: oursRow?.ours != null ? pairedRatios([oursRow.ours], [b2k]) : null,
        invalid: r.generatorBound ? 'B2 knee bounded by the generator' : undefined,
      });
    } finally {
      await ctx.stop(b2);
    }
  }
}

interface LatencyPoint {
  fraction: number;
  rate: number;
  ack: LatencySummary;
  deliver: LatencySummary;
  status: LatencySummary;
  deliveredRatio: number;
  invalid: string | null;
  disturbed: string | null;
}

async function latencyRuns(ctx: BenchContext, server: Child, pop: Population, rates: Array<[number, number]>, receipts: boolean, name: string): Promise<LatencyPoint[]> {
  const members = ctx.profile.s1.rooms10 * 10;
  await connectPopulation(ctx, server.info.url as string, pop, members);
  const out: LatencyPoint[] = [];
  try {
    for (const [fraction, rate] of rates) {
      const r = await runFanout(ctx, pop.rooms10, rate, { receipts });
      const pt = {
        fraction,
        rate,
        ack: summarize(decode(r.hist.ack)),
        deliver: summarize(decode(r.hist.deliver)),
        status: summarize(decode(r.hist.status)),
        deliveredRatio: r.deliveredRatio,
        invalid: generatorSaturation(r.health),
        disturbed: generatorDisturbance(r.health),
      };
      ctx.log(
        `  ${name} ${Math.round(fraction * 100)} % (λ=${rate}/s): ack p50/p99 ${pt.ack.p50}/${pt.ack.p99} ms, deliver ${pt.deliver.p50}/${pt.deliver.p99} ms${receipts ? `, delivered-status ${pt.status.p50}/${pt.status.p99} ms (${r.statusRecorded}/${r.windowSends})` : ''}${pt.invalid ? ` [INVALID: ${pt.invalid}]` : ''}${pt.disturbed ? ` [noisy: ${pt.disturbed}]` : ''}`,
      );
      out.push(pt);
      await sleep(300);
    }
  } finally {
    await ctx.gen.call('closeAll');
  }
  return out;
}

/** S2: latency at fixed fractions of B1's knee (rooms of 10). */
export async function s2(ctx: BenchContext): Promise<void> {
  const p = ctx.profile;
  const kneeRate = ctx.b1KneeRate ?? p.s1.knee.start * 4;
  const rates = p.s2.fractions.map((f) => [f, Math.max(1, Math.round(f * kneeRate))] as [number, number]);
  ctx.log(`S2 at ${rates.map(([f, r]) => `${f * 100} % = ${r}/s`).join(', ')} of B1's knee ${kneeRate} messages/s${ctx.b1KneeRate ? '' : ' (S1 not run: assumed)'}`);
  const base = baselinePopulation(ctx);
  const b1: LatencyPoint[][] = [];
  const ours: LatencyPoint[][] = [];
  for (let rep = 0; rep < p.reps; rep++) {
    const b = await ctx.startSocketBaseline('memory');
    try {
      b1.push(await latencyRuns(ctx, b, base, rates, false, 'B1'));
      ctx.record('S2', { contender: 'B1', rep, points: b1.at(-1) });
    } finally {
      await ctx.stop(b);
    }
    const sut = await ctx.startSut();
    try {
      const pop = await sutPopulation(ctx, sut);
      if (!pop) continue;
      ours.push(await latencyRuns(ctx, sut, pop, rates, true, 'SUT'));
      ctx.record('S2', { contender: 'SUT', rep, points: ours.at(-1) });
    } finally {
      await ctx.stop(sut);
    }
  }
  const targets: Record<string, number> = { 'ack p99': 15, 'deliver p99': 25 };
  for (let i = 0; i < rates.length; i++) {
    const [fraction, rate] = rates[i]!;
    for (const kind of ['ack', 'deliver', 'status'] as const) {
      for (const pct of ['p50', 'p99'] as const) {
        // A window with no sample (nothing acknowledged or delivered) is missing data, never "0 ms".
        const pick = (run: LatencyPoint[]) => (run[i] && run[i]![kind].count > 0 ? run[i]![kind][pct] : null);
        const o = ours.map(pick);
        const b = kind === 'status' ? [] : b1.map(pick);
        const label = kind === 'status' ? 'delivered-status' : kind;
        const t = fraction === 0.5 ? targets[`${kind} ${pct}`] : undefined;
        const oursMed = median(o.filter((x): x is number => x !== null));
        const inv = [...ours, ...b1].map((run) => run[i]?.invalid).filter(Boolean);
        ctx.rows.push({
          scenario: 'S2',
          metric: `send→${label} ${pct} at ${Math.round(fraction * 100)} % of B1 knee (${rate} msg/s)`,
          unit: 'ms',
          ours: ours.length ? oursMed : null,
          baseline: kind === 'status' ? null : median(b.filter((x): x is number => x !== null)),
          baselineName: kind === 'status' ? null : 'raw Socket.IO',
          ratio: kind === 'status' || !ours.length ? null : pairedRatios(o, b),
          target: t !== undefined ? `≤ ${t} ms` : undefined,
          met: t !== undefined ? (ours.length && oursMed !== null ? oursMed <= t : null) : undefined,
          invalid: inv.length ? String(inv[0]) : undefined,
          note:
            [
              kind === 'status' ? 'the baseline has no receipts' : '',
              ours.length && oursMed === null ? 'no sample: the SUT acknowledged or delivered nothing in the window' : '', [...ours, ...b1].some((run) => run[i]?.disturbed) ? 'noisy: generator delayed by other load' : '']
              .filter(Boolean)
              .join('; ') || undefined,
        });
      }
    }
  }
}
