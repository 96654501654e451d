// reports/results.json: the whole of Results. Other tools read it, so every
// object is rebuilt with its keys in the order harness/measure/results.ts
// declares them, whatever order the producer used.

import type {
  BenchRow, Coverage, DesignCost, Failure, InputError, Results, RunResult, ScalingRow, VariantInfo,
} from '../measure/results.ts';

function failure(f: Failure): Failure {
  return { step: f.step, check: f.check, message: f.message };
}

function coverage(c: Coverage): Coverage {
  return {
    contexts: c.contexts, add_notified: c.add_notified, removed_notified: c.removed_notified,
    dma_configured: c.dma_configured, iommu_probed: c.iommu_probed, iommu_released: c.iommu_released,
    missed: [...c.missed],
  };
}

function run(x: RunResult): RunResult {
  return {
    scenario: x.scenario, file: x.file, variant: x.variant, verdict: x.verdict,
    failures: x.failures.map(failure), unsupported: x.unsupported, coverage: coverage(x.coverage),
    steps_run: x.steps_run, events: x.events,
    ...(x.peak_heap_mb !== undefined ? { peak_heap_mb: x.peak_heap_mb } : {}),
  };
}

function cost(c: DesignCost | null): DesignCost | null {
  if (c === null) return null;
  return {
    bus_types: [...c.bus_types],
    core_edits: c.core_edits.map((e) => ({ file: e.file, what: e.what })),
    exported_symbols: [...c.exported_symbols],
    loc: c.loc,
  };
}

function variant(v: VariantInfo): VariantInfo {
  return {
    name: v.name, expect: v.expect, verdict: v.verdict, summary: v.summary,
    series: v.series.map((s) => ({ subject: s.subject, link: s.link })),
    cost: cost(v.cost), load_error: v.load_error,
  };
}

function bench(b: BenchRow): BenchRow {
  return {
    name: b.name, variant: b.variant, scenario: b.scenario, ops_per_sec: b.ops_per_sec,
    rme: b.rme, ratio: b.ratio, ratio_min: b.ratio_min, ratio_max: b.ratio_max, samples: b.samples,
    rounds: b.rounds, goal: b.goal, ties: [...b.ties], note: b.note,
  };
}

function scaling(s: ScalingRow): ScalingRow {
  return {
    name: s.name, variant: s.variant, scenario: s.scenario, small: s.small, large: s.large,
    cost_ratio: s.cost_ratio, small_ns: s.small_ns, large_ns: s.large_ns, rme_small: s.rme_small,
    rme_large: s.rme_large, goal: s.goal, note: s.note,
  };
}

function input_error(e: InputError): InputError {
  return { file: e.file, line: e.line, col: e.col, message: e.message };
}

/** Results in type order; JSON has no NaN or Infinity, so JSON.stringify writes them as null. */
export function format_json(r: Results): string {
  const ordered: Results = {
    kernel: r.kernel,
    variants: r.variants.map(variant),
    scenarios: r.scenarios.map((s) => ({ id: s.id, file: s.file, summary: s.summary })),
    results: r.results.map(run),
    bench: r.bench.map(bench),
    scaling: r.scaling.map(scaling),
    errors: r.errors.map(input_error),
    exit_code: r.exit_code,
  };
  return `${JSON.stringify(ordered, null, 2)}\n`;
}
