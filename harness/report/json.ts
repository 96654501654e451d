// reports/results.json: the machine-readable whole of a run, in the shape docs/results.schema.json
// describes (SCHEMA_VERSION). Other tools read it, so every object is rebuilt with its keys in a
// fixed order, whatever order the producer used. Three things differ from the Results in memory:
// - a failure's place is split into fields (where, step, round, file, line, col);
// - repeated failures are kept as the first FAILURE_INSTANCES of each check, with every check's
//   full count in failure_counts, and the coverage's missed list is grouped by what was missed:
//   a run with ten thousand contexts failing alike stays a few lines;
// - a figure that was not measured is null, never 0.

import type {
  BenchRow, Coverage, DesignCost, Failure, Finding, InputError, Results, RunResult, ScalingRow, VariantInfo,
} from '../measure/results.ts';
import { measured } from '../measure/bench-stats.ts';
import { check_counts } from './common.ts';

/** Bumped when a field changes meaning or goes away (adding a field does not bump it). */
export const SCHEMA_VERSION = 1;
/** How many failures of one check a run keeps in full. */
export const FAILURE_INSTANCES = 5;
/** How many contexts a missed group names. */
export const MISSED_NAMED = 5;

/** Where a failure happened: a step of the scenario file, or a phase outside the steps. */
export interface FailurePlace {
  /** "step", or the phase: "boot", "teardown", "load" */
  where: string;
  /** the 1-based index in the expanded step list; null outside the steps */
  step: number | null;
  /** the `repeat` round numbers, outermost first, joined by '.'; null outside any repeat */
  round: string | null;
  file: string | null;
  line: number | null;
  col: number | null;
}

export type JsonFailure = FailurePlace & { check: string; message: string };

export interface JsonMissed { what: string; count: number; contexts: string[] }

const STEP_LABEL = /^step (\d+)(?: round ([\d.]+))?(?: \((.*):(\d+):(\d+)\))?$/;

/** The place a failure's step label names (harness/scenario/replay.ts step_label). */
export function failure_place(label: string): FailurePlace {
  const m = STEP_LABEL.exec(label);
  if (!m) return { where: label, step: null, round: null, file: null, line: null, col: null };
  const num = (s: string | undefined): number | null => (s === undefined ? null : Number(s));
  return { where: 'step', step: Number(m[1]), round: m[2] ?? null, file: m[3] ?? null, line: num(m[4]), col: num(m[5]) };
}

function failure(f: Failure): JsonFailure {
  return { check: f.check, message: f.message, ...failure_place(f.step) };
}

/** The first FAILURE_INSTANCES failures of each check, in their order. */
function kept_failures(fs: Failure[]): JsonFailure[] {
  const seen = new Map<string, number>();
  const out: JsonFailure[] = [];
  for (const f of fs) {
    const n = seen.get(f.check) ?? 0;
    seen.set(f.check, n + 1);
    if (n < FAILURE_INSTANCES) out.push(failure(f));
  }
  return out;
}

/** "ctx name (device): what" entries grouped by what; other shapes are their own group. */
function missed_groups(missed: string[]): JsonMissed[] {
  const groups = new Map<string, JsonMissed>();
  for (const m of missed) {
    const x = /^ctx (.+?)(?: \([^()]*\))?: (.+)$/s.exec(m);
    const what = x ? x[2]! : m;
    let g = groups.get(what);
    if (!g) groups.set(what, g = { what, count: 0, contexts: [] });
    g.count++;
    if (x && g.contexts.length < MISSED_NAMED) g.contexts.push(x[1]!);
  }
  return [...groups.values()];
}

function coverage(c: Coverage) {
  return {
    contexts: c.contexts, add_notified: c.add_notified, removed_notified: c.removed_notified,
    dma_configured: c.dma_configured, iommu_probed: c.iommu_probed, iommu_released: c.iommu_released,
    missed: missed_groups(c.missed),
  };
}

function run(x: RunResult) {
  return {
    scenario: x.scenario, file: x.file, variant: x.variant, verdict: x.verdict,
    failures: kept_failures(x.failures),
    failure_counts: check_counts([x]).map(([check, count]) => ({ check, count })),
    unsupported: x.unsupported, coverage: coverage(x.coverage),
    steps_run: x.steps_run, events: x.events,
    peak_heap_mb: x.peak_heap_mb ?? null,
    kernel: { flow: x.kernel.flow, patches: [...x.kernel.patches] },
    needs: [...x.needs],
    findings: x.findings.map(finding),
    served: x.served.map((d) => ({ driver: d.driver, buses: [...d.buses] })),
  };
}

function finding(f: Finding) {
  return { kind: f.kind, message: f.message, count: f.count };
}

function cost(c: DesignCost | null) {
  if (c === null) return null;
  return {
    bus_types: [...c.bus_types],
    core_edits: c.core_edits.map((e) => ({ file: e.file, what: e.what, bus: e.bus })),
    exported_symbols: [...c.exported_symbols],
    loc: c.loc,
    per_driver: c.per_driver ? { drivers: [...c.per_driver.drivers], buses: c.per_driver.buses, core_edits: c.per_driver.core_edits } : null,
  };
}

function variant(v: VariantInfo) {
  return {
    name: v.name, expect: v.expect, verdict: v.verdict, summary: v.summary,
    series: v.series.map((s) => ({ subject: s.subject, link: s.link })),
    cost: cost(v.cost), load_error: v.load_error,
    findings: v.findings.map(finding),
  };
}

/** The keys that lead a benchmark or scaling row, in this order; any others follow sorted. */
const ROW_KEYS = ['name', 'variant', 'scenario'];
/** Numbers of a row that say what was asked, not what was measured: kept when nothing was. */
const ASKED = new Set(['goal', 'small', 'large']);

/**
 * A benchmark or scaling row as it is, its keys in a fixed order (the measure layer owns its
 * fields), with every number that was not measured written as null: all of them in a row with
 * a note, and NaN or Infinity anywhere (JSON has neither). Lists of figures of a row not
 * measured are empty.
 */
function row(x: object, was_measured: boolean): Record<string, unknown> {
  const entries = Object.entries(x);
  const keys = [...ROW_KEYS.filter((k) => k in x), ...entries.map(([k]) => k).filter((k) => !ROW_KEYS.includes(k)).sort()];
  const value = (k: string, v: unknown): unknown => {
    if (typeof v === 'number') return (was_measured || ASKED.has(k)) && Number.isFinite(v) ? v : null;
    if (Array.isArray(v)) return !was_measured && v.every((e) => typeof e === 'number') ? [] : v.map((e) => value(k, e));
    return v;
  };
  const rec = x as Record<string, unknown>;
  return Object.fromEntries(keys.map((k) => [k, value(k, rec[k])]));
}

const bench = (b: BenchRow): Record<string, unknown> => row(b, measured(b));
const scaling = (s: ScalingRow): Record<string, unknown> => row(s, s.note === null);

function input_error(e: InputError): InputError {
  return { file: e.file, line: e.line, col: e.col, message: e.message };
}

/** The whole run as docs/results.schema.json describes it. */
export function json_results(r: Results) {
  return {
    schema_version: SCHEMA_VERSION,
    kernel: r.kernel,
    variants: r.variants.map(variant),
    scenarios: r.scenarios.map((s) => ({ id: s.id, file: s.file, summary: s.summary })),
    results: r.results.map(run),
    bench: r.bench.map(bench),
    scaling: r.scaling.map(scaling),
    errors: r.errors.map(input_error),
    exit_code: r.exit_code,
    claims: (r.claims ?? []).map((c) => ({ id: c.id, claim: c.claim, who: c.who, link: c.link, status: c.status, evidence: c.evidence })),
    conformance: r.conformance ? { agree: r.conformance.agree, total: r.conformance.total, kernel: r.conformance.kernel, recorded: r.conformance.recorded, disagreeing: [...r.conformance.disagreeing] } : null,
  };
}

export function format_json(r: Results): string {
  return `${JSON.stringify(json_results(r), null, 2)}\n`;
}
