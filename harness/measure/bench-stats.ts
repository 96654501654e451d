// The statistics of the benchmarks, as plain functions of plain numbers: a median with its
// margin of error over pooled samples, medians over rounds, and ties (two rows whose
// difference is inside their combined margin of error are not ranked).
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
 * on a shared machine a batch now and then takes a garbage collection or a preemption that
 * is none of the code's making, and one such batch would move a mean by more than the
 * differences the benchmarks are after.
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

/** A row that was timed (not skipped, not a failed measurement). */
export function measured(row: BenchRow): boolean {
  return row.note === null && Number.isFinite(row.ops_per_sec) && row.ops_per_sec > 0;
}

/**
 * The variants whose row for the same benchmark (and scenario) is within the combined margin
 * of error of this one: the difference in ops/s is less than the sum of both rows' absolute
 * errors. The baseline is never ranked.
 */
export function bench_ties(rows: readonly BenchRow[], row: BenchRow, baseline = 'flat-lookup'): string[] {
  if (!measured(row) || row.name === baseline) return [];
  const err = (x: BenchRow): number => (x.ops_per_sec * Math.abs(x.rme)) / 100;
  return rows
    .filter((o) => o !== row && measured(o) && o.name === row.name
      && o.scenario === row.scenario && o.variant !== row.variant)
    .filter((o) => Math.abs(o.ops_per_sec - row.ops_per_sec) < err(o) + err(row))
    .map((o) => o.variant);
}
