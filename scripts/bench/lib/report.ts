/**
 * Result rows and their rendering: one JSON file per invocation (every absolute number, every run) and a
 * markdown table of the headline rows (ours, the baseline measured in the same run, the median ratio of
 * alternating runs with its min–max, the target and whether it is met).
 */
import type { RatioSummary } from './stats.ts';

export interface Row {
  scenario: string;
  metric: string;
  unit: string;
  /** Our figure (median over runs). */
  ours: number | null;
  /** The baseline's figure (median over runs). */
  baseline: number | null;
  baselineName: string | null;
  ratio: RatioSummary | null;
  /** Human-readable target, e.g. "≥ 0.8×". */
  target?: string;
  met?: boolean | null;
  note?: string;
  /** Set when a run behind this row was invalid (the generator saturated) or incomplete. */
  invalid?: string;
}

const fmt = (v: number | null | undefined, digits = 0): string => {
  if (v === null || v === undefined || !Number.isFinite(v)) return '–';
  if (Math.abs(v) >= 1000) return Math.round(v).toLocaleString('en-US');
  return v.toFixed(digits);
};

const fmtRatio = (r: RatioSummary | null): string => {
  if (!r || r.median === null) return '–';
  const m = `${r.median.toFixed(2)}×`;
  return r.pairs.length > 1 ? `${m} [${r.min!.toFixed(2)}–${r.max!.toFixed(2)}]` : m;
};

/** Decimal places that keep small figures (latencies in ms) readable. */
function digitsFor(unit: string): number {
  return unit === 'ms' ? 2 : unit === 'KB' ? 2 : 0;
}

export function markdownTable(rows: readonly Row[]): string {
  const head = '| Scenario | Metric | Ours | Baseline | Ratio (median [min–max]) | Target | Met | Notes |\n| --- | --- | ---: | ---: | ---: | --- | --- | --- |';
  const lines = rows.map((r) => {
    const d = digitsFor(r.unit);
    const base = r.baselineName ? `${fmt(r.baseline, d)} (${r.baselineName})` : fmt(r.baseline, d);
    const met = r.met === undefined || r.met === null ? '' : r.met ? 'yes' : '**no**';
    const notes = [r.invalid ? `INVALID: ${r.invalid}` : '', r.note ?? ''].filter(Boolean).join('; ');
    return `| ${r.scenario} | ${r.metric} (${r.unit}) | ${fmt(r.ours, d)} | ${base} | ${fmtRatio(r.ratio)} | ${r.target ?? ''} | ${met} | ${notes.replaceAll('|', '/')} |`;
  });
  return [head, ...lines].join('\n');
}
