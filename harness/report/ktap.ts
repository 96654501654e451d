// KTAP version 1 (Documentation/dev-tools/ktap.rst), shaped so that the kernel's own reader
// (tools/testing/kunit/kunit_parser.py) reports success exactly when `npm run compare` exits 0:
// - the plan follows the version line at once (the reader looks for it on the next line);
// - one test per design, each a subtest per scenario run (version line, "# Subtest:", plan);
// - a run that fails the way its design is expected to is "ok ... # XFAIL", as kselftest
//   prints it, so the reader counts it as passed; an unsupported run is "ok ... # SKIP";
//   anything that makes the CLI exit non-zero is "not ok";
// - diagnostics come before the result line they explain, at most MAX_DIAG_LINES per test:
//   the whole of every failure is in results.json.

import type { Results, RunResult, VariantInfo } from '../measure/results.ts';
import { failure_groups, input_error_line, run_unexpected, sanitise } from './common.ts';

/** Diagnostic lines one test prints at most before "# ... see results.json". */
export const MAX_DIAG_LINES = 6;

/** A test description may hold any character but '#' and a newline. */
function name(s: string): string {
  return sanitise(s).replace(/#/g, '_').trim() || '(unnamed)';
}

/** Text after a directive: no '#' either, so that a reader finds one directive. */
function reason(s: string): string {
  return sanitise(s).replace(/#/g, '_').trim();
}

function diag(s: string): string {
  return `# ${sanitise(s)}`.trimEnd();
}

/** The first lines of a run's failures, one per check, capped. */
function failure_diags(run: RunResult): string[] {
  const { groups, rest } = failure_groups(run);
  const lines = groups.map((g) => `${g.first.step}: ${g.check}: ${g.first.message}${g.count > 1 ? ` (x${g.count})` : ''}`);
  if (rest !== null) lines.push(rest);
  return capped(lines, run.failures.length);
}

function capped(lines: string[], total: number): string[] {
  if (lines.length <= MAX_DIAG_LINES) return lines.map(diag);
  const shown = lines.slice(0, MAX_DIAG_LINES - 1);
  return [...shown.map(diag), diag(`... ${total} failures in all: see results.json`)];
}

/** The result line of one scenario run of a design. */
function run_result(n: number, run: RunResult, v: VariantInfo): string {
  const id = name(run.scenario);
  if (run.verdict === 'unsupported') return `ok ${n} ${id} # SKIP ${reason(run.unsupported ?? 'unsupported')}`;
  if (run_unexpected(run.verdict, v)) {
    const what = run.verdict === 'pass' ? `passed, but ${v.name} is expected to fail` : run.verdict;
    return `not ok ${n} ${id} # ${run.verdict === 'error' ? 'ERROR ' : ''}${reason(what)}`;
  }
  if (run.verdict === 'pass') return `ok ${n} ${id}`;
  // a failed or crashed run of a design expected to fail (an error still counts against it)
  if (run.verdict === 'error') return `not ok ${n} ${id} # ERROR variant error`;
  const first = run.failures[0];
  return `ok ${n} ${id} # XFAIL ${reason(first ? first.check : 'fail')}`;
}

/** The kernel a run depended on, when it is more than mainline: its out-of-tree series, and
 *  those its verdict needs. */
function kernel_diag(run: RunResult): string[] {
  if (!run.kernel.patches.length) return [];
  const needs = run.needs.length ? `; the verdict needs ${run.needs.join(', ')}` : '';
  return [diag(`${run.scenario}: kernel ${run.kernel.flow} + ${run.kernel.patches.join(', ')}${needs}`)];
}

/** The variant's runs in the order of r.scenarios (runs of unknown scenarios last). */
function runs_of(r: Results, v: VariantInfo): RunResult[] {
  const order = (run: RunResult): number => {
    const i = r.scenarios.findIndex((s) => s.id === run.scenario);
    return i < 0 ? r.scenarios.length : i;
  };
  return r.results.filter((run) => run.variant === v.name).sort((a, b) => order(a) - order(b));
}

/** Whether the design's verdict matches its expect (else the CLI exits 1). */
function design_ok(v: VariantInfo): boolean {
  return v.expect === 'works' ? v.verdict === 'works' : v.verdict === 'fails';
}

/** One design: a test of its own with a subtest per scenario run, or a single "not ok"
 *  when it did not load. */
function design_lines(n: number, r: Results, v: VariantInfo): string[] {
  const id = name(v.name);
  if (v.load_error !== null) {
    return [...capped([`did not load: ${v.load_error}`], 1), `not ok ${n} ${id} # ERROR did not load`];
  }
  const runs = runs_of(r, v);
  const body = [
    'KTAP version 1',
    `# Subtest: ${id}`,
    `1..${runs.length}`,
    diag(`expect: ${v.expect}, verdict: ${v.verdict}`),
    ...runs.flatMap((run, i) => [...(run.verdict === 'pass' || run.verdict === 'unsupported' ? [] : failure_diags(run)), ...kernel_diag(run), run_result(i + 1, run, v)]),
  ];
  const ok = design_ok(v);
  const tail = ok ? `ok ${n} ${id}${v.expect === 'fails' ? ' # XFAIL expected to fail' : ''}`
    : `not ok ${n} ${id} # ${reason(`${v.verdict}, but expected ${v.expect}`)}`;
  return [...body.map((l) => `  ${l}`), tail];
}

/** A scenario file that did not load: one failed test, so that the run (exit 2) is not ok. */
function input_lines(n: number, file: string, r: Results): string[] {
  const errs = r.errors.filter((e) => e.file === file);
  return [...capped(errs.map(input_error_line), errs.length), `not ok ${n} ${name(file)} # ERROR input error`];
}

/** The whole run as KTAP, for tools that already parse kernel test output. */
export function format_ktap(r: Results): string {
  const bad_files = [...new Set(r.errors.map((e) => e.file))];
  const lines = [
    'KTAP version 1',
    `1..${r.variants.length + bad_files.length}`,
    diag(`kernel: ${r.kernel}`),
    ...r.variants.flatMap((v, i) => design_lines(i + 1, r, v)),
    ...bad_files.flatMap((f, i) => input_lines(r.variants.length + i + 1, f, r)),
  ];
  return `${lines.join('\n')}\n`;
}
