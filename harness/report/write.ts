// Writing the report files, as a set (report-set.ts): each file is written to a
// temporary name in the same directory, flushed, and renamed over the old one
// under a journal, so that a run killed half-way leaves a set the next run
// finishes, never half of one file nor a mix of two runs' files.

import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import type { Results } from '../measure/results.ts';
import { format_json } from './json.ts';
import { format_ktap } from './ktap.ts';
import { CHART_FILE, format_markdown } from './markdown.ts';
import { format_chart_svg } from './chart.ts';
import { commit_report_set } from './report-set.ts';
import { format_terminal } from './terminal.ts';
import { format_text } from './text.ts';
import { format_details } from './details.ts';

export type ReportFormat = 'text' | 'markdown' | 'json' | 'ktap';

/** The report for `--format`; text is the terminal report, `width` columns wide (100 when
 *  stdout is not a terminal). */
export function format_report(r: Results, format: ReportFormat, width?: number): string {
  switch (format) {
    case 'text': return format_terminal(r, width);
    case 'markdown': return format_markdown(r);
    case 'json': return format_json(r);
    case 'ktap': return format_ktap(r);
  }
}

/** Replace `path` with `content` atomically (temporary file + rename). */
export function write_atomic(path: string, content: string): void {
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    const fd = openSync(tmp, 'wx', 0o644);
    try {
      writeSync(fd, content);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
}

/** Write summary.md, summary.txt, details.txt and results.json into `dir`, and the bar chart summary.md
 *  shows (bench.svg) when there are measured rows (else an old one is removed); returns the
 *  paths written. */
export function write_reports(dir: string, r: Results): string[] {
  const files: Array<[string, string]> = [
    ['summary.md', format_markdown(r)],
    ['summary.txt', format_text(r)],
    ['details.txt', format_details(r)],
    ['results.json', format_json(r)],
  ];
  const chart = format_chart_svg(r);
  if (chart !== null) files.push([CHART_FILE, chart]);
  // as a set: all of this run's files or none (report-set.ts)
  return commit_report_set(dir, files, chart === null ? [CHART_FILE] : []);
}
