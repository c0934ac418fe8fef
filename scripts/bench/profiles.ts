/**
 * Benchmark profiles. `quick` checks a change in under three minutes with small socket counts (its big room
 * has 200 members), short windows and one alternation; `full` is what docs/performance.md publishes (three alternations, longer
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
  /** `bigReps`: alternations for the room of 1000 (its sockets are slow to set up). */
  s1: { rooms10: number; bigRoom: number; bigReps: number; knee: KneePlan; bigKnee: KneePlan };
  s2: { fractions: number[] };
  s3: { steps: number[] };
  s4: { warmupSec: number; durationSec: number; connections: number; getPipelining: number; postPipelining: number; pgSeconds: number; seedMessages: number };
  /** The long-poll pass (parking `parked` requests) runs once, in the last alternation. */
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
    measureMs: 1_500,
    drainMs: 1_000,
    s1: {
      rooms10: 20,
      bigRoom: 200,
      bigReps: 1,
      knee: { start: 100, factor: 2, maxRate: 20_000, maxSteps: 4, resolution: 0.3 },
      bigKnee: { start: 8, factor: 2, maxRate: 2_000, maxSteps: 3, resolution: 0.3 },
    },
    s2: { fractions: [0.5] },
    s3: { steps: [0, 100, 200] },
    s4: { warmupSec: 1, durationSec: 2, connections: 100, getPipelining: 1, postPipelining: 1, pgSeconds: 2, seedMessages: 60 },
    s5: { durationSec: 2, parked: 200, wakeRate: 200, waitSec: 25 },
    s6: { rate: 500, users: 10 },
    sutEnv: LIFTED_LIMITS,
  },
  full: {
    ...common,
    name: 'full',
    reps: 3,
    warmupMs: 1_000,
    measureMs: 4_000,
    drainMs: 1_500,
    s1: {
      rooms10: 50,
      bigRoom: 1000,
      bigReps: 1,
      knee: { start: 100, factor: 2, maxRate: 40_000, maxSteps: 7, resolution: 0.15 },
      bigKnee: { start: 4, factor: 2, maxRate: 4_000, maxSteps: 5, resolution: 0.3 },
    },
    s2: { fractions: [0.25, 0.5, 0.8] },
    s3: { steps: [0, 300, 600, 900] },
    s4: { warmupSec: 2, durationSec: 6, connections: 100, getPipelining: 1, postPipelining: 1, pgSeconds: 6, seedMessages: 200 },
    s5: { durationSec: 6, parked: 10_000, wakeRate: 1000, waitSec: 60 },
    s6: { rate: 500, users: 50 },
    sutEnv: LIFTED_LIMITS,
  },
};
