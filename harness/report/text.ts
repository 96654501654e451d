// reports/summary.txt: a reply to a review thread, pasted as it is. In this order: one line
// per design (its verdict and, when it fails, the kernel's reason), the verdict matrix with the
// designs as rows, the claims of the threads, coverage one line per design. Plain ASCII, lines
// of at most MAIL_WIDTH columns (a URL alone on its line is the one thing allowed past it), at
// most MAIL_LINES lines; nothing that changes between two runs on the same Results. The rest
// is in details.txt (details.ts). The terminal prints the same summary at its own width.

import { NEEDS_MARK, needs_legend } from './review.ts';
import type { Results, VariantInfo } from '../measure/results.ts';
import {
  UNEXPECTED_MARK, coverage_sum, design_verdict, format_count, exit_line, input_error_line, kernel_reason,
  overall_cell, sanitise, scenario_key, short_verdict_cell, to_ascii, wrap,
} from './common.ts';

export const MAIL_WIDTH = 72;
export const MAIL_LINES = 80;
/** Lines the kernel reason of one design may take, tried in turn until the summary fits. */
const REASON_LINES = [3, 2, 1];
/** Columns between the design column and the rest, and between scenario columns. */
const GAP = 2;
const CELL_GAP = 1;

const clean = (s: string): string => to_ascii(sanitise(s));

function para(s: string, width: number, first = '', rest = first): string[] {
  return wrap(clean(s), width, first, rest);
}

/** At most `n` lines; the last one ends in "..." when some were cut. */
function at_most(lines: string[], n: number, width: number): string[] {
  if (lines.length <= n) return lines;
  const last = lines[n - 1]!;
  return [...lines.slice(0, n - 1), `${last.slice(0, Math.max(0, width - 4)).trimEnd()} ...`];
}

function header(r: Results, width: number): string[] {
  const designs = `${r.variants.length} ${r.variants.length === 1 ? 'design' : 'designs'}`;
  const scenarios = `${r.scenarios.length} ${r.scenarios.length === 1 ? 'scenario' : 'scenarios'}`;
  return para(`IOMMU context devices: ${designs} on ${scenarios}. Kernel: ${r.kernel}.`, width);
}

function design_lines(r: Results, v: VariantInfo, width: number, reason_lines: number): string[] {
  if (v.load_error !== null) return at_most(para(`${v.name} did not load: ${v.load_error}`, width, '  ', '    '), reason_lines, width);
  const reason = v.verdict === 'works' ? null : kernel_reason(r, v);
  const head = `${v.name}: ${design_verdict(r, v)}`;
  if (reason === null) return para(head, width, '  ', '    ');
  return at_most(para(`${head}. Why: ${reason}`, width, '  ', '    '), reason_lines, width);
}

function designs(r: Results, width: number, reason_lines: number): string[] {
  return ['Designs (verdict; for a failure, the kernel\'s reason)', ...r.variants.flatMap((v) => design_lines(r, v, width, reason_lines))];
}

/** Plain columns, left-aligned (no borders: a mail client may not keep them): the first
 *  GAP from the rest, the others CELL_GAP apart. */
function columns(rows: string[][]): string[] {
  const widths = rows[0]!.map((_c, i) => Math.max(...rows.map((row) => row[i]!.length)));
  const pad = (cell: string, i: number, last: boolean): string => (last ? cell : cell.padEnd(widths[i]! + (i === 0 ? GAP : CELL_GAP)));
  return rows.map((row) => row.map((cell, i) => pad(cell, i, i === row.length - 1)).join('').trimEnd());
}

/** The matrix cell: "FAIL*" rather than "FAIL *", to keep the columns narrow. */
function cell(r: Results, scenario: string, v: VariantInfo): string {
  return short_verdict_cell(r, scenario, v).replace(` ${UNEXPECTED_MARK}`, UNEXPECTED_MARK);
}

/** The same in two characters, for a matrix that would not fit otherwise: ok, F, u, E, -. */
const COMPACT: Record<string, string> = { pass: 'ok', FAIL: 'F', unsup: 'u', ERROR: 'E', '-': '-' };
function compact_cell(r: Results, scenario: string, v: VariantInfo): string {
  const full = cell(r, scenario, v);
  const marked = full.endsWith(UNEXPECTED_MARK);
  let word = marked ? full.slice(0, -UNEXPECTED_MARK.length) : full;
  const needs = word.endsWith(NEEDS_MARK);
  if (needs) word = word.slice(0, -NEEDS_MARK.length);
  return `${COMPACT[word] ?? word}${needs ? NEEDS_MARK : ''}${marked ? UNEXPECTED_MARK : ''}`;
}

type CellOf = (r: Results, scenario: string, v: VariantInfo) => string;

/** The scenario columns in groups that fit `width` beside the design and overall columns. */
function scenario_groups(r: Results, lead: number, width: number, of: CellOf): number[][] {
  // each column as wide as its widest cell; as many columns a line as fit beside the design
  // and overall columns
  const overall = Math.max('overall'.length, ...r.variants.map((v) => overall_cell(v).length));
  const room = width - 2 - lead - GAP - overall;
  const groups: number[][] = [];
  let group: number[] = [];
  let used = 0;
  r.scenarios.forEach((s, i) => {
    const w = Math.max(scenario_key(i).length, ...r.variants.map((v) => of(r, s.id, v).length)) + CELL_GAP;
    if (group.length > 0 && used + w > room) {
      groups.push(group);
      group = [];
      used = 0;
    }
    group.push(i);
    used += w;
  });
  if (group.length > 0 || groups.length === 0) groups.push(group);
  return groups;
}

/** Designs as rows, scenarios as lettered columns (the key below), the overall verdict last.
 *  The cells are words when the scenarios fit on one line that way, else two characters. */
function matrix(r: Results, width: number): string[] {
  const lead = Math.max('design'.length, ...r.variants.map((v) => clean(v.name).length));
  const compact = scenario_groups(r, lead, width, cell).length > 1;
  const of = compact ? compact_cell : cell;
  const out = ['Verdicts (design x scenario)'];
  for (const group of scenario_groups(r, lead, width, of)) {
    const rows = [
      ['design', ...group.map(scenario_key), 'overall'],
      ...r.variants.map((v) => [clean(v.name), ...group.map((i) => of(r, r.scenarios[i]!.id, v)), overall_cell(v).replace(` ${UNEXPECTED_MARK}`, UNEXPECTED_MARK)]),
    ];
    out.push(...columns(rows).map((l) => `  ${l}`));
  }
  const key = r.scenarios.map((s, i) => `${scenario_key(i)} = ${clean(s.id)}`).join(', ');
  out.push(...para(key, width, '  ', '  '));
  const legend = compact ? 'ok: pass; F: fail; E: error; u: unsupported, needs a further patch to serve that driver (counts neither way)'
    : 'unsup: needs a further patch to serve that driver (counts neither way)';
  out.push(...para(`${legend}; ${UNEXPECTED_MARK}: differs from the design's expect`, width, '  ', '  '));
  const needs = needs_legend(r);
  if (needs) out.push(...para(needs, width, '  ', '  '));
  return out;
}

function claims(r: Results, width: number): string[] {
  if (!r.claims || r.claims.length === 0) return [];
  const status_width = Math.max(...r.claims.map((c) => c.status.length));
  const lines = r.claims.map((c) => at_most(para(c.claim, width, `  ${c.status.padEnd(status_width)}  `), 1, width)[0]!);
  const tally = ['upheld', 'refuted', 'qualified', 'untested']
    .map((s) => [s, r.claims!.filter((c) => c.status === s).length] as const)
    .filter(([, n]) => n > 0).map(([s, n]) => `${n} ${s}`).join(', ');
  return [...para(`Claims of the threads (${tally}; evidence and links: details.txt)`, width), ...lines];
}

/** One row per design: contexts created, and how many reached the IOMMU core's three
 *  steps (the bus notifier's ADD_DEVICE, iommu_probe_device, iommu_release_device). Long
 *  design names are cut (ending in '~') to keep the row within `width`. */
function coverage(r: Results, width: number): string[] {
  const designs = r.variants.filter((v) => v.load_error === null);
  if (designs.length === 0) return [];
  const figures = designs.map((v) => {
    const c = coverage_sum(r, v.name);
    return [c.contexts, c.add_notified, c.iommu_probed, c.iommu_released].map(format_count);
  });
  const header = ['contexts', 'ADD_DEVICE', 'probed', 'released'];
  const widths = header.map((h, i) => Math.max(h.length, ...figures.map((f) => f[i]!.length)));
  const room = width - 2 - widths.reduce((sum, w) => sum + w + 2, 0);
  const name = (s: string): string => (s.length <= room ? s : `${s.slice(0, Math.max(1, room - 1))}~`);
  const names = designs.map((v) => name(clean(v.name)));
  const lead = Math.max('design'.length, ...names.map((n) => n.length));
  const line = (first: string, cells: string[]): string => `  ${first.padEnd(lead)}${cells.map((c, i) => `  ${c.padStart(widths[i]!)}`).join('')}`;
  return [...para('Coverage: context devices created, and how many the IOMMU core saw', width), line('design', header), ...names.map((n, i) => line(n, figures[i]!))];
}

function input_errors(r: Results, width: number): string[] {
  if (r.errors.length === 0) return [];
  const lines = r.errors.flatMap((e) => at_most(para(input_error_line(e), width, '  ', '    '), 2, width));
  return ['Input errors', ...lines];
}

function footer(r: Results, width: number): string[] {
  return [...para(exit_line(r.exit_code), width), ...para('Failures in full, performance, design cost, the claims\' evidence and the designs\' series: details.txt and summary.md.', width)];
}

/** The summary at `width` columns: the mail (summary.txt) at MAIL_WIDTH, the terminal at its own. */
export function format_summary(r: Results, width: number = MAIL_WIDTH): string[] {
  let lines: string[] = [];
  // the kernel's reasons are cut shorter, down to a line each, before anything else is
  for (const reason_lines of REASON_LINES) {
    const sections = [header(r, width), designs(r, width, reason_lines), matrix(r, width), claims(r, width), coverage(r, width), input_errors(r, width), footer(r, width)]
      .filter((s) => s.length > 0);
    lines = sections.flatMap((s, i) => (i === 0 ? s : ['', ...s]));
    if (lines.length <= MAIL_LINES) return lines;
  }
  // too long (many designs or claims): the start is kept, the footer says where the rest is
  const tail = footer(r, width);
  return [...lines.slice(0, MAIL_LINES - tail.length - 2), '  ...', '', ...tail];
}

/** reports/summary.txt */
export function format_text(r: Results): string {
  return `${format_summary(r).join('\n')}\n`;
}
