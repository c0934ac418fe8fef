/**
 * Latency histograms (HdrHistogram, microsecond resolution, 3 significant digits, up to 60 s). Generators
 * record into them, ship them to the orchestrator as compressed base64, and the orchestrator merges and
 * summarises them. Latencies are measured from the *intended* send time of an open-loop schedule, which
 * is what corrects coordinated omission: a stalled server shows up as latency, not as fewer samples.
 */
import * as hdr from 'hdr-histogram-js';

export type Histogram = hdr.Histogram;

const HIGHEST_US = 60_000_000;

/** A new empty latency histogram (values in microseconds). */
export function newHistogram(): Histogram {
  return hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: HIGHEST_US, numberOfSignificantValueDigits: 3, bitBucketSize: 32 });
}

/** Record a latency given in milliseconds (clamped into the trackable range). */
export function recordMs(h: Histogram, ms: number): void {
  const us = Math.round(ms * 1000);
  h.recordValue(us < 1 ? 1 : us > HIGHEST_US ? HIGHEST_US : us);
}

export function encode(h: Histogram): string {
  return hdr.encodeIntoCompressedBase64(h);
}

export function decode(s: string): Histogram {
  return hdr.decodeFromCompressedBase64(s, 32);
}

/** Merge encoded histograms into one. */
export function mergeEncoded(list: readonly string[]): Histogram {
  const out = newHistogram();
  for (const s of list) out.add(decode(s));
  return out;
}

export interface LatencySummary {
  /** Samples recorded; with 0, every percentile is 0 and means "no data", not "fast". */
  count: number;
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
  mean: number;
}

/** Percentiles in milliseconds (3 decimals); all zero for an empty histogram. */
export function summarize(h: Histogram): LatencySummary {
  const ms = (us: number) => Math.round(us) / 1000;
  if (h.totalCount === 0) return { count: 0, p50: 0, p90: 0, p99: 0, p999: 0, max: 0, mean: 0 };
  return {
    count: h.totalCount,
    p50: ms(h.getValueAtPercentile(50)),
    p90: ms(h.getValueAtPercentile(90)),
    p99: ms(h.getValueAtPercentile(99)),
    p999: ms(h.getValueAtPercentile(99.9)),
    max: ms(h.maxValue),
    mean: ms(h.mean),
  };
}
