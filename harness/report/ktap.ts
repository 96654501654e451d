// KTAP version 1 (Documentation/dev-tools/ktap.rst): one test per variant,
// one subtest per scenario run. Subtest lines are indented by two spaces; the
// "# Subtest:" line follows the version line as KUnit prints it; diagnostics
// about a test come directly before its result line.

import type { Results, RunResult, VariantInfo } from '../measure/results.ts';
import { input_error_line, sanitise } from './common.ts';

/** A test description may hold any character but '#' and a newline. */
function name(s: string): string {
  return sanitise(s).replace(/#/g, '_').trim() || '(unnamed)';
}

function diag(s: string): string {
  return `# ${sanitise(s)}`;
}

function run_lines(n: number, run: RunResult): string[] {
  if (run.verdict === 'unsupported') {
    return [`ok ${n} ${name(run.scenario)} # SKIP unsupported: ${sanitise(run.unsupported ?? 'no reason given')}`];
  }
  const out = run.failures.map((f) => diag(`${f.step}: ${f.check}: ${f.message}`));
  if (run.verdict === 'error' && run.failures.length === 0) out.push(diag('error'));
  out.push(`${run.verdict === 'pass' ? 'ok' : 'not ok'} ${n} ${name(run.scenario)}`);
  return out;
}

/** The variant's runs in the order of r.scenarios (runs of unknown scenarios last). */
function runs_of(r: Results, v: VariantInfo): RunResult[] {
  const order = (run: RunResult): number => {
    const i = r.scenarios.findIndex((s) => s.id === run.scenario);
    return i < 0 ? r.scenarios.length : i;
  };
  return r.results.filter((run) => run.variant === v.name).sort((a, b) => order(a) - order(b));
}

function suite_lines(n: number, r: Results, v: VariantInfo): string[] {
  const runs = runs_of(r, v);
  const body = [
    'KTAP version 1',
    diag(`Subtest: ${name(v.name)}`),
    diag(`expect: ${v.expect}, verdict: ${v.verdict}`),
    `1..${runs.length}`,
    ...runs.flatMap((run, i) => run_lines(i + 1, run)),
  ];
  const ok = v.load_error === null && runs.every((run) => run.verdict === 'pass' || run.verdict === 'unsupported');
  const tail = v.load_error !== null ? [diag(`did not load: ${v.load_error}`)] : [];
  return [...body.map((l) => `  ${l}`), ...tail, `${ok ? 'ok' : 'not ok'} ${n} ${name(v.name)}`];
}

/** The whole run as KTAP, for tools that already parse kernel test output. */
export function format_ktap(r: Results): string {
  const lines = [
    'KTAP version 1',
    diag(`kernel: ${r.kernel}`),
    ...r.errors.map((e) => diag(`input error: ${input_error_line(e)}`)),
    `1..${r.variants.length}`,
    ...r.variants.flatMap((v, i) => suite_lines(i + 1, r, v)),
  ];
  return `${lines.join('\n')}\n`;
}
