// What comes back from a worker is checked and cut before the reports see it: a worker runs a
// variant's code, and a 20 MB error message or a run that renamed itself must cost that run its
// detail, never the reports or another variant's row.
import type { RunResult } from './results.ts';

/** the longest message, step or reason a report shows */
export const TEXT_CAP = 4096;

/** `s` cut to `cap` characters, saying how much was cut. */
export function cap_text(s: string, cap = TEXT_CAP): string {
  if (typeof s !== 'string') return String(s).slice(0, cap);
  return s.length <= cap ? s : `${s.slice(0, cap)}... (${s.length - cap} more characters cut)`;
}

/** A run's result as the CLI keeps it: named by the CLI (not by what the worker said), its
 *  texts cut. */
export function capped_result(r: RunResult, names: { scenario: string; file: string; variant: string }): RunResult {
  return {
    ...r, ...names,
    unsupported: r.unsupported === null ? null : cap_text(r.unsupported),
    failures: r.failures.map((f) => ({ ...f, step: cap_text(f.step, 400), check: cap_text(f.check, 64), message: cap_text(f.message) })),
  };
}
