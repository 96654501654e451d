// The terminal report of `npm run compare`: the failures, design cost and performance, then
// the summary that summary.txt holds (designs, verdict matrix with the designs as rows, claims,
// coverage), so that the verdicts are the last thing on the screen. Everything fits `width`
// columns (the terminal's, or 100 when the output is not a terminal). Tables are drawn with
// the `table` package; every cell goes through sanitise(): `table` throws on control
// characters and on rows of unequal length.

import { table } from 'table';
import type { Results, VariantInfo } from '../measure/results.ts';
import {
  MEMORY_INTRO, SCALING_INTRO, check_counts, core_edit_lines, memory_table,
  perf_intro, perf_notes, perf_table, sanitise, scaling_table, wrap,
} from './common.ts';
import { format_summary } from './text.ts';
import { review_lines } from './review.ts';

/** A cell: one line, or several lines drawn one under the other. */
type Cell = string | string[];

/** The width when stdout is not a terminal. */
export const DEFAULT_WIDTH = 100;
/** Narrowest a column is squeezed to before the table stops shrinking. */
const MIN_COL = 6;

/** The width the current report is drawn at, and its designs' names (set by format_terminal
 *  for the renderers). */
let WRAP = DEFAULT_WIDTH;
let DESIGNS: ReadonlySet<string> = new Set();

/** Width of a `table` drawing with columns of these content widths: "| a | b |". */
function drawn_width(widths: number[]): number {
  return widths.reduce((sum, w) => sum + w + 3, 1);
}

/**
 * Draw rows (the first is the header) with a rule under the header only, within WRAP columns:
 * while the table is too wide, its widest column loses a column and its words wrap. (The
 * second argument, the columns that hold free text, is kept for the callers; every column may
 * wrap now.)
 */
function draw(rows: Cell[][], _text: number[] = []): string {
  const line = (cell: Cell): string => (typeof cell === 'string' ? sanitise(cell) : cell.map(sanitise).join('\n'));
  const clean = fitting_way_round(rows.map((row) => row.map(line)));
  const widths = clean[0]!.map((_c, i) => Math.max(1, ...clean.flatMap((row) => row[i]!.split('\n').map((l) => l.length))));
  while (drawn_width(widths) > WRAP) {
    const widest = widths.indexOf(Math.max(...widths));
    if (widths[widest]! <= MIN_COL) break;
    widths[widest]!--;
  }
  // still too wide with every column at its narrowest: the first column, then as many of the
  // others as fit, in as many tables as it takes
  const tables: number[][] = [];
  let group: number[] = [];
  for (let c = 1; c < widths.length; c++) {
    if (group.length > 0 && drawn_width([widths[0]!, ...group.map((g) => widths[g]!), widths[c]!]) > WRAP) {
      tables.push(group);
      group = [];
    }
    group.push(c);
  }
  tables.push(group);
  return tables.map((cols) => table(clean.map((row) => [row[0]!, ...cols.map((c) => row[c]!)]), {
    columns: [0, ...cols].map((c) => ({ width: widths[c]!, wrapWord: true })),
    drawHorizontalLine: (i, n) => i === 0 || i === 1 || i === n,
  }).trimEnd()).join('\n');
}

/** A table with a column per design (the performance tables) is drawn the other way round,
 *  a row per design, when that way its columns fit WRAP; so is any table too wide for WRAP even
 *  with its columns at MIN_COL that has more columns than rows. */
function fitting_way_round(rows: string[][]): string[][] {
  const columns = rows[0]!.length;
  const fits = (n: number): boolean => drawn_width(Array(n).fill(MIN_COL)) <= WRAP;
  const design_columns = rows[0]!.filter((h) => DESIGNS.has(h)).length >= 2;
  const turn = design_columns ? fits(rows.length) : !fits(columns) && rows.length < columns;
  return turn ? rows[0]!.map((_c, i) => rows.map((row) => row[i]!)) : rows;
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
  const rows = [['design', 'bus types', 'core edits', 'exported symbols', 'LOC'], ...r.variants.map(cost_row)];
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

/** One line per run that did not pass: its checks with their counts, and for an error what
 *  went wrong. Every failure in full is in details.txt. */
function failure_list(r: Results): string {
  const out: string[] = [];
  for (const run of r.results) {
    if (run.failures.length === 0) continue;
    const checks = check_counts([run]).map(([check, n]) => (n > 1 ? `${check} x${n}` : check)).join(', ');
    const error = run.verdict === 'error' ? ` -- ${run.failures[0]!.message}` : '';
    out.push(...wrap(`${run.scenario} x ${run.variant} (${run.verdict}): ${checks}${error}`, WRAP, '  ', '    '));
  }
  return out.length > 0 ? [...wrap('Failures (one line per run; each failure in full in details.txt)', WRAP), ...out].join('\n') : '';
}

/** The report printed on the terminal at the end of a run, `width` columns wide. */
/** Review findings per design (from the kernel's event log), wrapped to the width. */
function review(r: Results): string {
  const lines = review_lines(r).flatMap((l) => {
    const indent = /^\s*/.exec(l)![0];
    return wrap(sanitise(l.trimStart()), WRAP, `  ${indent}`, `  ${indent}  `);
  });
  return ['Review findings (from the kernel\'s event log)', ...lines].join('\n');
}

export function format_terminal(r: Results, width: number = DEFAULT_WIDTH): string {
  WRAP = Math.max(40, width);
  DESIGNS = new Set(r.variants.map((v) => v.name));
  const parts = [
    failure_list(r),
    cost_table(r),
    review(r),
    performance(r),
    format_summary(r, WRAP).join('\n'),
  ];
  return `${parts.filter((p) => p !== '').join('\n\n')}\n`;
}
