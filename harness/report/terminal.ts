// The terminal report: the tables of `npm run compare` drawn with the `table`
// package. Every cell goes through sanitise(): `table` throws on control
// characters and on rows of unequal length.

import { table } from 'table';
import type { Results, VariantInfo } from '../measure/results.ts';
import {
  COVERAGE_HEADER, MEMORY_INTRO, SCALING_INTRO, UNEXPECTED_LEGEND, any_marked, core_edit_lines,
  coverage_cells, coverage_sum, exit_line, failure_groups, findings, input_error_line, memory_table,
  missed_lines, overall_cell, perf_intro, perf_notes, perf_table, sanitise, scaling_table, verdict_cell, wrap,
} from './common.ts';

/** A cell: one line, or several lines drawn one under the other. */
type Cell = string | string[];

/** Widest a free-text column grows before its words wrap (terminal columns). */
const MAX_TEXT = 40;
/** Failure messages wrap here, with a hanging indent. */
const WRAP = 100;

/**
 * Draw rows (the first is the header) with a rule under the header only; the
 * columns listed in `text` wrap at MAX_TEXT.
 */
function draw(rows: Cell[][], text: number[] = []): string {
  const line = (cell: Cell): string => (typeof cell === 'string' ? sanitise(cell) : cell.map(sanitise).join('\n'));
  const clean = rows.map((row) => row.map(line));
  const columns: Record<number, { width: number; wrapWord: boolean }> = {};
  for (const i of text) {
    const widest = Math.max(...clean.flatMap((row) => row[i].split('\n').map((l) => l.length)));
    if (widest > MAX_TEXT) columns[i] = { width: MAX_TEXT, wrapWord: true };
  }
  return table(clean, {
    columns,
    drawHorizontalLine: (i, n) => i === 0 || i === 1 || i === n,
  }).trimEnd();
}

function verdict_matrix(r: Results): string {
  const rows = [
    ['scenario', ...r.variants.map((v) => v.name)],
    ['(expect)', ...r.variants.map((v) => v.expect)],
    ...r.scenarios.map((s) => [s.id, ...r.variants.map((v) => verdict_cell(r, s.id, v))]),
    ['(overall)', ...r.variants.map(overall_cell)],
  ];
  return `Verdicts\n${draw(rows)}${any_marked(r) ? `\n${UNEXPECTED_LEGEND}` : ''}`;
}

function coverage_table(r: Results): string {
  const sums = r.variants.map((v) => ({ name: v.name, c: coverage_sum(r, v.name) }));
  const rows = [COVERAGE_HEADER, ...sums.map(({ name, c }) => [name, ...coverage_cells(c)])];
  const missed = missed_lines(r).flatMap((m) => wrap(m, WRAP, '  ', '    '));
  const tail = missed.length > 0 ? `\nMissed:\n${missed.join('\n')}` : '';
  return `Notifier coverage (context devices created, summed over scenarios)\n${draw(rows)}${tail}`;
}

function cost_row(v: VariantInfo): Cell[] {
  if (v.cost === null) return [v.name, '-', '-', '-', '-'];
  const edits = core_edit_lines(v);
  return [
    v.name,
    v.cost.bus_types.length > 0 ? v.cost.bus_types : '-',
    edits.length > 0 ? edits : '-',
    String(v.cost.exported_symbols.length),
    String(v.cost.loc),
  ];
}

function cost_table(r: Results): string {
  const rows = [['variant', 'bus types', 'core edits', 'exported symbols', 'LOC'], ...r.variants.map(cost_row)];
  return `Design cost\n${draw(rows, [2])}`;
}

function performance(r: Results): string {
  const parts: string[] = [];
  if (r.bench.length > 0) {
    const t = perf_table(r);
    parts.push([...wrap(perf_intro(r), WRAP), draw(t, t[0]!.map((_c, i) => i).slice(2))].join('\n'));
  }
  if (r.scaling.length > 0) parts.push(['Scaling', ...wrap(SCALING_INTRO, WRAP), draw(scaling_table(r))].join('\n'));
  const mem = memory_table(r);
  if (mem) parts.push(['Peak memory', ...wrap(MEMORY_INTRO, WRAP), draw(mem)].join('\n'));
  const notes = perf_notes(r).flatMap((n) => wrap(n, WRAP, '  - ', '    '));
  if (notes.length > 0) parts.push(['Notes', ...notes].join('\n'));
  return parts.length > 0 ? `Performance\n${parts.join('\n\n')}` : '';
}

function failure_list(r: Results): string {
  const out: string[] = [];
  for (const run of r.results) {
    if (run.failures.length === 0) continue;
    out.push(sanitise(`  ${run.scenario} x ${run.variant} (${run.verdict})`));
    const { groups, rest } = failure_groups(run);
    for (const g of groups) {
      out.push(...wrap(`${g.first.step}: ${g.check}: ${g.first.message}`, WRAP, '  - ', '      '));
      if (g.more !== null) out.push(...wrap(g.more, WRAP, '    ', '      '));
    }
    if (rest !== null) out.push(...wrap(rest, WRAP, '  ', '      '));
  }
  for (const v of r.variants) {
    if (v.load_error !== null) out.push(...wrap(`${v.name} did not load: ${v.load_error}`, WRAP, '  ', '      '));
  }
  return out.length > 0 ? `Failures\n${out.join('\n')}` : '';
}

function unsupported_list(r: Results): string {
  const out = r.results
    .filter((run) => run.verdict === 'unsupported')
    .map((run) => sanitise(`  ${run.scenario} x ${run.variant}: ${run.unsupported ?? 'no reason given'}`));
  return out.length > 0 ? `Unsupported\n${out.join('\n')}` : '';
}

function input_errors(r: Results): string {
  if (r.errors.length === 0) return '';
  return `Input errors\n${r.errors.map((e) => sanitise(input_error_line(e))).join('\n')}`;
}

function findings_list(r: Results): string {
  return `Findings\n${findings(r).flatMap((f) => wrap(f, WRAP, '  ', '    ')).join('\n')}`;
}

/** The tables printed on the terminal at the end of a run. */
export function format_terminal(r: Results): string {
  const parts = [
    `Kernel: ${sanitise(r.kernel)}`,
    findings_list(r),
    verdict_matrix(r),
    coverage_table(r),
    cost_table(r),
    performance(r),
    failure_list(r),
    unsupported_list(r),
    input_errors(r),
    exit_line(r.exit_code),
  ];
  return `${parts.filter((p) => p !== '').join('\n\n')}\n`;
}
