/**
 * Pure numeric helpers of the benchmark: medians and ratios over alternating runs, the knee search of the
 * fan-out scenario, least-squares slopes and the load-generator validity rule. No I/O, so
 * `test/bench/harness.test.ts` can check them.
 */

/** Median of the finite values (mean of the two middle ones for an even count); null when there are none. */
export function median(values: readonly number[]): number | null {
  const v = values.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return null;
  const mid = v.length >> 1;
  return v.length % 2 ? v[mid]! : (v[mid - 1]! + v[mid]!) / 2;
}

export interface RatioSummary {
  /** Median of the per-pair ratios `ours[i] / base[i]`. */
  median: number | null;
  min: number | null;
  max: number | null;
  /** The per-pair ratios, in run order. */
  pairs: number[];
}

/**
 * Ratios of alternating runs: run i of ours is divided by run i of the baseline (they ran back to back),
 * then summarised. Pairs where either side is missing or the baseline is 0 are dropped.
 */
export function pairedRatios(ours: readonly (number | null)[], base: readonly (number | null)[]): RatioSummary {
  const pairs: number[] = [];
  for (let i = 0; i < Math.min(ours.length, base.length); i++) {
    const a = ours[i];
    const b = base[i];
    if (a == null || b == null || !Number.isFinite(a) || !Number.isFinite(b) || b === 0) continue;
    pairs.push(a / b);
  }
  return {
    median: median(pairs),
    min: pairs.length ? Math.min(...pairs) : null,
    max: pairs.length ? Math.max(...pairs) : null,
    pairs,
  };
}

/** Least-squares slope of y over x (e.g. bytes per socket); null with fewer than two distinct x. */
export function slope(xs: readonly number[], ys: readonly number[]): number | null {
  const n = Math.min(xs.length, ys.length);
  if (n < 2) return null;
  let sx = 0;
  let sy = 0;
  for (let i = 0; i < n; i++) {
    sx += xs[i]!;
    sy += ys[i]!;
  }
  const mx = sx / n;
  const my = sy / n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    num += (xs[i]! - mx) * (ys[i]! - my);
    den += (xs[i]! - mx) ** 2;
  }
  return den === 0 ? null : num / den;
}

/** One measured step of a rate ramp. */
export interface StepResult {
  /** Offered rate (messages/s). */
  rate: number;
  /** Delivered / expected deliveries, 0..1. */
  deliveredRatio: number;
  /** p99 send→deliver latency, ms. */
  p99Ms: number;
  /** Deliveries per second actually observed. */
  deliveriesPerSec: number;
  /** The generator saturated during this step (the step proves nothing). */
  invalid?: boolean;
}

export interface KneeRule {
  /** Minimum delivered/expected (0.999 = 99.9 %). */
  minDelivered: number;
  /** Maximum p99 latency, ms. */
  maxP99Ms: number;
}

export const DEFAULT_KNEE_RULE: KneeRule = { minDelivered: 0.999, maxP99Ms: 250 };

/** A step passes when enough was delivered, fast enough, and the generator did not saturate. */
export function stepPasses(step: StepResult, rule: KneeRule = DEFAULT_KNEE_RULE): boolean {
  return !step.invalid && step.deliveredRatio >= rule.minDelivered && step.p99Ms <= rule.maxP99Ms;
}

export interface KneePlan {
  /** First offered rate. */
  start: number;
  /** Growth factor of the coarse ramp (e.g. 2). */
  factor: number;
  /** Hard cap on the offered rate. */
  maxRate: number;
  /** Hard cap on the number of steps (coarse + refinement). */
  maxSteps: number;
  /** Stop refining when the bracket is narrower than this fraction of its lower end. */
  resolution: number;
}

/**
 * Next rate to try in the knee search, or null when done. Coarse phase: multiply by `factor` while steps
 * pass; after the first failure, bisect between the best pass and the lowest failure until the bracket is
 * within `resolution` or the step budget is spent. Always bounded by `maxSteps` and `maxRate`.
 */
export function nextKneeRate(history: readonly StepResult[], plan: KneePlan, rule: KneeRule = DEFAULT_KNEE_RULE): number | null {
  if (history.length >= plan.maxSteps) return null;
  if (history.length === 0) return Math.min(plan.start, plan.maxRate);
  const passes = history.filter((s) => stepPasses(s, rule));
  const fails = history.filter((s) => !stepPasses(s, rule));
  const bestPass = passes.length ? Math.max(...passes.map((s) => s.rate)) : null;
  const lowestFail = fails.length ? Math.min(...fails.map((s) => s.rate)) : null;
  if (lowestFail === null) {
    if (bestPass! >= plan.maxRate) return null;
    return Math.min(Math.round(bestPass! * plan.factor), plan.maxRate);
  }
  const low = bestPass !== null && bestPass < lowestFail ? bestPass : 0;
  if (low === 0) {
    // Even the first step failed: probe lower, down to a floor.
    const next = Math.round(lowestFail / plan.factor);
    return next >= 1 && next < lowestFail ? next : null;
  }
  if ((lowestFail - low) / low <= plan.resolution) return null;
  const mid = Math.round((low + lowestFail) / 2);
  return mid > low && mid < lowestFail ? mid : null;
}

/** The knee: the passing step with the most deliveries per second, or null when none passed. */
export function knee(history: readonly StepResult[], rule: KneeRule = DEFAULT_KNEE_RULE): StepResult | null {
  let best: StepResult | null = null;
  for (const s of history) if (stepPasses(s, rule) && (!best || s.deliveriesPerSec > best.deliveriesPerSec)) best = s;
  return best;
}

/** What the load generator observed about itself during a measured window. */
export interface GeneratorHealth {
  /** CPU time used / wall time, 0..1+ (one core = 1). */
  cpu: number;
  /** Event-loop delay p99, ms. */
  eventLoopP99Ms: number;
  /** How far the open-loop schedule fell behind at worst, ms (0 for closed-loop tools). */
  maxLagMs?: number;
}

export const GENERATOR_LIMITS = { cpu: 0.9, eventLoopP99Ms: 20, maxLagMs: 50 };

/**
 * Why a run is invalid because the generator saturated its own core (CPU over 90 %): it was then
 * measuring itself. Null when it had headroom.
 */
export function generatorSaturation(h: GeneratorHealth, limits = GENERATOR_LIMITS): string | null {
  return h.cpu > limits.cpu ? `generator CPU ${(h.cpu * 100).toFixed(0)}% > ${limits.cpu * 100}%` : null;
}

/**
 * Why a run's latencies are suspect although the generator had CPU to spare: its event loop was delayed
 * (p99 over 20 ms) or its open-loop schedule fell behind — on a shared machine, other processes taking
 * the generator's core. Null when neither happened.
 */
export function generatorDisturbance(h: GeneratorHealth, limits = GENERATOR_LIMITS): string | null {
  const why: string[] = [];
  if (h.eventLoopP99Ms > limits.eventLoopP99Ms) why.push(`generator event-loop p99 ${h.eventLoopP99Ms.toFixed(1)} ms > ${limits.eventLoopP99Ms} ms`);
  if (h.maxLagMs !== undefined && h.maxLagMs > limits.maxLagMs) why.push(`send schedule fell ${h.maxLagMs.toFixed(0)} ms behind`);
  return why.length ? why.join('; ') : null;
}
