// The results of a run as plain data: everything the reports show is formatted from this.
// results.json is read by other tools, so the field names here are a contract.

export type Verdict = 'pass' | 'fail' | 'unsupported' | 'error';
export type VariantExpect = 'works' | 'fails';

export interface Failure {
  /** "step 7 (scenarios/iris-sm8550.yaml:21:5)" or "teardown" */
  step: string;
  /** the check that failed: "stream-ids", "dma-reaches-buffer", "isolation", "teardown-leak", ... */
  check: string;
  message: string;
}

/** Counts of context devices created by the variant in one run. */
export interface Coverage {
  contexts: number;
  add_notified: number;
  removed_notified: number;
  dma_configured: number;
  iommu_probed: number;
  iommu_released: number;
  /** context devices that missed one of the above, with what they missed */
  missed: string[];
}

/** The review findings (findings.ts): what a maintainer would object to, from the event log. */
export type FindingKind =
  | 'of_dma_configure_id-from-driver' | 'iommu-driver-api-from-client' | 'device-without-driver'
  | 'core-edit' | 'exported-symbol' | 'private-field-write';

export interface Finding {
  kind: FindingKind;
  message: string;
  /** occurrences (devices, calls) over the runs; 1 for the design's shape (core edits, exports) */
  count: number;
}

/** A client driver (its compatible) and the buses its context devices were put on. */
export interface ServedDriver { driver: string; buses: string[] }

/** The kernel a run booted: the probe flow and the out-of-tree series applied (patches.ts). */
export interface RunKernel { flow: string; patches: string[] }

export interface RunResult {
  scenario: string;
  file: string;
  variant: string;
  verdict: Verdict;
  failures: Failure[];
  /** why the design cannot serve this scenario without a further patch (verdict unsupported) */
  unsupported: string | null;
  coverage: Coverage;
  steps_run: number;
  events: number;
  kernel: RunKernel;
  /** the series without which this verdict would differ (found by running again without each) */
  needs: string[];
  /** review findings of this run */
  findings: Finding[];
  /** the client drivers the design served in this run */
  served: ServedDriver[];
  /** the most memory the run took in the worker running it: V8 heap in use and external
   *  memory (typed arrays) over their level at the start, MiB, sampled between steps; only
   *  when the run measures (--bench quick or full) */
  peak_heap_mb?: number;
}

/** bus: the bus an iommu_buses[] edit lists, null for an edit of another kind */
export interface CoreEdit { file: string; what: string; bus: string | null }

export interface DesignCost {
  bus_types: string[];
  core_edits: CoreEdit[];
  exported_symbols: string[];
  /** non-blank, non-comment lines of the variant's TypeScript */
  loc: number;
  /** what each further client driver adds, from the buses the runs put each driver's contexts
   *  on: a bus only one driver used is that driver's own (with its core edits); null before
   *  the runs (design_cost boots the variant alone) */
  per_driver: { drivers: string[]; buses: number; core_edits: number } | null;
}

export interface SeriesRef { subject: string; link: string }

export interface VariantInfo {
  name: string;
  expect: VariantExpect;
  /** works: some run passed and every other was unsupported; unsupported: every run was;
   *  fails: some run failed; error: it did not load or threw */
  verdict: 'works' | 'fails' | 'unsupported' | 'error';
  summary: string;
  series: SeriesRef[];
  cost: DesignCost | null;
  load_error: string | null;
  /** review findings over every run (findings.ts) */
  findings: Finding[];
}

export interface BenchRow {
  name: string;
  variant: string;
  scenario: string;
  /** operations per second of the median batch over every round */
  ops_per_sec: number;
  /** relative margin of error of that median (its 95% confidence interval), percent: how well
   *  the batches pin down that median, not how far the next run lands (see ratio_low) */
  rme: number;
  /** ops/s over the baseline's (flat-lookup): each batch of the row is timed right after a
   *  baseline batch of the same worker; a round's figure is the median over its pairs, and
   *  this is the median of the rounds' figures (those at the floor's kept speed) */
  ratio: number;
  /** what the rounds show: the 5th and 95th percentiles of the rounds' figures */
  ratio_low: number;
  ratio_high: number;
  /** every round's figure, in the order run (the baseline's are 1) */
  rounds: number[];
  /** per round, the floor's cost beside the row's batches: nanoseconds per operation */
  floor_ns: number[];
  /** the speeds the floor ran at in this variant's worker, ns per operation: one, or two when
   *  its costs split, the kept one first (only the rounds at the more common speed count) */
  floor_speeds: number[];
  /** whether the ratio lies inside the previous run's interval for the same row (the reports'
   *  previous results.json); null when there is none to compare with */
  inside_previous: boolean | null;
  /** batches timed, over all rounds */
  samples: number;
  /** the least ratio the row should reach (a goal, not a test); null when it has none */
  goal: number | null;
  /** variants whose row for the same benchmark cannot be ranked against this one: their
   *  intervals overlap */
  ties: string[];
  /** "not measured: failed verification" and the like; null for a measured row */
  note: string | null;
}

/** The cost of one operation with few and with many live objects. */
export interface ScalingRow {
  /** "context-create-destroy" (live context devices), "dma-map" (live mappings in a domain),
   *  "replay-step" (steps of the scenario replayed) */
  name: string;
  variant: string;
  scenario: string;
  small: number;
  large: number;
  /** the cost of one operation at `large` over its cost at `small`: each batch at `large` is
   *  timed right after one at `small`; a round's figure is the median over its pairs, and this
   *  is the median of the rounds' figures */
  cost_ratio: number;
  /** the 5th and 95th percentiles of the rounds' figures */
  cost_low: number;
  cost_high: number;
  /** every round's figure, in the order run */
  rounds: number[];
  /** cost of one operation in the median batch, nanoseconds, and its margin of error (percent) */
  small_ns: number;
  large_ns: number;
  rme_small: number;
  rme_large: number;
  /** the most cost_ratio should be */
  goal: number;
  note: string | null;
}

export interface InputError { file: string; line: number; col: number; message: string }

/** The model's cases against the committed observations of a real kernel (conformance/status.ts). */
export interface ConformanceSummary {
  agree: number;
  total: number;
  /** "Linux 7.3.4" */
  kernel: string;
  /** the recording's date, YYYY-MM-DD */
  recorded: string;
  /** the cases it does not agree on */
  disagreeing: string[];
}

/** One claim of the review threads (claims/ledger.yaml) and what this run's results say of it
 *  (harness/report/claims.ts). */
export interface ClaimOutcome {
  id: string;
  claim: string;
  /** who made it, and the message it was made in */
  who: string;
  link: string;
  /** untested: the run holds none of what the claim's query looks at (a variant or scenario
   *  left out) */
  status: 'upheld' | 'refuted' | 'qualified' | 'untested';
  /** the figures the status came from, in words */
  evidence: string;
}

export interface Results {
  kernel: string;
  variants: VariantInfo[];
  scenarios: Array<{ id: string; file: string; summary: string }>;
  results: RunResult[];
  bench: BenchRow[];
  scaling: ScalingRow[];
  /** scenario files that could not be loaded */
  errors: InputError[];
  /** 0, 1 or 2 as the CLI exits */
  exit_code: number;
  /** the claims ledger judged against these results; absent when no ledger was read */
  claims?: ClaimOutcome[];
  /** how far the model agrees with a real kernel's recorded observations (conformance/);
   *  absent when they were not read */
  conformance?: ConformanceSummary | null;
}
