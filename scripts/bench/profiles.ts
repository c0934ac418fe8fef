/**
 * Benchmark profiles. `quick` checks a change in under three minutes with small socket counts, short
 * windows and one alternation; `full` is what docs/performance.md publishes (three alternations, longer
 * windows, larger populations). Every count and duration that bounds a loop is here.
 */
import type { KneePlan } from './lib/stats.ts';

export interface Profile {
  name: 'quick' | 'full';
  /** Alternations per scenario: B, SUT, B, SUT… (ratios are the median over pairs). */
  reps: number;
  warmupMs: number;
  measureMs: number;
  /** Longest wait for stragglers after a window. */
  drainMs: number;
  /** Message body size (characters; stamp included). */
  bodyBytes: number;
  s1: { rooms10: number; bigRoom: number; knee: KneePlan; bigKnee: KneePlan };
  s2: { fractions: number[] };
  s3: { steps: number[] };
  s4: { warmupSec: number; durationSec: number; connections: number; getPipelining: number; postPipelining: number; pgSeconds: number; seedMessages: number };
  s5: { durationSec: number; parked: number; wakeRate: number; waitSec: number };
  s6: { rate: number; users: number };
  /** Environment for the SUT (limits that a benchmark must lift to measure the server, not its limiter). */
  sutEnv: Record<string, string>;
}

const common = { bodyBytes: 200 };

/**
 * Per-user and per-socket rate limits sized for people, lifted so the benchmark measures the server rather
 * than its limiter (the limiter calls stay on the path; they just never refuse).
 */
const LIFTED_LIMITS: Record<string, string> = {
  REALTIME_EVENTS_PER_10S: '1000000',
  REALTIME_SENDS_PER_10S: '1000000',
  DEVICE_POLL_RATE_LIMIT: '100000000',
  MESSAGE_RATE_LIMIT: '100000000',
};

export const PROFILES: Record<Profile['name'], Profile> = {
  quick: {
    ...common,
    name: 'quick',
    reps: 1,
    warmupMs: 500,
    measureMs: 2_000,
    drainMs: 1_000,
    s1: {
      rooms10: 50,
      bigRoom: 1000,
      knee: { start: 400, factor: 2, maxRate: 20_000, maxSteps: 6, resolution: 0.25 },
      bigKnee: { start: 10, factor: 2, maxRate: 2_000, maxSteps: 5, resolution: 0.3 },
    },
    s2: { fractions: [0.25, 0.5, 0.8] },
    s3: { steps: [0, 400, 800, 1200] },
    s4: { warmupSec: 1, durationSec: 3, connections: 100, getPipelining: 1, postPipelining: 1, pgSeconds: 3, seedMessages: 60 },
    s5: { durationSec: 3, parked: 1000, wakeRate: 500, waitSec: 25 },
    s6: { rate: 500, users: 50 },
    sutEnv: LIFTED_LIMITS,
  },
  full: {
    ...common,
    name: 'full',
    reps: 3,
    warmupMs: 3_000,
    measureMs: 10_000,
    drainMs: 3_000,
    s1: {
      rooms10: 500,
      bigRoom: 1000,
      knee: { start: 250, factor: 2, maxRate: 40_000, maxSteps: 10, resolution: 0.1 },
      bigKnee: { start: 5, factor: 2, maxRate: 4_000, maxSteps: 8, resolution: 0.15 },
    },
    s2: { fractions: [0.25, 0.5, 0.8] },
    s3: { steps: [0, 2000, 4000, 6000, 8000] },
    s4: { warmupSec: 3, durationSec: 10, connections: 100, getPipelining: 1, postPipelining: 1, pgSeconds: 10, seedMessages: 200 },
    s5: { durationSec: 10, parked: 10_000, wakeRate: 1000, waitSec: 50 },
    s6: { rate: 500, users: 50 },
    sutEnv: LIFTED_LIMITS,
  },
};
