// Helpers shared by every report format: cell text for verdicts, coverage and
// benchmarks, sanitising strings that come from variants and scenario files,
// ASCII transliteration and word wrapping for the mail report.

import type {
  BenchRow, Coverage, Results, RunResult, Verdict, VariantInfo,
} from '../measure/results.ts';

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
  return mark(verdict_label(run.verdict), run_unexpected(run.verdict, variant));
}

export function overall_cell(variant: VariantInfo): string {
  return mark(variant.verdict, variant_unexpected(variant));
}

function mark(text: string, unexpected: boolean): string {
  return unexpected ? `${text} ${UNEXPECTED_MARK}` : text;
}

export function exit_line(code: number): string {
  const why = code === 0 ? 'every verdict matches its variant\'s expect'
    : code === 1 ? 'some verdict differs from its variant\'s expect'
      : 'bad input or usage';
  return `Exit code ${code}: ${why}`;
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

export function format_rme(rme: number, pm = '\u00b1'): string {
  return Number.isFinite(rme) ? `${pm}${rme.toFixed(1)}%` : '-';
}

export function format_ratio(ratio: number): string {
  if (!Number.isFinite(ratio)) return '-';
  if (ratio >= 0.1) return `${ratio.toFixed(2)}x`;
  return ratio >= 0.001 || ratio === 0 ? `${Number(ratio.toPrecision(2))}x` : `${ratio.toExponential(1)}x`;
}

function measured(row: BenchRow): boolean {
  return row.note === null && Number.isFinite(row.ops_per_sec) && row.ops_per_sec > 0;
}

/**
 * The variants whose row for the same benchmark (and scenario) is within the
 * combined margin of error of this one: the difference in ops/s is less than
 * the sum of both rows' absolute error.
 */
export function bench_ties(rows: BenchRow[], row: BenchRow): string[] {
  if (!measured(row) || row.name === BASELINE) return [];
  const err = (x: BenchRow): number => (x.ops_per_sec * Math.abs(x.rme)) / 100;
  return rows
    .filter((o) => o !== row && measured(o) && o.name === row.name
      && o.scenario === row.scenario && o.variant !== row.variant)
    .filter((o) => Math.abs(o.ops_per_sec - row.ops_per_sec) < err(o) + err(row))
    .map((o) => o.variant);
}

/** The cells of one bench row: name, scenario, variant, ops/s, rme, ratio, note. */
export function bench_cells(rows: BenchRow[], row: BenchRow, pm = '\u00b1'): string[] {
  const ties = bench_ties(rows, row);
  const note = row.note ?? (ties.length > 0 ? `tie with ${ties.join(', ')}` : '');
  const ok = measured(row);
  return [
    row.name, row.scenario, row.variant,
    ok ? format_ops(row.ops_per_sec) : '-',
    ok ? format_rme(row.rme, pm) : '-',
    ok ? format_ratio(row.ratio) : '-',
    note,
  ];
}

export const BENCH_HEADER = ['benchmark', 'scenario', 'variant', 'ops/s', '\u00b1rme', `vs ${BASELINE}`, 'note'];

// ---------------------------------------------------------------- design cost

export function core_edit_lines(v: VariantInfo): string[] {
  return (v.cost?.core_edits ?? []).map((e) => `${e.file}: ${e.what}`);
}

export function input_error_line(e: { file: string; line: number; col: number; message: string }): string {
  return `${e.file}:${e.line}:${e.col}: ${e.message}`;
}
