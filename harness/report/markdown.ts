// reports/summary.md: the full picture as GitHub-flavoured markdown: the designs with the
// kernel's reason for each failure, the verdicts (designs as rows), the claims with their
// evidence and links, findings, coverage, design cost, performance, every failure, and each
// variant's patch series with links.

import { conformance_line, finding_lines, needs_legend, per_driver_line } from './review.ts';
import type { Results, VariantInfo } from '../measure/results.ts';
import {
  BASELINE, COVERAGE_HEADER, MEMORY_INTRO, SCALING_INTRO, UNEXPECTED_LEGEND, any_marked, chart_rows,
  core_edit_lines, coverage_cells, coverage_sum, exit_line, failure_groups, findings, input_error_line,
  memory_table, missed_lines, overall_cell, perf_intro, perf_notes, perf_table, sanitise, scaling_table,
  verdict_cell, kernel_reason, design_verdict,
} from './common.ts';

/** The bar chart written next to summary.md (write.ts). */
export const CHART_FILE = 'bench.svg';

/**
 * Text safe inside a table cell or a list item: one line, with the characters
 * that would end a cell (|), open an HTML tag (<), start emphasis (*) or
 * escape (\) written as literals.
 */
export function md(s: string): string {
  return sanitise(s).replace(/[\\|*]/g, (c) => `\\${c}`).replace(/</g, '&lt;');
}

/** A GFM table; a cell given as a list is drawn as lines joined with <br>. */
function md_table(rows: Array<Array<string | string[]>>): string[] {
  const cell = (c: string | string[]): string => (typeof c === 'string' ? md(c) : c.map(md).join('<br>'));
  const line = (row: Array<string | string[]>): string => `| ${row.map(cell).join(' | ')} |`;
  return [line(rows[0]), `|${rows[0].map(() => ' --- |').join('')}`, ...rows.slice(1).map(line)];
}

function code(s: string): string {
  const text = sanitise(s);
  const fence = text.includes('`') ? '``' : '`';
  return `${fence}${fence.length > 1 ? ' ' : ''}${text}${fence.length > 1 ? ' ' : ''}${fence}`;
}

function link(s: { subject: string; link: string }): string {
  const text = md(s.subject).replace(/[[\]]/g, (c) => `\\${c}`);
  const url = sanitise(s.link).trim();
  return /[\s()<>]/.test(url) ? `[${text}](<${url.replace(/[<>]/g, encodeURIComponent)}>)` : `[${text}](${url})`;
}

/** Designs as rows, scenarios as columns; the overall verdict and the expect last. */
function verdicts(r: Results): string[] {
  const rows = [
    ['design', ...r.scenarios.map((s) => s.id), 'overall', 'expect'],
    ...r.variants.map((v) => [v.name, ...r.scenarios.map((s) => verdict_cell(r, s.id, v)), overall_cell(v), v.expect]),
  ];
  const legend = any_marked(r) ? ['', md(UNEXPECTED_LEGEND)] : [];
  const needs = needs_legend(r);
  return ['## Verdicts', '', ...md_table(rows), ...legend, ...(needs ? ['', md(needs)] : [])];
}

/** One line per design: its verdict and, when it fails, the kernel's reason. */
function designs(r: Results): string[] {
  return ['## Designs', '', ...r.variants.map((v) => {
    const reason = v.verdict === 'works' ? null : kernel_reason(r, v);
    return `- **${md(v.name)}**: ${md(design_verdict(r, v))}${reason === null ? '' : `. Why: ${md(reason)}`}`;
  })];
}

/** The claims of the threads with their status, evidence and the mail they were made in. */
function claims(r: Results): string[] {
  if (!r.claims || r.claims.length === 0) return [];
  const rows = [['status', 'claim', 'who', 'evidence'], ...r.claims.map((c) => [c.status, c.claim, c.who, c.evidence])];
  const table = md_table(rows).map((line, i) => {
    if (i < 2) return line;
    const c = r.claims![i - 2]!;
    // the claim links to the mail it was made in
    return line.replace(`| ${md(c.claim)} |`, `| ${link({ subject: c.claim, link: c.link })} |`);
  });
  return ['## Claims of the review threads', '', 'Each claim is judged by queries over results.json (claims/ledger.yaml): upheld when every observation comes out as the claim predicts, refuted when none does, qualified when some do.', '', ...table];
}

function coverage(r: Results): string[] {
  const sums = r.variants.map((v) => ({ name: v.name, c: coverage_sum(r, v.name) }));
  const out = ['## Notifier coverage', '', 'Context devices created by each variant, summed over scenarios.', ''];
  out.push(...md_table([COVERAGE_HEADER, ...sums.map(({ name, c }) => [name, ...coverage_cells(c)])]));
  const missed = missed_lines(r).map((m) => `- ${md(m)}`);
  if (missed.length > 0) out.push('', 'Missed:', '', ...missed);
  return out;
}

function cost_row(v: VariantInfo): Array<string | string[]> {
  if (v.cost === null) return [v.name, '-', '-', '-', '-'];
  return [
    v.name,
    v.cost.bus_types.length > 0 ? v.cost.bus_types : '-',
    core_edit_lines(v).length > 0 ? core_edit_lines(v) : '-',
    v.cost.exported_symbols.length > 0 ? v.cost.exported_symbols : '-',
    String(v.cost.loc),
  ];
}

function design_cost(r: Results): string[] {
  const header = ['variant', 'bus types', 'core edits', 'exported symbols', 'LOC'];
  return ['## Design cost', '', ...md_table([header, ...r.variants.map(cost_row)])];
}

function performance(r: Results): string[] {
  const out: string[] = [];
  if (r.bench.length > 0) {
    out.push(md(perf_intro(r)), '', ...md_table(perf_table(r)));
    if (chart_rows(r).length > 0) out.push('', `![ratios over ${md(BASELINE)}, per benchmark and variant](${CHART_FILE})`);
  }
  if (r.scaling.length > 0) out.push('', '### Scaling', '', md(SCALING_INTRO), '', ...md_table(scaling_table(r)));
  const mem = memory_table(r);
  if (mem) out.push('', '### Peak memory', '', md(MEMORY_INTRO), '', ...md_table(mem));
  const notes = perf_notes(r);
  if (notes.length > 0) out.push('', '### Notes', '', ...notes.map((n) => `- ${md(n)}`));
  return out.length > 0 ? ['## Performance', '', ...(out[0] === '' ? out.slice(1) : out)] : [];
}

function failures(r: Results): string[] {
  const out: string[] = [];
  for (const run of r.results) {
    if (run.failures.length === 0) continue;
    out.push(`### ${md(run.scenario)} \u00d7 ${md(run.variant)} (${run.verdict})`, '');
    const { groups, rest } = failure_groups(run);
    for (const g of groups) {
      out.push(`- ${md(g.first.step)}, ${code(g.check)}: ${md(g.first.message)}`);
      if (g.more !== null) out.push(`  - ${md(g.more)}`);
    }
    if (rest !== null) out.push(`- ${md(rest)}`);
    out.push('');
  }
  return out.length > 0 ? ['## Failures', '', ...out.slice(0, -1)] : [];
}

function unsupported(r: Results): string[] {
  const out = r.results
    .filter((run) => run.verdict === 'unsupported')
    .map((run) => `- ${md(run.scenario)} \u00d7 ${md(run.variant)}: ${md(run.unsupported ?? 'no reason given')}`);
  return out.length > 0 ? ['## Unsupported', '', 'Shown, but counts neither for nor against a variant.', '', ...out] : [];
}

function variants(r: Results): string[] {
  const out = ['## Variants'];
  for (const v of r.variants) {
    out.push('', `### ${md(v.name)}`, '', md(v.summary), '', `Expect: ${v.expect}. Verdict: ${v.verdict}.`);
    if (v.load_error !== null) out.push('', `Did not load: ${md(v.load_error)}`);
    if (v.series.length > 0) out.push('', ...v.series.map((s) => `- ${link(s)}`));
  }
  return out;
}

function input_errors(r: Results): string[] {
  if (r.errors.length === 0) return [];
  return ['## Input errors', '', ...r.errors.map((e) => `- ${code(input_error_line(e))}`)];
}

function findings_section(r: Results): string[] {
  return ['## Findings', '', ...findings(r).map((f) => `- ${md(f)}`)];
}

/** Review findings per design, from the kernel's event log, and each further driver's cost. */
function review(r: Results): string[] {
  const out = ['## Review findings', '', 'Computed from the kernel\'s event log, never from what a design says of itself.', ''];
  for (const v of r.variants) {
    if (v.load_error !== null) continue;
    const lines = finding_lines(v);
    const pd = per_driver_line(v);
    if (pd) lines.push(`cost: ${pd}`);
    out.push(`- **${md(v.name)}**${lines.length ? '' : ': nothing a reviewer would flag'}`, ...lines.map((l) => `  - ${md(l)}`));
  }
  return out;
}

/** reports/summary.md */
export function format_markdown(r: Results): string {
  const sections = [
    ['# IOMMU context devices: comparison', '', `Kernel: ${md(r.kernel)}`, ...(conformance_line(r) ? ['', md(conformance_line(r)!)] : [])],
    designs(r),
    verdicts(r),
    claims(r),
    findings_section(r),
    review(r),
    coverage(r),
    design_cost(r),
    performance(r),
    failures(r),
    unsupported(r),
    variants(r),
    input_errors(r),
    [md(exit_line(r.exit_code))],
  ];
  return `${sections.filter((s) => s.length > 0).map((s) => s.join('\n')).join('\n\n')}\n`;
}
