// The statistics of the benchmarks, as plain functions of plain numbers. A row's figure is the
// median over rounds of its ratio to the floor batch timed beside it, and its interval is what
// the rounds show (a percentile interval over the round medians): a margin of error computed
// from the thousands of batches of one round says how well that round is known, not how far
// the next run lands, because what moves a figure on a shared machine (the host's load, what
// the compiler did in this process) changes between rounds and runs, not between batches.
import type { BenchRow } from './results.ts';

export interface Summary {
  /** the median of the samples: the cost of one operation in the typical batch */
  median: number;
  /** half the width of the median's 95% confidence interval, relative to it, percent */
  rme: number;
  n: number;
}

/**
 * The median of the samples (each the cost of one operation in one batch) and its margin of
 * error: the 95% confidence interval of a median from order statistics, ranks
 * n/2 -+ 1.96 sqrt(n)/2, which assumes nothing of the distribution. The median, not the mean:
 * a batch now and then takes a garbage collection or a preemption that is none of the code's
 * making.
 */
export function summarize(samples: readonly number[]): Summary {
  const n = samples.length;
  if (n === 0) return { median: Number.NaN, rme: Number.NaN, n: 0 };
  const s = [...samples].sort((a, b) => a - b);
  const med = median_sorted(s);
  if (n < 6) return { median: med, rme: Number.NaN, n };
  const half = 1.96 * Math.sqrt(n) / 2;
  const lo = s[Math.max(0, Math.floor(n / 2 - half))]!;
  const hi = s[Math.min(n - 1, Math.ceil(n / 2 + half))]!;
  return { median: med, rme: med > 0 ? ((hi - lo) / 2 / med) * 100 : Number.NaN, n };
}

function median_sorted(s: readonly number[]): number {
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export function median(xs: readonly number[]): number {
  if (xs.length === 0) return Number.NaN;
  return median_sorted([...xs].sort((a, b) => a - b));
}

/** The p-th quantile (0 <= p <= 1) of xs, interpolated between the two nearest ranks. */
export function percentile(xs: readonly number[], p: number): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  const at = p * (s.length - 1);
  const lo = Math.floor(at);
  return lo + 1 < s.length ? s[lo]! + (s[lo + 1]! - s[lo]!) * (at - lo) : s[lo]!;
}

/** The share of the round medians an interval covers: from the 5th to the 95th percentile. */
export const INTERVAL = 0.9;

/** The central INTERVAL of the rounds' figures: [low, high]. */
export function round_interval(rounds: readonly number[]): [number, number] {
  const tail = (1 - INTERVAL) / 2;
  return [percentile(rounds, tail), percentile(rounds, 1 - tail)];
}

/** Two consecutive floor costs further apart than this factor are two speeds, not noise. */
export const FLOOR_GAP = 1.25;

export interface FloorSpeeds {
  /** the floor's cost at each speed found (one speed, or two): the kept speed first */
  speeds: number[];
  /** per cost given, whether it is at the speed the ratios are taken at: the speed most
   *  costs show (the faster one when as many show each) */
  kept: boolean[];
}

/**
 * The speeds a floor ran at, from its cost in each round (and task): one, or two when the
 * sorted costs have a gap wider than FLOOR_GAP. A floor at two speeds is reported, and the
 * ratios are taken at one of them: averaging the two would give a figure no round showed.
 */
export function floor_speeds(costs: readonly number[]): FloorSpeeds {
  const finite = costs.filter((c) => Number.isFinite(c) && c > 0);
  if (finite.length < 2) return { speeds: finite.length ? [finite[0]!] : [], kept: costs.map(() => true) };
  const s = [...finite].sort((a, b) => a - b);
  let cut = -1;
  let widest = FLOOR_GAP;
  for (let i = 1; i < s.length; i++) {
    if (s[i]! / s[i - 1]! > widest) { widest = s[i]! / s[i - 1]!; cut = i; }
  }
  if (cut < 0) return { speeds: [median_sorted(s)], kept: costs.map(() => true) };
  const fast = s.slice(0, cut);
  const slow = s.slice(cut);
  const keep_fast = fast.length >= slow.length;
  const threshold = s[cut]!;
  const speeds = [median_sorted(fast), median_sorted(slow)];
  return {
    speeds: keep_fast ? speeds : speeds.reverse(),
    kept: costs.map((c) => (c < threshold) === keep_fast),
  };
}

/** A row that was timed (not skipped, not a failed measurement). */
export function measured(row: BenchRow): boolean {
  return row.note === null && Number.isFinite(row.ops_per_sec) && row.ops_per_sec > 0;
}

/** Two intervals that share a point. */
export function overlap(a: readonly [number, number], b: readonly [number, number]): boolean {
  return Math.max(a[0], b[0]) <= Math.min(a[1], b[1]);
}

/**
 * The variants whose row for the same benchmark (and scenario) cannot be ranked against this
 * one: their intervals over the rounds overlap. The baseline is never ranked.
 */
export function bench_ties(rows: readonly BenchRow[], row: BenchRow, baseline = 'flat-lookup'): string[] {
  if (!measured(row) || row.name === baseline) return [];
  return rows
    .filter((o) => o !== row && measured(o) && o.name === row.name
      && o.scenario === row.scenario && o.variant !== row.variant)
    .filter((o) => overlap([o.ratio_low, o.ratio_high], [row.ratio_low, row.ratio_high]))
    .map((o) => o.variant);
}

/** Whether a figure lies inside an interval of the previous run (null: no previous figure). */
export function inside(ratio: number, previous: { ratio_low: number; ratio_high: number } | undefined): boolean | null {
  if (!previous || !Number.isFinite(previous.ratio_low) || !Number.isFinite(previous.ratio_high) || !Number.isFinite(ratio)) return null;
  return ratio >= previous.ratio_low && ratio <= previous.ratio_high;
}
