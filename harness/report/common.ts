// Helpers shared by every report format: cell text for verdicts, coverage and
// benchmarks, sanitising strings that come from variants and scenario files,
// ASCII transliteration and word wrapping for the mail report.

import { NEEDS_MARK } from './review.ts';
import type {
  BenchRow, Coverage, Failure, Results, RunResult, Verdict, VariantInfo,
} from '../measure/results.ts';
import { bench_ties as measure_ties, floor_speeds, measured } from '../measure/bench-stats.ts';

/** The benchmark every ratio is taken against (harness/measure). */
export const BASELINE = 'flat-lookup';

/** Appended to a verdict that does not match the variant's expect. */
export const UNEXPECTED_MARK = '*';
export const UNEXPECTED_LEGEND =
  `${UNEXPECTED_MARK} verdict differs from the variant's expect (exit code 1)`;

// ---------------------------------------------------------------- strings

/**
 * Make a string safe for one table cell or one report line: line breaks and
 * tabs become spaces, other control characters (C0, DEL, C1) become '?'.
 * The `table` package throws on control characters; a newline would break a
 * markdown table row or a KTAP line.
 */
export function sanitise(s: string): string {
  return s
    .replace(/\r\n|[\r\n\t\v\f\u2028\u2029]/g, ' ')
    .replace(/[\u0000-\u001f\u007f-\u009f]/g, '?');
}

const ASCII_FOR: Record<string, string> = {
  '\u00a0': ' ', '\u00b1': '+/-', '\u00d7': 'x', '\u2010': '-', '\u2011': '-',
  '\u2012': '-', '\u2013': '-', '\u2014': '--', '\u2018': "'", '\u2019': "'",
  '\u201c': '"', '\u201d': '"', '\u2026': '...', '\u2190': '<-', '\u2192': '->',
  '\u2194': '<->', '\u21d2': '=>', '\u2264': '<=', '\u2265': '>=', '\u2260': '!=',
  '\u00b5': 'u', '\u03bc': 'u',
};

/** Replace every non-ASCII character (by code point) with an ASCII spelling or '?'. */
export function to_ascii(s: string): string {
  let out = '';
  for (const ch of s) {
    const code = ch.codePointAt(0) ?? 0;
    out += code < 0x80 ? ch : (ASCII_FOR[ch] ?? '?');
  }
  return out;
}

/**
 * Word-wrap `text` to lines of at most `width` columns. The first line starts
 * with `first`, the following ones with `rest` (a hanging indent). Words
 * longer than a line are cut. Line breaks in `text` start a new line.
 */
export function wrap(text: string, width: number, first = '', rest = first): string[] {
  const out: string[] = [];
  for (const para of text.split(/\r\n|\r|\n/)) {
    let line = out.length === 0 ? first : rest;
    let has_word = false;
    for (let word of sanitise(para).split(' ').filter((w) => w !== '')) {
      const sep = has_word ? ' ' : '';
      if (line.length + sep.length + word.length <= width) {
        line += sep + word;
        has_word = true;
        continue;
      }
      if (has_word) {
        out.push(line);
        line = rest;
      }
      while (line.length + word.length > width) {
        const room = Math.max(1, width - line.length);
        out.push(line + word.slice(0, room));
        word = word.slice(room);
        line = rest;
      }
      line += word;
      has_word = word !== '';
    }
    out.push(line.trimEnd());
  }
  return out;
}

// ---------------------------------------------------------------- verdicts

export function find_run(r: Results, scenario: string, variant: string): RunResult | undefined {
  return r.results.find((x) => x.scenario === scenario && x.variant === variant);
}

export function verdict_label(v: Verdict): string {
  switch (v) {
    case 'pass': return 'pass';
    case 'fail': return 'FAIL';
    case 'unsupported': return 'unsupported';
    case 'error': return 'ERROR';
  }
}

/**
 * A run's verdict differs from its variant's expect in the way that makes the
 * CLI exit 1: a "works" variant failed or errored, or a "fails" variant passed
 * and no run of it failed. `unsupported` never counts.
 */
export function run_unexpected(v: Verdict, variant: VariantInfo): boolean {
  if (variant.expect === 'works') return v === 'fail' || v === 'error';
  return v === 'pass' && variant.verdict === 'works';
}

export function variant_unexpected(variant: VariantInfo): boolean {
  return variant.expect === 'works' ? variant.verdict !== 'works' : variant.verdict === 'works';
}

/** Cell text for scenario x variant: "pass", "FAIL *", "ERROR" for a variant that did not load, "-" for no run. */
export function verdict_cell(r: Results, scenario: string, variant: VariantInfo): string {
  const run = find_run(r, scenario, variant.name);
  if (!run) return variant.load_error !== null ? mark('ERROR', variant.expect === 'works') : '-';
  const needs = run.needs.length ? NEEDS_MARK : '';
  return mark(`${verdict_label(run.verdict)}${needs}`, run_unexpected(run.verdict, variant));
}

export function overall_cell(variant: VariantInfo): string {
  return mark(variant.verdict, variant_unexpected(variant));
}

function mark(text: string, unexpected: boolean): string {
  return unexpected ? `${text} ${UNEXPECTED_MARK}` : text;
}

/** Whether some cell of the verdict matrix carries UNEXPECTED_MARK (and so the legend is needed). */
export function any_marked(r: Results): boolean {
  const marked = (cell: string): boolean => cell.endsWith(` ${UNEXPECTED_MARK}`);
  return r.variants.some((v) => marked(overall_cell(v))
    || r.scenarios.some((s) => marked(verdict_cell(r, s.id, v))));
}

export function exit_line(code: number): string {
  const why = code === 0 ? 'every verdict matches its variant\'s expect'
    : code === 1 ? 'some verdict differs from its variant\'s expect'
      : 'bad input or usage';
  return `Exit code ${code}: ${why}`;
}

// ---------------------------------------------------------------- failures

/** How many contexts a "+N more" line or a missed line names before it abbreviates. */
export const MAX_NAMED = 3;
/** How many distinct checks a run shows in full before the rest are only counted. */
export const MAX_CHECKS = 8;

/** The context a failure is about, from a "ctx <name>: ..." message; null when there is none. */
export function failure_context(message: string): string | null {
  const m = /^ctx ([^:\r\n]+?): /.exec(message);
  return m ? m[1] : null;
}

/** What a failure is about: "ctx <name>" or "SID <id>" from the start of its message; null when neither. */
function failure_subject(message: string): { kind: 'ctx' | 'SID'; name: string } | null {
  const ctx = failure_context(message);
  if (ctx !== null) return { kind: 'ctx', name: ctx };
  const sid = /^SID ([^:\s]+): /.exec(message);
  return sid ? { kind: 'SID', name: sid[1] } : null;
}

function distinct<T>(xs: T[]): T[] {
  return [...new Set(xs)];
}

/**
 * "ctx a, b, c" or, for more than MAX_NAMED names, "7 contexts, ctx a .. g"
 * (the first and last in the order the failures came).
 */
function subject_list(kind: 'ctx' | 'SID', names: string[]): string {
  if (names.length <= MAX_NAMED) return `${kind} ${names.join(', ')}`;
  const plural = kind === 'ctx' ? 'contexts' : 'SIDs';
  return `${names.length} ${plural}, ${kind} ${names[0]} .. ${names[names.length - 1]}`;
}

/** The failures of one check in one run: the first in full, the rest as one line. */
export interface FailureGroup {
  check: string;
  first: Failure;
  count: number;
  /** "(+15 more stream-ids failures: 15 contexts, ctx host1x-ctx.1 .. host1x-ctx.15)"; null for a single failure */
  more: string | null;
}

/**
 * The line that stands for `rest`, the failures of `check` after the first:
 * how many, and the contexts (or stream IDs) their messages name.
 */
export function more_line(check: string, rest: Failure[]): string | null {
  if (rest.length === 0) return null;
  const subjects = rest.map((f) => failure_subject(f.message));
  const where: string[] = [];
  for (const kind of ['ctx', 'SID'] as const) {
    const names = distinct(subjects.flatMap((x) => (x !== null && x.kind === kind ? [x.name] : [])));
    if (names.length > 0) where.push(subject_list(kind, names));
  }
  const other = subjects.filter((x) => x === null).length;
  if (where.length > 0 && other > 0) where.push(`${other} on neither`);
  const noun = rest.length === 1 ? 'failure' : 'failures';
  return `(+${rest.length} more ${check} ${noun}${where.length > 0 ? `: ${where.join('; ')}` : ''})`;
}

/**
 * A run's failures grouped by check, in order of first appearance. At most
 * MAX_CHECKS groups; `rest` summarises the failures of any further checks.
 */
export function failure_groups(run: RunResult): { groups: FailureGroup[]; rest: string | null } {
  const by_check = new Map<string, Failure[]>();
  for (const f of run.failures) {
    const list = by_check.get(f.check);
    if (list) list.push(f);
    else by_check.set(f.check, [f]);
  }
  const all = [...by_check].map(([check, fs]): FailureGroup => ({
    check, first: fs[0], count: fs.length, more: more_line(check, fs.slice(1)),
  }));
  const hidden = all.slice(MAX_CHECKS);
  if (hidden.length === 0) return { groups: all, rest: null };
  const n = hidden.reduce((sum, g) => sum + g.count, 0);
  const checks = hidden.map((g) => g.check);
  const named = checks.length <= MAX_NAMED ? checks.join(', ')
    : `${checks.slice(0, MAX_NAMED).join(', ')} and ${checks.length - MAX_NAMED} more`;
  return {
    groups: all.slice(0, MAX_CHECKS),
    rest: `(+${n} more ${n === 1 ? 'failure' : 'failures'} of ${checks.length} other ${checks.length === 1 ? 'check' : 'checks'}: ${named})`,
  };
}

/** Checks with their number of failures over runs, in order of first appearance. */
export function check_counts(runs: RunResult[]): Array<[string, number]> {
  const counts = new Map<string, number>();
  for (const run of runs) for (const f of run.failures) counts.set(f.check, (counts.get(f.check) ?? 0) + 1);
  return [...counts];
}

// ---------------------------------------------------------------- findings

function runs_of(r: Results, variant: string): RunResult[] {
  return r.results.filter((run) => run.variant === variant);
}

/** "scenarios: 1 fail, 2 pass, 1 unsupported" over the variant's runs. */
function run_tally(runs: RunResult[]): string {
  if (runs.length === 0) return 'no runs';
  const order: Verdict[] = ['fail', 'error', 'pass', 'unsupported'];
  const parts = order
    .map((v) => [v, runs.filter((run) => run.verdict === v).length] as const)
    .filter(([, n]) => n > 0)
    .map(([v, n]) => `${n} ${v}`);
  return `scenarios: ${parts.join(', ')}`;
}

/**
 * One line per variant: its verdict against its expect, the checks that
 * failed with their counts, and how its runs went. Then one line for scenario
 * files that did not load.
 */
export function findings(r: Results): string[] {
  const out = r.variants.map((v) => {
    const runs = runs_of(r, v.name);
    const verdict = variant_unexpected(v) ? `${v.verdict}, but expected ${v.expect}` : `${v.verdict} as expected`;
    const why: string[] = [];
    if (v.load_error !== null) why.push('did not load');
    const checks = check_counts(runs).map(([check, n]) => `${check} x${n}`);
    if (checks.length > 0) why.push(checks.join(', '));
    return `${v.name}: ${verdict}${why.length > 0 ? `: ${why.join('; ')}` : ''} (${run_tally(runs)})`;
  });
  if (r.errors.length > 0) {
    const files = distinct(r.errors.map((e) => e.file));
    out.push(`${files.length} scenario ${files.length === 1 ? 'file' : 'files'} did not load (see Input errors)`);
  }
  return out;
}

// ---------------------------------------------------------------- coverage

/** A variant's coverage summed over its runs; `missed` entries are prefixed with the scenario. */
export function coverage_sum(r: Results, variant: string): Coverage {
  const sum: Coverage = {
    contexts: 0, add_notified: 0, removed_notified: 0,
    dma_configured: 0, iommu_probed: 0, iommu_released: 0, missed: [],
  };
  for (const run of r.results) {
    if (run.variant !== variant) continue;
    const c = run.coverage;
    sum.contexts += c.contexts;
    sum.add_notified += c.add_notified;
    sum.removed_notified += c.removed_notified;
    sum.dma_configured += c.dma_configured;
    sum.iommu_probed += c.iommu_probed;
    sum.iommu_released += c.iommu_released;
    for (const m of c.missed) sum.missed.push(`${run.scenario}: ${m}`);
  }
  return sum;
}

/** The coverage columns after "variant": contexts, then each count as "n/N". */
export function coverage_cells(c: Coverage): string[] {
  const n = c.contexts;
  return [
    String(n),
    `${c.add_notified}/${n}`, `${c.removed_notified}/${n}`, `${c.dma_configured}/${n}`,
    `${c.iommu_probed}/${n}`, `${c.iommu_released}/${n}`,
  ];
}

/** A `missed` entry "ctx <name> (<device>): A, B" split up; name null when it has another shape. */
function parse_missed(m: string): { name: string | null; what: string } {
  const x = /^ctx (.+?)(?: \([^()]*\))?: (.+)$/s.exec(m);
  return x ? { name: x[1], what: x[2] } : { name: null, what: m };
}

/**
 * The `missed` lists collapsed: per variant and run, one line per distinct set
 * of missed steps, e.g. "auxiliary-bus on host1x-tegra234: 16/16 contexts
 * missed ADD_DEVICE, dma_configure", naming up to MAX_NAMED contexts when only
 * some missed that set. Entries of another shape are shown as they are.
 */
export function missed_lines(r: Results): string[] {
  const out: string[] = [];
  for (const v of r.variants) {
    for (const run of runs_of(r, v.name)) {
      const sets = new Map<string, Array<string | null>>();
      for (const m of run.coverage.missed) {
        const { name, what } = parse_missed(m);
        const list = sets.get(what);
        if (list) list.push(name);
        else sets.set(what, [name]);
      }
      const total = run.coverage.contexts;
      for (const [what, names] of sets) {
        const known = names.filter((n): n is string => n !== null);
        if (known.length === 0) {
          const times = names.length > 1 ? ` (x${names.length})` : '';
          out.push(`${v.name} on ${run.scenario}: ${what}${times}`);
          continue;
        }
        const n = names.length;
        let which = '';
        if (n < total) {
          const shown = known.slice(0, MAX_NAMED).join(', ');
          const others = n - Math.min(known.length, MAX_NAMED);
          which = ` (ctx ${shown}${others > 0 ? ` and ${others} more` : ''})`;
        }
        out.push(`${v.name} on ${run.scenario}: ${n}/${total} ${total === 1 ? 'context' : 'contexts'} missed ${what}${which}`);
      }
    }
  }
  return out;
}

export const COVERAGE_HEADER = [
  'variant', 'contexts', 'ADD_DEVICE', 'REMOVED_DEVICE',
  'dma_configure', 'iommu_probe_device', 'iommu_release_device',
];

// ---------------------------------------------------------------- benchmarks

/** ops/s with three significant digits and an SI suffix: "412M", "3.05k". */
export function format_ops(n: number): string {
  if (!Number.isFinite(n) || n < 0) return '-';
  const units = ['', 'k', 'M', 'G', 'T'];
  let i = 0;
  let v = n;
  while (i < units.length - 1 && Number(v.toPrecision(3)) >= 1000) {
    v /= 1000;
    i++;
  }
  return `${Number(v.toPrecision(3))}${units[i]}`;
}

export function format_ratio(ratio: number): string {
  if (!Number.isFinite(ratio)) return '-';
  if (ratio >= 0.1) return `${ratio.toFixed(2)}x`;
  return ratio >= 0.001 || ratio === 0 ? `${Number(ratio.toPrecision(2))}x` : `${ratio.toExponential(1)}x`;
}

/**
 * The variants whose row for the same benchmark (and scenario) is within the
 * combined margin of error of this one (harness/measure/bench-stats.ts).
 */
export function bench_ties(rows: BenchRow[], row: BenchRow): string[] {
  return measure_ties(rows, row, BASELINE);
}

/** Variant names in Results order that have a row or a scaling row. */
export function bench_variants(r: Results): string[] {
  const seen = new Set([...r.bench.map((b) => b.variant), ...r.scaling.map((s) => s.variant)]);
  const known = r.variants.map((v) => v.name).filter((n) => seen.has(n));
  return [...known, ...[...seen].filter((n) => !known.includes(n))];
}

/** Benchmark names in the order they first appear. */
function bench_names(r: Results): string[] {
  return [...new Set(r.bench.map((b) => b.name))];
}

function row_of(r: Results, name: string, variant: string): BenchRow | undefined {
  return r.bench.find((b) => b.name === name && b.variant === variant);
}

export function format_goal(row: { name: string; goal: number | null } | undefined): string {
  if (!row) return '';
  if (row.name === BASELINE) return 'floor';
  return row.goal === null ? '-' : `>= ${row.goal.toFixed(2)}`;
}

/** The ratio, its interval over the rounds, and ops/s of the median batch: one cell. */
export function perf_cell(row: BenchRow | undefined): string {
  if (!row) return '-';
  if (!measured(row)) return row.note?.startsWith('failed measurement') ? 'failed measurement' : 'not measured';
  const ops = `${format_ops(row.ops_per_sec)}/s`;
  if (row.name === BASELINE) return ops;
  const spread = Number.isFinite(row.ratio_low) && format_ratio(row.ratio_low) !== format_ratio(row.ratio_high)
    ? ` [${format_ratio(row.ratio_low).slice(0, -1)}-${format_ratio(row.ratio_high)}]` : '';
  return `${format_ratio(row.ratio)}${spread} ${ops}`;
}

/** The side-by-side table: header, then one row per benchmark: name, goal, a cell per variant. */
export function perf_table(r: Results): string[][] {
  const variants = bench_variants(r).filter((v) => r.bench.some((b) => b.variant === v));
  const rows = bench_names(r).map((name) => {
    const cells = variants.map((v) => row_of(r, name, v));
    return [name, format_goal(cells.find((c) => c !== undefined)), ...cells.map((c) => perf_cell(c))];
  });
  return [['benchmark', 'goal', ...variants], ...rows];
}

/** What the scenario, rounds and ratio mean, in one paragraph. */
export function perf_intro(r: Results): string {
  const scenarios = [...new Set(r.bench.map((b) => b.scenario))];
  const rounds = Math.max(0, ...r.bench.map((b) => b.rounds.length));
  return `Measured on ${scenarios.join(', ')}, ${rounds} ${rounds === 1 ? 'round' : 'rounds'} after two warm-up `
    + 'rounds; each variant in workers of its own, the rounds spread over them, the variants taking '
    + 'turns, one pass each per round. '
    + `Ratio: ops/s over ${BASELINE}, each batch timed right after a ${BASELINE} batch of the same worker; `
    + 'a round\'s figure is the median of its pairs, the ratio the median of the rounds\' figures, '
    + '[5th-95th percentile] of them; then ops/s of the median batch. Two variants whose intervals '
    + 'overlap tie.';
}

/**
 * The notes under the table: why a variant's rows were not measured (once per variant and
 * reason), rows that failed as measurements, goals not reached, and ties.
 */
export function perf_notes(r: Results): string[] {
  const out: string[] = [];
  for (const v of bench_variants(r)) {
    const mine = [...r.bench.filter((b) => b.variant === v && !measured(b)), ...r.scaling.filter((s) => s.variant === v && s.note !== null)];
    const by_note = new Map<string, string[]>();
    for (const b of mine) {
      const list = by_note.get(b.note!);
      if (list) list.push(b.name);
      else by_note.set(b.note!, [b.name]);
    }
    for (const [note, names] of by_note) {
      const all = names.length >= 3 ? 'every row' : [...new Set(names)].join(', ');
      out.push(`${v}: ${all}: ${note}`);
    }
  }
  for (const name of bench_names(r)) {
    const rows = r.bench.filter((b) => b.name === name && measured(b));
    const missed = rows.filter((b) => b.goal !== null && !(b.ratio >= b.goal));
    if (missed.length) {
      out.push(`${name}: goal ${format_goal(missed[0])} not reached by ${missed.map((b) => `${b.variant} (${format_ratio(b.ratio)})`).join(', ')}`);
    }
    const tied = rows.filter((b) => b.ties.length > 0).map((b) => b.variant);
    if (tied.length > 1) out.push(`${name}: ${tied.join(' and ')} tie (their intervals overlap)`);
  }
  out.push(...floor_notes(r), ...split_row_notes(r), ...run_to_run_note(r));
  for (const s of r.scaling) {
    if (s.note === null && !(s.cost_ratio <= s.goal)) out.push(`${s.name}: cost ratio ${s.cost_ratio.toFixed(2)} for ${s.variant} is above the goal of ${s.goal}`);
  }
  return out;
}

/** A floor that ran at two speeds in a variant's worker: both, and which one the ratios use. */
function floor_notes(r: Results): string[] {
  const out: string[] = [];
  for (const v of bench_variants(r)) {
    const row = r.bench.find((b) => b.variant === v && measured(b) && b.floor_speeds.length > 1);
    if (!row) continue;
    const [kept, other] = row.floor_speeds.map(format_ns) as [string, string];
    out.push(`${BASELINE} ran at two speeds in the workers of ${v}: ${kept} and ${other} per operation; `
      + `only the rounds at ${kept}, the more common, count`);
  }
  return out;
}

/** Rows whose rounds split into two levels (the same test as the floor's two speeds): their
 *  median may fall at either from one run to the next. */
function split_row_notes(r: Results): string[] {
  const out: string[] = [];
  for (const b of r.bench) {
    if (!measured(b) || b.name === BASELINE) continue;
    const levels = floor_speeds(b.rounds).speeds;
    if (levels.length > 1) out.push(`${b.name} of ${b.variant}: its rounds split into two levels, ${levels.map(format_ratio).join(' and ')}`);
  }
  return out;
}

/** How many rows lie inside the previous run's interval (the goal: at least 9 in 10). */
function run_to_run_note(r: Results): string[] {
  const compared = r.bench.filter((b) => measured(b) && b.inside_previous !== null);
  if (compared.length === 0) return [];
  const outside = compared.filter((b) => b.inside_previous === false);
  const which = outside.length ? `; outside: ${outside.map((b) => `${b.name} of ${b.variant} (${format_ratio(b.ratio)})`).join(', ')}` : '';
  return [`run to run: ${compared.length - outside.length} of ${compared.length} ratios lie inside the previous `
    + `run's interval (goal: at least 9 in 10)${which}`];
}

export function format_count(n: number): string {
  return n.toLocaleString('en-US');
}

/** Nanoseconds or microseconds, three significant digits. */
export function format_ns(ns: number): string {
  if (!Number.isFinite(ns)) return '-';
  return ns >= 1000 ? `${Number((ns / 1000).toPrecision(3))} us` : `${Number(ns.toPrecision(3))} ns`;
}

/** Scaling side by side: one row per operation, the cost ratio and both costs per variant. */
export function scaling_table(r: Results, arrow = '\u2192'): string[][] {
  const variants = bench_variants(r).filter((v) => r.scaling.some((s) => s.variant === v));
  const ops = [...new Set(r.scaling.map((s) => s.name))];
  const rows = ops.map((name) => {
    const first = r.scaling.find((s) => s.name === name)!;
    const cells = variants.map((v) => {
      const s = r.scaling.find((x) => x.name === name && x.variant === v);
      if (!s) return '-';
      if (s.note !== null) return s.note.startsWith('failed measurement') ? 'failed measurement' : 'not measured';
      const spread = s.cost_low.toFixed(2) !== s.cost_high.toFixed(2) ? ` [${s.cost_low.toFixed(2)}-${s.cost_high.toFixed(2)}]` : '';
      return `${s.cost_ratio.toFixed(2)}${spread} (${format_ns(s.small_ns)} ${arrow} ${format_ns(s.large_ns)})`;
    });
    return [name, `${format_count(first.small)} ${arrow} ${format_count(first.large)}`, `<= ${first.goal}`, ...cells];
  });
  return [['operation', 'live objects', 'goal', ...variants], ...rows];
}

export const SCALING_INTRO = 'Cost ratio: the cost of one operation with the larger number of live objects over '
  + 'its cost with the smaller, each batch at the larger size timed right after one at the smaller; a round\'s '
  + 'figure is the median of its pairs, the cost ratio the median of the rounds\', [5th-95th percentile] of them; '
  + 'then the cost of one operation at each size (the median batch of those pairs).';

/** Peak memory per scenario and variant (MiB), for the runs that measured it. */
export function memory_table(r: Results): string[][] | null {
  const runs = r.results.filter((x) => x.peak_heap_mb !== undefined);
  if (runs.length === 0) return null;
  const variants = r.variants.map((v) => v.name).filter((n) => runs.some((x) => x.variant === n));
  const scenarios = r.scenarios.map((s) => s.id).filter((id) => runs.some((x) => x.scenario === id));
  const rows = scenarios.map((id) => {
    const steps = Math.max(0, ...runs.filter((x) => x.scenario === id).map((x) => x.steps_run));
    return [id, format_count(steps), ...variants.map((v) => {
      const run = runs.find((x) => x.scenario === id && x.variant === v);
      return run?.peak_heap_mb !== undefined ? `${Math.round(run.peak_heap_mb)}` : '-';
    })];
  });
  return [['scenario', 'steps', ...variants], ...rows];
}

export const MEMORY_INTRO = 'Peak memory of each run, MiB: how far the V8 heap in use and the memory outside it '
  + '(typed arrays) of the worker that ran it grew over their level at its start (after two full garbage '
  + 'collections), sampled every 1024 steps and around the teardown.';

/** The performance rows a bar chart can draw: measured, not the baseline. */
export function chart_rows(r: Results): BenchRow[] {
  return r.bench.filter((b) => measured(b) && b.name !== BASELINE && Number.isFinite(b.ratio) && b.ratio > 0);
}

// ---------------------------------------------------------------- design cost

export function core_edit_lines(v: VariantInfo): string[] {
  return (v.cost?.core_edits ?? []).map((e) => `${e.file}: ${e.what}`);
}

export function input_error_line(e: { file: string; line: number; col: number; message: string }): string {
  return `${e.file}:${e.line}:${e.col}: ${e.message}`;
}

// ---------------------------------------------------------------- the mail's first lines

/**
 * The kernel's reason a design fails, in the model's words: the diagnosis that the most
 * frequent check of its failed runs gives for its first failure (a message reads "ctx <name>:
 * <what was seen>; <why, clause by clause>"; the why is kept). A variant error or a WARNING
 * is given as it is. Null for a design with no failure.
 */
export function kernel_reason(r: Results, v: VariantInfo): string | null {
  if (v.load_error !== null) return `did not load: ${v.load_error}`;
  const runs = runs_of(r, v.name).filter((run) => run.verdict === 'fail' || run.verdict === 'error');
  const counts = check_counts(runs).sort((a, b) => b[1] - a[1]);
  if (counts.length === 0) return null;
  const check = counts[0]![0];
  const first = runs.flatMap((run) => run.failures).find((f) => f.check === check)!;
  const message = first.message.replace(/^ctx [^:\r\n]+?: /, '');
  const clauses = message.split('; ');
  const why = clauses.length > 1 ? clauses.slice(1).join('; ') : message;
  return `${check}: ${why}`;
}

/** "works", "fails", "fails, but expected works" and the like, with what stands out. */
export function design_verdict(r: Results, v: VariantInfo): string {
  const runs = runs_of(r, v.name);
  const unsupported = runs.filter((run) => run.verdict === 'unsupported').length;
  const verdict = variant_unexpected(v) ? `${v.verdict}, but expected ${v.expect}` : `${v.verdict} as expected`;
  return unsupported > 0 ? `${verdict} (unsupported on ${unsupported} of ${runs.length})` : verdict;
}

/** A short cell for a run's verdict in narrow tables: pass, FAIL, unsup, ERROR, "-". */
export function short_verdict_cell(r: Results, scenario: string, v: VariantInfo): string {
  return verdict_cell(r, scenario, v).replace('unsupported', 'unsup');
}

/** A letter per scenario for narrow matrix columns: a, b, ... z, then s27, s28... */
export function scenario_key(i: number): string {
  return i < 26 ? String.fromCharCode(97 + i) : `s${i + 1}`;
}
