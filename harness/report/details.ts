// reports/details.txt: everything summary.txt leaves out, for the reader who wants the
// evidence: findings, the verdict matrix, coverage with what each context missed, design
// cost, performance, every failure (grouped), the claims with their evidence and links, the
// designs' series. Plain ASCII, no line over 80 columns, nothing that changes between two
// runs on the same Results.

import { conformance_line, needs_legend, needs_lines, review_lines } from './review.ts';
import { getBorderCharacters, table } from 'table';
import type { Results, VariantInfo } from '../measure/results.ts';
import {
  MEMORY_INTRO, SCALING_INTRO, UNEXPECTED_LEGEND, any_marked, core_edit_lines, coverage_cells,
  coverage_sum, exit_line, failure_groups, findings, input_error_line, memory_table, missed_lines,
  overall_cell, perf_intro, perf_notes, perf_table, sanitise, scaling_table, to_ascii, verdict_cell, wrap,
} from './common.ts';

const WIDTH = 80;
const BORDER = getBorderCharacters('ramac');
/** Narrowest a column is squeezed to before its words are wrapped inside it. */
const MIN_COL = 5;
/** Narrowest a free-text column (a note) is squeezed to before the others are. */
const MIN_FLEX = 12;
/** Widest the first (scenario) column of the verdict matrix may be. */
const MAX_KEY_COL = 28;

const clean = (s: string): string => to_ascii(sanitise(s));
/** One paragraph wrapped to WIDTH; line breaks in `s` become spaces. */
const para = (s: string, first = '', rest = first): string[] => wrap(clean(s), WIDTH, first, rest);
/** The same, keeping the line breaks of a multi-line message. */
const lines = (s: string, first: string, rest: string): string[] => wrap(to_ascii(s), WIDTH, first, rest);

/** Width of a table with columns of these content widths: "| a | b |". */
function table_width(widths: number[]): number {
  return widths.reduce((sum, w) => sum + w + 3, 1);
}

function natural_widths(rows: string[][]): number[] {
  return rows[0].map((_, i) => Math.max(1, ...rows.map((row) => row[i].length)));
}

interface Fit {
  /** a free-text column squeezed first, down to MIN_FLEX */
  flex?: number;
  /** widest the first column may be */
  first_max?: number;
}

/**
 * Draw rows (the first is the header) in ASCII within WIDTH columns: while the
 * table is too wide, the column `flex` (if given, down to MIN_FLEX), then the
 * widest column loses a column, and its cells wrap.
 */
function ascii_table(raw: string[][], { flex = -1, first_max = WIDTH }: Fit = {}): string[] {
  const rows = raw.map((row) => row.map(clean));
  const widths = natural_widths(rows);
  widths[0] = Math.min(widths[0], first_max);
  while (table_width(widths) > WIDTH) {
    const widest = flex >= 0 && widths[flex] > MIN_FLEX ? flex : widths.indexOf(Math.max(...widths));
    if (widths[widest] <= MIN_COL) break;
    widths[widest]--;
  }
  const out = table(rows, {
    border: BORDER,
    columns: widths.map((width) => ({ width, wrapWord: true })),
    drawHorizontalLine: (i, n) => i === 0 || i === 1 || i === n,
  });
  return out.trimEnd().split('\n');
}

/** A letter per variant for the matrix columns when the names do not fit. */
function variant_key(i: number): string {
  return i < 26 ? String.fromCharCode(65 + i) : `V${i + 1}`;
}

/**
 * Split the variant columns of the matrix into groups that fit WIDTH, each
 * group drawn with the scenario column in front.
 */
function column_groups(rows: string[][]): number[][] {
  const widths = natural_widths(rows);
  const key = Math.min(widths[0], MAX_KEY_COL);
  const groups: number[][] = [];
  let group: number[] = [];
  for (let i = 1; i < widths.length; i++) {
    if (group.length > 0 && table_width([key, ...group.map((g) => widths[g]), widths[i]]) > WIDTH) {
      groups.push(group);
      group = [];
    }
    group.push(i);
  }
  if (group.length > 0) groups.push(group);
  return groups;
}

function verdict_matrix(r: Results): string[] {
  const body = [
    ['(expect)', ...r.variants.map((v) => v.expect)],
    ...r.scenarios.map((s) => [s.id, ...r.variants.map((v) => verdict_cell(r, s.id, v))]),
    ['(overall)', ...r.variants.map(overall_cell)],
  ];
  const full = [['scenario', ...r.variants.map((v) => v.name)], ...body].map((row) => row.map(clean));
  const fits = table_width(natural_widths(full)) <= WIDTH;
  const rows = fits ? full : [['scenario', ...r.variants.map((_, i) => variant_key(i))], ...body].map((row) => row.map(clean));
  const out = ['Verdicts'];
  for (const group of column_groups(rows)) {
    out.push(...ascii_table(rows.map((row) => [row[0], ...group.map((g) => row[g])]), { first_max: MAX_KEY_COL }));
  }
  if (!fits) r.variants.forEach((v, i) => out.push(...para(v.name, `  ${variant_key(i)} = `, '      ')));
  if (any_marked(r)) out.push(UNEXPECTED_LEGEND);
  return out;
}

function coverage(r: Results): string[] {
  const sums = r.variants.map((v) => ({ name: v.name, c: coverage_sum(r, v.name) }));
  const rows = [
    ['variant', 'ctx', 'ADD', 'REMOVED', 'dma_cfg', 'probe', 'release'],
    ...sums.map(({ name, c }) => [name, ...coverage_cells(c)]),
  ];
  const out = ['Notifier coverage (context devices created, summed over scenarios)', ...ascii_table(rows)];
  out.push(...para('ctx: contexts created; ADD/REMOVED: BUS_NOTIFY_ADD_DEVICE / '
    + 'BUS_NOTIFY_REMOVED_DEVICE reached the IOMMU core; dma_cfg: dma_configure ran; '
    + 'probe/release: iommu_probe_device / iommu_release_device ran.'));
  const missed = missed_lines(r);
  if (missed.length > 0) out.push('Missed:', ...missed.flatMap((m) => para(m, '  ', '    ')));
  return out;
}

function cost_detail(v: VariantInfo): string[] {
  if (v.cost === null) return [];
  const parts = [
    `bus types: ${v.cost.bus_types.join(', ') || 'none'}`,
    `core edits: ${core_edit_lines(v).join('; ') || 'none'}`,
    `exported: ${v.cost.exported_symbols.join(', ') || 'none'}`,
  ];
  return para(`${v.name}: ${parts.join('; ')}`, '  ', '    ');
}

function design_cost(r: Results): string[] {
  const rows = [
    ['variant', 'bus types', 'core edits', 'symbols', 'LOC'],
    ...r.variants.map((v) => (v.cost === null
      ? [v.name, '-', '-', '-', '-']
      : [v.name, String(v.cost.bus_types.length), String(v.cost.core_edits.length),
        String(v.cost.exported_symbols.length), String(v.cost.loc)])),
  ];
  return ['Design cost', ...ascii_table(rows), ...r.variants.flatMap(cost_detail)];
}

/**
 * A side-by-side table within WIDTH: when the variant names do not fit as headers, they are
 * given as letters with a key below, as in the verdict matrix.
 */
function side_by_side(rows: string[][], lead: number): string[] {
  const names = rows[0]!.slice(lead);
  const full = ascii_table(rows);
  if (full.every((l) => l.length <= WIDTH) && names.every((n) => n.length <= 22)) return full;
  const keyed = [[...rows[0]!.slice(0, lead), ...names.map((_n, i) => variant_key(i))], ...rows.slice(1)];
  // at most three variant columns a table: the lead columns are repeated in front of each
  const out: string[] = [];
  for (let at = 0; at < names.length; at += 3) {
    const cols = [...Array(lead).keys(), ...names.slice(at, at + 3).map((_n, i) => lead + at + i)];
    out.push(...ascii_table(keyed.map((row) => cols.map((c) => row[c]!))));
  }
  return [...out, ...names.flatMap((n, i) => para(n, `  ${variant_key(i)} = `, '      '))];
}

/** The performance rows side by side, scaling, peak memory, and the notes. */
function performance(r: Results): string[] {
  const out: string[] = [];
  if (r.bench.length > 0) out.push(...para(perf_intro(r)), ...side_by_side(perf_table(r), 2));
  if (r.scaling.length > 0) out.push('', 'Scaling', ...para(SCALING_INTRO), ...side_by_side(scaling_table(r, '->'), 3));
  const mem = memory_table(r);
  if (mem) out.push('', 'Peak memory', ...para(MEMORY_INTRO), ...side_by_side(mem, 2));
  const notes = perf_notes(r).flatMap((n) => para(n, '  - ', '    '));
  if (notes.length > 0) out.push('', 'Notes', ...notes);
  return out.length > 0 ? ['Performance', ...out] : [];
}

function failures(r: Results): string[] {
  const out: string[] = [];
  for (const run of r.results) {
    if (run.failures.length === 0) continue;
    out.push(...para(`${run.scenario} x ${run.variant} (${run.verdict}):`, '  ', '    '));
    const { groups, rest } = failure_groups(run);
    for (const g of groups) {
      out.push(...lines(`${g.first.step}: ${g.check}: ${g.first.message}`, '  - ', '      '));
      if (g.more !== null) out.push(...para(g.more, '    ', '      '));
    }
    if (rest !== null) out.push(...para(rest, '  ', '      '));
  }
  for (const v of r.variants) {
    if (v.load_error !== null) out.push(...lines(`${v.name} did not load: ${v.load_error}`, '  ', '      '));
  }
  return out.length > 0 ? ['Failures', ...out] : [];
}

function unsupported(r: Results): string[] {
  const out = r.results
    .filter((run) => run.verdict === 'unsupported')
    .flatMap((run) => para(`${run.scenario} x ${run.variant}: ${run.unsupported ?? 'no reason given'}`, '  ', '      '));
  return out.length > 0 ? ['Unsupported (counts neither way)', ...out] : [];
}

/** A link on a line of its own, indented if that fits: a cut URL is no link. */
function url(link: string): string[] {
  const text = clean(link).trim();
  if (text.length + 6 <= WIDTH) return [`      ${text}`];
  // whole, even past WIDTH: a URL is the one thing a line may be longer for (text with spaces
  // in it is no URL, and is wrapped)
  return /\s/.test(text) ? para(text) : [text];
}

function variants(r: Results): string[] {
  const out = ['Variants'];
  for (const v of r.variants) {
    out.push(...para(`${v.name} (expect ${v.expect}): ${v.summary}`, '  ', '    '));
    for (const s of v.series) out.push(...para(s.subject, '    ', '      '), ...url(s.link));
  }
  return out;
}

function input_errors(r: Results): string[] {
  if (r.errors.length === 0) return [];
  return ['Input errors', ...r.errors.flatMap((e) => para(input_error_line(e), '  ', '      '))];
}

/** One line per variant: verdict against expect and the checks that failed. */
function findings_section(r: Results): string[] {
  return ['Findings', ...findings(r).flatMap((f) => para(f, '  ', '    '))];
}

/** Each claim with its status, who made it, the evidence and the link on a line of its own. */
function claims(r: Results): string[] {
  if (!r.claims || r.claims.length === 0) return [];
  const out = ['Claims'];
  for (const c of r.claims) {
    out.push(...para(`[${c.status}] ${c.claim} (${c.who})`, '  ', '    '));
    out.push(...para(`evidence: ${c.evidence}`, '    ', '      '), ...url(c.link));
  }
  return out;
}

/** The verdicts that rest on an out-of-tree series, with the legend of their mark. */
function kernel_needs(r: Results): string[] {
  const legend = needs_legend(r);
  if (!legend) return [];
  return ['Verdicts that need an out-of-tree series', ...para(legend, '  ', '    '), ...needs_lines(r).flatMap((l) => para(l, '  ', '    '))];
}

/** Review findings per design, from the kernel's event log. */
function review(r: Results): string[] {
  return ['Review findings (from the kernel\'s event log)', ...review_lines(r).flatMap((l) => {
    const indent = /^\s*/.exec(l)![0];
    return para(l.trimStart(), `  ${indent}`, `  ${indent}  `);
  })];
}

/** The details for mail: ASCII, at most 80 columns a line, deterministic. */
export function format_details(r: Results): string {
  const sections = [
    para(`IOMMU context devices: ${r.variants.length} designs on ${r.scenarios.length} scenarios`),
    para(`Kernel: ${r.kernel}`),
    conformance_line(r) ? para(conformance_line(r)!) : [],
    findings_section(r),
    verdict_matrix(r),
    kernel_needs(r),
    coverage(r),
    design_cost(r),
    review(r),
    performance(r),
    failures(r),
    unsupported(r),
    claims(r),
    variants(r),
    input_errors(r),
    para(exit_line(r.exit_code)),
  ];
  return `${sections.filter((s) => s.length > 0).map((s) => s.join('\n')).join('\n\n')}\n`;
}
